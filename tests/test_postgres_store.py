"""The store on both backends: migrations up and down, and what several workers sharing one
PostgreSQL database do at once (queue, claim, record feed changes, migrate)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from cmsfeed.digest.select import plan_round
from cmsfeed.lease_owner import this_process
from cmsfeed.store import Store, migrate
from cmsfeed.store.schema import item_topics, items, metadata, outbox
from cmsfeed.subscribers import Subscriber
from support.items import make_item

T0 = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate._alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_migrations_go_up_one_by_one_down_to_nothing_and_up_again(store_url: str) -> None:
    store = Store.open(store_url, upgrade=False)
    try:
        assert migrate.current_revision(store.engine) is None
        for revision in revisions():
            migrate.upgrade(store.engine, revision)
            assert migrate.current_revision(store.engine) == revision
        with store.engine.begin() as connection:
            command.downgrade(migrate._alembic_config(connection), "base")
        assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
        store.upgrade()
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []  # the migrations build exactly the tables the code uses
    finally:
        store.close()


def test_topics_survive_the_item_topics_rebuild_both_ways(store_url: str) -> None:
    # 0013 makes item_topics a WITHOUT ROWID table on SQLite by copying it: no topic is lost
    # up or down, and deleting an item still deletes its topics.
    store = Store.open(store_url, upgrade=False)
    try:
        migrate.upgrade(store.engine, "0012")
        tagged = [make_item(f"rebuild-{n}", topics=("saiga", "argali")[: n % 3]) for n in range(30)]
        store.upsert_items(tagged, T0)
        expected = {item.id: set(item.topics) for item in tagged}

        def stored_topics() -> dict[str, set[str]]:
            return {item.id: set(item.topics) for item in store.list_items()}

        assert stored_topics() == expected
        if store.engine.dialect.name == "sqlite":
            # A rebuild cut short before (its table left), and a topic of an item long gone
            # (written with foreign keys off): the upgrade still goes through.
            with store.engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.execute(item_topics.insert().values(item_id="gone", topic_id="x"))
                connection.exec_driver_sql("CREATE TABLE item_topics_rebuilt (item_id TEXT)")
            store.engine.dispose()  # the next connections have foreign keys on again
        store.upgrade()
        assert stored_topics() == expected
        if store.engine.dialect.name == "sqlite":
            with store.engine.connect() as connection:
                sql = connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'item_topics'"
                ).scalar_one()
            assert "WITHOUT ROWID" in sql
        with store.engine.begin() as connection:
            command.downgrade(migrate._alembic_config(connection), "0012")
        assert stored_topics() == expected
        store.upgrade()
        with store.engine.begin() as connection:
            connection.execute(items.delete().where(items.c.id == tagged[1].id))
        del expected[tagged[1].id]
        with store.engine.connect() as connection:
            left = {row[0] for row in connection.execute(select(item_topics.c.item_id))}
        assert left == {item_id for item_id, topics in expected.items() if topics}
    finally:
        store.close()


def test_an_outbox_id_is_never_given_twice(store_url: str) -> None:
    # A VERP token names an outbox id: once the newest row is deleted (its reader removed),
    # a new row must not take its id, or a late bounce would name another reader's digest.
    store = Store.open(store_url)
    try:
        digests = store
        for address in ("gone@example.org", "new@example.org"):
            digests.save_subscriber(Subscriber(address), T0)
        gone, new = (digests.get_subscriber(a) for a in ("gone@example.org", "new@example.org"))
        assert gone is not None and new is not None
        row = {
            "period": "d:2025-03-01T06:00:00Z",
            "message_id": "<m@x>",
            "language": "en",
            "item_ids": "[]",
            "status": "sent",
            "created_at": T0,
            "attempts": 1,
            "next_attempt_at": T0,
        }
        with store.engine.begin() as connection:
            connection.execute(outbox.insert(), [{**row, "subscriber_id": gone.id}])
            (first,) = connection.execute(select(outbox.c.id)).scalars()
        assert digests.remove_subscriber(gone.id)
        with store.engine.begin() as connection:
            connection.execute(outbox.insert(), [{**row, "subscriber_id": new.id}])
            (second,) = connection.execute(select(outbox.c.id)).scalars()
        assert second > first
    finally:
        store.close()


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(n)` in `count` threads released together; return their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def test_workers_migrating_at_once_take_turns(postgres_url: str) -> None:
    stores = at_once(4, lambda _: Store.open(postgres_url))
    for store in stores:
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        store.close()


def test_a_round_queued_by_several_workers_at_once_has_one_row_per_subscriber(
    postgres_url: str,
) -> None:
    store = Store.open(postgres_url)
    digests = store
    for n in range(300):
        digests.save_subscriber(Subscriber(f"r{n}@example.org", frequency="immediate"), T0)

    store.upsert_items(
        [make_item("Argali counted", topics=("argali",), published_at=T0)],
        T0 + timedelta(minutes=1),
    )
    now = T0 + timedelta(minutes=5)

    def queue(_: int) -> int:
        # Each worker plans from what it read, then queues: the guards decide who wins.
        subscribers = digests.list_subscribers()
        candidates = digests.available_items(T0, now, ["en"])
        decisions = plan_round(
            subscribers, candidates, {}, now, send_when_empty=False, domain="cmsfeed.example"
        )
        return digests.queue_digests(decisions, now)

    queued = at_once(3, queue)
    assert sum(queued) == 300
    assert digests.outbox_status().counts["queued"] == 300
    store.close()


def test_senders_claim_disjoint_rows_with_skip_locked(postgres_url: str) -> None:
    store = Store.open(postgres_url)
    digests = store
    for n in range(200):
        digests.save_subscriber(Subscriber(f"r{n}@example.org", frequency="immediate"), T0)

    store.upsert_items(
        [make_item("Saiga calves", topics=("saiga",), published_at=T0)], T0 + timedelta(minutes=1)
    )
    now = T0 + timedelta(minutes=5)
    decisions = plan_round(
        digests.list_subscribers(),
        digests.available_items(T0, now, ["en"]),
        {},
        now,
        send_when_empty=False,
        domain="cmsfeed.example",
    )
    assert digests.queue_digests(decisions, now) == 200
    owners = [this_process() for _ in range(4)]
    claimed = at_once(4, lambda n: digests.claim(owners[n], now, 80, timedelta(minutes=5)))
    ids = [row.id for rows in claimed for row in rows]
    assert len(ids) == len(set(ids)) == 200  # nobody got a row twice; every row went out
    # A lease that ran out (its sender died) is claimed again, by someone else.
    later = now + timedelta(minutes=6)
    rescuer = this_process()
    again = digests.claim(rescuer, later, 500, timedelta(minutes=5))
    assert len(again) == 200 and {row.lease_owner for row in again} == {rescuer.lease}
    store.close()


def test_a_feed_change_is_recorded_once_when_workers_refresh_together(store_url: str) -> None:
    stores = [Store.open(store_url) for _ in range(3)]
    hashes = {f"feeds/topic{n}/en.atom": f"hash{n}" for n in range(50)}
    results = at_once(3, lambda n: stores[n].record_hashes(hashes, T0 + timedelta(seconds=n)))
    changed = [path for result in results for path in result.changed]
    assert sorted(changed) == sorted(hashes)  # each path changed once, in one worker
    # Every worker sees the same Last-Modified for a path afterwards.
    moments = {tuple(sorted(result.changed_at.items())) for result in results}
    assert len(moments) == 1
    for store in stores:
        store.close()


@pytest.mark.parametrize("table", sorted(metadata.tables))
def test_every_table_exists_after_open(store: Store, table: str) -> None:
    assert table in inspect(store.engine).get_table_names()
