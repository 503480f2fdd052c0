"""Store errors are one line, name the operation and never show a password.

Every public method of the `Store` facade is called against a database it cannot reach (on
SQLite: an engine pointed at a folder; on PostgreSQL: a database that does not exist on the
running server, reached with a password) and must raise `StoreError`, as reader's storage
tests do for each of its methods. A method added to the facade without a case here fails
`test_every_public_method_has_a_failure_case`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from cmsfeed.bounces.match import Target
from cmsfeed.errors import StoreError
from cmsfeed.lease_owner import LeaseOwner
from cmsfeed.store import SourceState, Store
from cmsfeed.store.bounces import SoftBouncePolicy
from cmsfeed.store.failures import database_failure, public_methods
from cmsfeed.store.outbox import OutboxRow
from cmsfeed.subscribers import QueuedDigest, Subscriber
from support.cli import CMSFEED
from support.items import make_item

SECRET = "s3cret-pw"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
READER = Subscriber("reader@example.org", send_time=time(8, 0))
ROW = OutboxRow(1, READER, "2026-11-23", "<m@example.org>", "en", ("a",), "sending", 1, T0, "l")
OWNER = LeaseOwner("host", 1, "token", "lease-1")
TARGET = Target(READER.id, READER.email, "hard", "5.1.1", "no such user", "verp", 1, T0)


def _drain(iterator: Iterator[Any]) -> list[Any]:
    return list(iterator)


# One call per public method, with arguments that reach the database (no early return).
CALLS: dict[str, Callable[[Store], object]] = {
    "apply_bounce": lambda s: s.apply_bounce(
        "key", TARGET, T0, T0, SoftBouncePolicy(3, timedelta(days=7))
    ),
    "available_items": lambda s: s.available_items(T0, T0, ["en"]),
    "claim": lambda s: s.claim(OWNER, T0, 5, timedelta(minutes=1)),
    "clear_signup_count": lambda s: s.clear_signup_count("signup-client:a"),
    "clear_signup_counts": lambda s: s.clear_signup_counts(),
    "complained_addresses": lambda s: s.complained_addresses(),
    "complained_at": lambda s: s.complained_at(READER.email),
    "confirm_subscriber": lambda s: s.confirm_subscriber(READER, 0, T0),
    "content_marker": lambda s: s.content_marker(),
    "count_signup": lambda s: s.count_signup("signup-client:a", timedelta(hours=1), T0),
    "count_items": lambda s: s.count_items(),
    "covered_items": lambda s: s.covered_items([READER.id], T0),
    "end_subscription": lambda s: s.end_subscription(READER.id, T0, "cli"),
    "erase_subscriber": lambda s: s.erase_subscriber(READER.id, READER.email),
    "end_pause": lambda s: s.end_pause("smtp:25"),
    "feed_counts": lambda s: s.feed_counts(),
    "get_item": lambda s: s.get_item("item-1"),
    "get_items": lambda s: s.get_items(["item-1"]),
    "get_subscriber": lambda s: s.get_subscriber(READER.email),
    "held_data": lambda s: s.held_data(READER.email),
    "is_bounce_processed": lambda s: s.is_bounce_processed("key"),
    "iter_subscribers": lambda s: _drain(s.iter_subscribers()),
    "lease_holders": lambda s: s.lease_holders(),
    "list_items": lambda s: s.list_items(),
    "list_subscribers": lambda s: s.list_subscribers(),
    "mark_failed": lambda s: s.mark_failed(ROW, "5.1.1", T0, cause="bounce", max_hard_failures=3),
    "mark_pinged": lambda s: s.mark_pinged("feeds/all/en.atom", T0),
    "mark_retry": lambda s: s.mark_retry(ROW, "4.2.1", T0),
    "mark_sent": lambda s: s.mark_sent(ROW, "250 ok", T0),
    "outbox_status": lambda s: s.outbox_status(),
    "pause": lambda s: s.pause("smtp:25"),
    "pauses": lambda s: s.pauses(),
    "pending_pings": lambda s: s.pending_pings(),
    "queue_digests": lambda s: s.queue_digests(
        [QueuedDigest(READER, T0, "2026-11-23", ("a",), "<m@example.org>")], T0
    ),
    "reactivate_subscriber": lambda s: s.reactivate_subscriber(READER.id, T0),
    "record_hard_failure": lambda s: s.record_hard_failure(READER.id, "5.1.1", T0, 3),
    "record_hashes": lambda s: s.record_hashes({"feeds/all/en.atom": "h"}, T0),
    "record_pause": lambda s: s.record_pause("smtp:25", "rcpt", "421", T0, T0),
    "release": lambda s: s.release(ROW),
    "remove_subscriber": lambda s: s.remove_subscriber(READER.id),
    "renew_lease": lambda s: s.renew_lease("lease-1", T0),
    "resubscribe_subscriber": lambda s: s.resubscribe_subscriber(READER.id, 1),
    "retry_failed": lambda s: s.retry_failed(T0),
    "save_preferences": lambda s: s.save_preferences(READER, 1),
    "save_source_state": lambda s: s.save_source_state(SourceState("seed", etag='"1"')),
    "save_subscriber": lambda s: s.save_subscriber(READER, T0),
    "schema_revision": lambda s: s.schema_revision(),
    "sent_by_id": lambda s: s.sent_by_id(1),
    "sent_by_message_id": lambda s: s.sent_by_message_id("<m@example.org>"),
    "sent_message_ids": lambda s: s.sent_message_ids(),
    "set_subscriber_status": lambda s: s.set_subscriber_status(READER.id, "unsubscribed"),
    "signup_window": lambda s: s.signup_window("signup-client:a", T0),
    "source_state": lambda s: s.source_state("seed"),
    "subscriber_ids_by_email": lambda s: s.subscriber_ids_by_email([READER.email]),
    "suspend_subscriber": lambda s: s.suspend_subscriber(READER.id, "5.1.1", T0),
    "tag_item": lambda s: s.tag_item("item-1", language="en"),
    "unsubscribe_subscriber": lambda s: s.unsubscribe_subscriber(READER.id),
    "upgrade": lambda s: s.upgrade(),
    "write_subscribers": lambda s: s.write_subscribers([READER], [], T0, "cli"),
    "upsert_items": lambda s: s.upsert_items([make_item("Saiga calving")], T0),
}
# Methods that reach no database themselves; why, for each.
NO_DATABASE = {
    "close": "disposes the connection pool",
    "writer": "builds an ItemWriter; its own methods report their failures",
    "copy_into": "takes a second store: test_a_copy_names_the_store_that_failed",
    "signup_counts_reachable": "the limits library's health check: a failure is its answer False",
}
# The first contact with a database says what could not be done in words, and so does the
# ItemWriter (item_writer.py) that `upsert_items` hands a fetch to.
WORDED = {
    "upgrade": "cannot open or migrate the database",
    "schema_revision": "cannot connect",
    "upsert_items": "cannot write items",
}


def test_every_public_method_has_a_failure_case() -> None:
    assert set(public_methods(Store)) == set(CALLS) | set(NO_DATABASE)


@pytest.fixture
def unreachable(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """A store whose database cannot be reached, on the backend of this parametrization."""
    if store_url.startswith("sqlite"):
        folder = tmp_path / "a-folder"
        folder.mkdir()
        store = Store(create_engine(f"sqlite:///{folder}"), f"sqlite:///{folder}")
    else:
        url = make_url(store_url).set(password=SECRET, database="cmsfeed_no_such_database")
        store = Store.open(url.render_as_string(hide_password=False), upgrade=False)
    yield store
    store.close()


@pytest.mark.parametrize("method", sorted(CALLS))
def test_each_method_turns_a_database_failure_into_one_store_error(
    unreachable: Store, method: str
) -> None:
    with pytest.raises(StoreError) as raised:
        CALLS[method](unreachable)
    message = str(raised.value)
    assert message.startswith(f"{unreachable.label}: {WORDED.get(method, f'{method} failed')}: ")
    assert "\n" not in message
    assert SECRET not in message


def test_a_copy_names_the_store_that_failed(unreachable: Store, tmp_path: Path) -> None:
    working = Store.open(f"sqlite:///{tmp_path / 'working.db'}")
    try:
        for source, target in ((working, unreachable), (unreachable, working)):
            with pytest.raises(StoreError) as raised:
                source.copy_into(target)
            assert str(raised.value).startswith(f"{unreachable.label}: cannot connect: ")
            assert SECRET not in str(raised.value)
    finally:
        working.close()


# Anything a password may hold but the mask itself ("**" would survive as part of "***").
PASSWORDS = st.text(st.characters(exclude_characters="*", exclude_categories=["Cs"]), min_size=1)


@given(password=PASSWORDS, before=st.text(max_size=20), after=st.text(max_size=20))
def test_a_password_the_driver_quotes_never_reaches_the_message(
    password: str, before: str, after: str
) -> None:
    url = URL.create("postgresql+psycopg", "cmsfeed", password, "db.internal", 5432, "cmsfeed")
    store = Store(create_engine(url), url.render_as_string(hide_password=True))
    driver = Exception(f"{before}password {password} was refused{after}".replace("\n", " "))
    failure = database_failure(store, "list_items", OperationalError("SELECT 1", {}, driver))
    prefix = f"{store.label}: list_items failed: "
    assert str(failure).startswith(prefix)
    assert password not in str(failure).removeprefix(prefix)
    store.close()


@pytest.mark.parametrize(
    "url",
    [
        "cmsfeed:s3cret@db.internal/cmsfeed",  # the scheme forgotten
        "postgresql://cmsfeed:s3cret@db:54x2/cmsfeed",  # a port that is no number
        "nosuchdb://cmsfeed:s3cret@db/cmsfeed",  # an unknown kind of database
    ],
)
def test_a_bad_database_url_is_reported_without_its_password(url: str) -> None:
    with pytest.raises(StoreError) as raised:
        Store.open(url)
    assert "s3cret" not in str(raised.value)
    assert "cmsfeed:***@" in str(raised.value)
    assert "\n" not in str(raised.value)


# Every command that opens the store, as the operator types it.
STORE_COMMANDS = [
    ("db", "status"),
    ("db", "upgrade"),
    ("db", "copy", "--to", "sqlite:///{tmp}/copy.db"),
    ("ingest",),
    ("items", "list"),
    ("subscribers", "list"),
    ("digest", "status"),
    ("digest", "retry"),
    ("digest", "send"),
    ("bounces", "import", "{tmp}"),
    ("check",),  # prints what is valid on stdout first; the failure is still one line
]


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_missing_postgresql_database_is_one_line_for_every_command(
    postgres_url: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = make_url(postgres_url).set(password=SECRET, database="cmsfeed_no_such_database")
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    args = [part.format(tmp=tmp_path) for part in command]
    result = subprocess.run(
        [*CMSFEED, "--config", str(tmp_path / "config.toml"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "CMSFEED_STORE__URL": url.render_as_string(hide_password=False),
        },
    )
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line]
    assert len(lines) == 1, result.stderr
    label = url.render_as_string(hide_password=True)
    assert lines[0].startswith(f"error: {label}: "), lines[0]
    assert 'database "cmsfeed_no_such_database" does not exist' in lines[0]
    assert SECRET not in result.stdout + result.stderr
