"""Queueing digests in the outbox, and what each subscriber was already queued.
Does I/O (the database). A part of the `Store` facade (store/facade.py).

The outbox is transactional: a digest is queued as one row per (subscriber, period), unique,
inserted with ON CONFLICT DO NOTHING in the same transaction that advances the subscriber's
cursor (guarded by the cursor's old value, so two workers never queue the same period twice).
Sending from it: store/outbox.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select, update

from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import chunks, insert_ignoring_conflicts
from cmsfeed.store.schema import outbox, subscribers
from cmsfeed.subscribers import QueuedDigest


class OutboxQueue(StorePart):
    def covered_items(self, subscriber_ids: Sequence[str], since: datetime) -> dict[str, set[str]]:
        """The items already queued for each subscriber in digests created since `since`."""
        covered: dict[str, set[str]] = defaultdict(set)
        with self.engine.connect() as connection:
            for chunk in chunks(subscriber_ids):
                for subscriber_id, item_ids in connection.execute(
                    select(outbox.c.subscriber_id, outbox.c.item_ids).where(
                        outbox.c.subscriber_id.in_(chunk), outbox.c.created_at >= since
                    )
                ):
                    covered[subscriber_id].update(json.loads(item_ids))
        return covered

    def queue_digests(self, digests: Sequence[QueuedDigest], now: datetime) -> int:
        """Queue digests (and advance cursors) in one transaction; return how many were new.

        A digest whose subscriber's cursor moved meanwhile (another worker queued it) is
        skipped; so is a period already in the outbox. The whole batch is tried at once;
        only when some guard fails is it redone row by row.
        """
        if not digests:
            return 0
        with self.engine.begin() as connection:
            queued = _queue_batch(connection, digests, now)
            if queued is not None:
                return queued
        with self.engine.begin() as connection:
            return _queue_each(connection, digests, now)


# Advances a subscriber's cursors only from the values the digest was built on.
_GUARD = (
    update(subscribers)
    .where(
        subscribers.c.id == bindparam("b_id"),
        subscribers.c.status == "active",
        or_(
            subscribers.c.last_slot_at == bindparam("b_last"),
            and_(subscribers.c.last_slot_at.is_(None), bindparam("b_last_none")),
        ),
        or_(
            subscribers.c.covered_until == bindparam("b_cover"),
            and_(subscribers.c.covered_until.is_(None), bindparam("b_cover_none")),
        ),
    )
    .values(last_slot_at=bindparam("b_slot"), covered_until=bindparam("b_now"))
)


def _guard_params(digest: QueuedDigest, now: datetime) -> dict[str, Any]:
    sub = digest.subscriber
    return {
        "b_id": sub.id,
        "b_last": sub.last_slot_at,
        "b_cover": sub.covered_until,
        "b_last_none": sub.last_slot_at is None,
        "b_cover_none": sub.covered_until is None,
        "b_slot": digest.slot,
        "b_now": now,
    }


def _rows(digests: Sequence[QueuedDigest], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "subscriber_id": d.subscriber.id,
            "period": d.period,
            "message_id": d.message_id,
            "language": d.subscriber.language,
            "item_ids": json.dumps(list(d.item_ids)),
            "status": "queued",
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for d in digests
        if d.message_id is not None
    ]


def _queue_batch(
    connection: Connection, digests: Sequence[QueuedDigest], now: datetime
) -> int | None:
    result = connection.execute(_GUARD, [_guard_params(d, now) for d in digests])
    if result.rowcount != len(digests):
        connection.rollback()
        return None
    rows = _rows(digests, now)
    if not rows:
        return 0
    # RETURNING, not rowcount: a many-row insert on PostgreSQL reports no usable rowcount.
    statement = insert_ignoring_conflicts(connection, outbox).returning(outbox.c.id)
    return len(connection.execute(statement, rows).all())


def _queue_each(connection: Connection, digests: Sequence[QueuedDigest], now: datetime) -> int:
    queued = 0
    statement = insert_ignoring_conflicts(connection, outbox).returning(outbox.c.id)
    for digest in digests:
        if not connection.execute(_GUARD, _guard_params(digest, now)).rowcount:
            continue
        rows = _rows([digest], now)
        if rows:
            queued += len(connection.execute(statement, rows).all())
    return queued
