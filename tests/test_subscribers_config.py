"""Subscribers declared in config.toml are a starting list: added when new to the store, never
applied again over what the reader or the operator did since."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.store import Store
from cmsfeed.store.schema import bounces
from cmsfeed.subscribers import Subscriber
from cmsfeed.subscriptions.starting_list import import_configured
from support.config import write_config
from support.subscriber import ok

SUBSCRIBER = """
[[subscribers]]
email = "anna@example.org"
language = "ru"
topics = ["argali"]
frequency = "daily"
time = "08:00"
timezone = "Asia/Almaty"
"""


def test_a_config_subscriber_is_added_once_with_its_origin(make_config, store, clock):
    config = make_config(extra=SUBSCRIBER)
    digests = store
    assert import_configured(config, digests, clock()) == len(config.subscribers) == 4
    anna = digests.get_subscriber("anna@example.org")
    assert anna is not None
    assert (anna.status, anna.origin, anna.topics, anna.timezone) == (
        "active",
        "config",
        ("argali",),
        "Asia/Almaty",
    )
    clock.now += timedelta(days=1)
    assert import_configured(config, digests, clock()) == 0  # the next start adds nothing
    assert digests.get_subscriber("anna@example.org") == anna
    (added,) = digests.held_data("anna@example.org").events
    assert (added.event, added.actor) == ("added", "config")


def test_what_the_reader_and_the_operator_did_stands(make_config, store, clock):
    config = make_config(extra=SUBSCRIBER + SUBSCRIBER.replace("anna", "boris"))
    digests = store
    import_configured(config, digests, clock())
    anna = digests.get_subscriber("anna@example.org")
    assert anna is not None
    # Anna saves weekly, Wednesday 10:00 on the web (the call the preferences page makes).
    weekly = replace(anna, frequency="weekly", weekday=2, send_time=time(10, 0), origin="web")
    digests.save_subscriber(weekly, clock())
    boris = digests.get_subscriber("boris@example.org")
    assert boris is not None and digests.end_subscription(boris.id, clock(), "cli") == 0

    changed = make_config(
        extra=(SUBSCRIBER + SUBSCRIBER.replace("anna", "boris")).replace('"argali"', '"saiga"')
    )
    assert import_configured(changed, digests, clock()) == 0
    anna_now = digests.get_subscriber("anna@example.org")
    assert anna_now is not None
    assert (anna_now.frequency, anna_now.weekday, anna_now.send_time, anna_now.topics) == (
        "weekly",
        2,
        time(10, 0),
        ("argali",),
    )
    boris_now = digests.get_subscriber("boris@example.org")
    assert boris_now is not None and boris_now.status == "unsubscribed"


def test_an_unsubscribed_or_suspended_config_subscriber_stays_so(make_config, store, clock):
    config = make_config(extra=SUBSCRIBER + SUBSCRIBER.replace("anna", "vera"))
    digests = store
    import_configured(config, digests, clock())
    anna = digests.get_subscriber("anna@example.org")
    vera = digests.get_subscriber("vera@example.org")
    assert anna is not None and vera is not None
    assert digests.set_subscriber_status(anna.id, "unsubscribed")  # the one-click unsubscribe
    assert digests.suspend_subscriber(vera.id, "550 5.1.1 no such user", clock())
    import_configured(config, digests, clock())
    statuses = {s.email: s.status for s in digests.list_subscribers()}
    assert statuses["anna@example.org"] == "unsubscribed"
    assert statuses["vera@example.org"] == "suspended"


EMAILS = st.lists(
    st.from_regex(r"[a-z][a-z0-9]{0,8}@example\.(net|com)", fullmatch=True),
    min_size=1,
    max_size=12,
    unique=True,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(emails=EMAILS)
def test_n_config_subscribers_in_n_out_and_twice_changes_nothing(
    make_config, tmp_path: Path, emails: list[str], clock
):
    extra = "".join(f'[[subscribers]]\nemail = "{e}"\n' for e in emails)
    config = make_config(extra=extra)
    store = Store.open(f"sqlite:///{tmp_path / f'n{len(emails)}-{abs(hash(tuple(emails)))}.db'}")
    try:
        digests = store
        assert import_configured(config, digests, clock()) == len(config.subscribers)
        first = digests.list_subscribers()
        bundled = ["inspektor@example.org", "ranger@example.org", "researcher@example.org"]
        assert sorted(s.email for s in first) == sorted([*emails, *bundled])
        assert {s.origin for s in first} == {"config"}
        assert import_configured(config, digests, clock()) == 0
        assert digests.list_subscribers() == first
    finally:
        store.close()


def test_digest_preview_keeps_preferences_saved_on_the_web(tmp_path: Path, store_url: str):
    # The issue as reported: a `digest preview` (or `cmsfeed run`) put them back to daily.
    path = write_config(tmp_path, None, store_url=store_url)
    path.write_text(path.read_text(encoding="utf-8") + SUBSCRIBER.replace('"ru"', '"en"'))
    preview = ("digest", "preview", "--subscriber", "anna@example.org", "--out", "preview")
    ok(path, *preview)
    store = Store.open(store_url)
    try:
        digests = store
        anna = digests.get_subscriber("anna@example.org")
        assert anna is not None and anna.origin == "config" and anna.created_at is not None
        weekly = replace(anna, frequency="weekly", weekday=2, send_time=time(10, 0))
        digests.save_subscriber(weekly, anna.created_at)  # what the preferences page does
    finally:
        store.close()
    ok(path, *preview)
    (record,) = json.loads(ok(path, "subscribers", "list", "--format", "json"))
    assert (record["frequency"], record["weekday"], record["time"], record["origin"]) == (
        "weekly",
        "wed",
        "10:00",
        "config",
    )


def test_a_complained_config_address_new_to_the_store_is_added_unsubscribed(
    make_config, store, clock
):
    with store.engine.begin() as connection:
        connection.execute(
            bounces.insert().values(
                key="<r@x>",
                subscriber_id=Subscriber("anna@example.org").id,
                email="anna@example.org",
                kind="complaint",
                status=None,
                outbox_id=None,
                matched_by="recipient",
                action="unsubscribed",
                detail="abuse report",
                reported_at=clock(),
                processed_at=clock(),
            )
        )
    digests = store
    import_configured(make_config(extra=SUBSCRIBER), digests, clock())
    anna = digests.get_subscriber("anna@example.org")
    assert anna is not None and anna.status == "unsubscribed"
