"""`cmsfeed db copy --to URL`: a SQLite store moves to another database (PostgreSQL, and
SQLite without a server) with every item, subscriber and outbox row, and the copy goes on
working where the original stopped."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import insert, select

from cmsfeed.bounces.match import Target
from cmsfeed.cli import main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.delivery import queue_round, run_round
from cmsfeed.lease_owner import this_process
from cmsfeed.store import SourceState, Store
from cmsfeed.store.bounces import SoftBouncePolicy
from cmsfeed.store.schema import metadata, outbox
from cmsfeed.subscribers import Subscriber
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config
from support.items import make_item


def fill(store: Store, tmp_path: Path) -> FixedClock:
    """A store with something in every table and outbox rows in every state."""
    clock = FixedClock()
    digests = store
    for n in range(30):
        digests.save_subscriber(
            Subscriber(
                f"reader{n}@example.org",
                frequency="immediate",
                language="ru" if n % 3 == 0 else "en",
            ),
            clock(),
        )
    clock.advance(minutes=1)
    items = [make_item(f"Argali survey {n}", topics=("argali", "saiga")) for n in range(40)]
    items += [make_item(f"Аргали {n}", topics=("argali",), language="ru") for n in range(10)]
    store.upsert_items(items, clock())
    store.tag_item(items[0].id, topics=["bukhara-deer"])
    store.save_source_state(
        SourceState("news", etag='"abc"', last_modified="Mon", checked_at=clock(), last_error=None)
    )
    store.record_hashes({"feeds/argali/en.atom": "h1", "feeds/all/ru.rss": "h2"}, clock())
    store.mark_pinged("feeds/argali/en.atom", clock())
    clock.advance(minutes=5)
    delivery = build_delivery(digest_config(tmp_path), digests, clock, {"CMSFEED_SECRET": "s"})
    asyncio.run(run_round(delivery))  # 30 sent
    clock.advance(minutes=1)
    store.upsert_items(
        [make_item("Saiga calves", topics=("saiga",), published_at=clock())], clock()
    )
    clock.advance(minutes=1)
    queue_round(delivery, clock())  # 20 queued (the English readers), left unsent
    digests.mark_failed(
        digests.claim(this_process(), clock(), 3, timedelta(minutes=5))[0],
        "550 gone",
        clock(),
        cause="bounce",
        max_hard_failures=3,
    )
    digests.record_pause(
        "127.0.0.1:25", "auth", "AUTH 535 5.7.8 bad credentials", clock(), clock() + timedelta(1)
    )
    bounces = store  # a complaint read from the bounce mailbox
    sent = bounces.sent_by_message_id(digests.sent_message_ids()["reader5@example.org"][0])
    assert sent is not None
    target = Target(sent.subscriber_id, sent.email, "complaint", None, "abuse", "message-id")
    bounces.apply_bounce(
        "mid:<arf@mx>", target, clock(), clock(), SoftBouncePolicy(3, timedelta(3))
    )
    # The operator removes one Russian reader (history kept) and erases another, whose sent
    # digest stays in the outbox without its reader; neither had a digest queued.
    assert digests.end_subscription(Subscriber("reader0@example.org").id, clock(), "cli") == 0
    erased = digests.erase_subscriber(Subscriber("reader3@example.org").id, "reader3@example.org")
    assert (erased.digests_kept, erased.digests_cancelled) == (1, 0)
    store.count_signup("signup-client:abc", timedelta(hours=1), clock())
    return clock


def table_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    with store.engine.connect() as connection:
        return {
            table.name: [
                dict(row)
                for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in metadata.sorted_tables
        }


def test_copy_moves_every_row_and_the_copy_carries_on(tmp_path: Path, store_url: str) -> None:
    source_url = f"sqlite:///{tmp_path / 'old.db'}"
    source = Store.open(source_url)
    clock = fill(source, tmp_path)
    before = table_rows(source)
    assert all(before.values()), [name for name, rows in before.items() if not rows]
    source.close()

    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(tmp_path / "none.toml"),
            "db",
            "copy",
            "--from",
            source_url,
            "--to",
            store_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "outbox: 50 row(s)" in result.output and "items: 51 row(s)" in result.output

    target = Store.open(store_url)
    assert table_rows(target) == before  # every value, times included, as it was
    digests = target
    assert digests.outbox_status().counts == {
        "queued": 17,
        "sending": 2,
        "sent": 30,
        "failed": 1,
        "cancelled": 0,
    }
    # New outbox rows get new ids (the sequence moved past the copied ones).
    with target.engine.begin() as connection:
        new_id = connection.execute(
            insert(outbox)
            .values(
                subscriber_id=before["subscribers"][0]["id"],
                period="manual",
                message_id="<m>",
                language="en",
                item_ids="[]",
                status="cancelled",
                created_at=clock(),
                attempts=0,
                next_attempt_at=clock(),
            )
            .returning(outbox.c.id)
        ).scalar_one()
    assert new_id > max(row["id"] for row in before["outbox"])
    # The cursors came along: nothing already sent or queued is queued again.
    delivery = build_delivery(digest_config(tmp_path), digests, clock, {"CMSFEED_SECRET": "s"})
    assert queue_round(delivery, clock() + timedelta(minutes=1)).queued == 0
    target.close()


def test_copy_into_a_store_that_has_rows_is_refused(tmp_path: Path, store_url: str) -> None:
    source_url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(source_url).close()
    target = Store.open(store_url)
    target.upsert_items([make_item("Already here")], FixedClock()())
    target.close()
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(tmp_path / "none.toml"),
            "db",
            "copy",
            "--from",
            source_url,
            "--to",
            store_url,
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "items is not empty" in result.output
