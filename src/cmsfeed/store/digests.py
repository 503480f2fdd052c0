"""Subscribers and the digest outbox. Does I/O (the database).

The outbox is transactional: a digest is queued as one row per (subscriber, period), unique,
inserted with ON CONFLICT DO NOTHING in the same transaction that advances the subscriber's
cursor (guarded by the cursor's old value, so two workers never queue the same period twice).
Senders claim rows with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, one UPDATE on SQLite);
a row whose lease ran out, or whose owner is seen to be dead, is claimed again and sent with
the same Message-ID (store/outbox.py). Suspension and reactivation are here, for delivery
and for bounces read later by mail alike.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.model import Item
from cmsfeed.store.items import Store
from cmsfeed.store.outbox import OutboxRow, _charge
from cmsfeed.store.outbox_status import OutboxError, OutboxReports, OutboxStatus
from cmsfeed.store.rows import insert_ignoring_conflicts
from cmsfeed.store.schema import FORGIVEN, bounces, items, outbox, subscribers
from cmsfeed.store.subscriber_records import SubscriberRecords
from cmsfeed.store.subscriber_rows import subscriber_from_row, subscriber_values
from cmsfeed.subscribers import QueuedDigest, Status, Subscriber

_CHUNK = 500


class DigestStore(OutboxReports, SubscriberRecords):
    """The typed boundary over the `subscribers` and `outbox` tables (sending: store/outbox.py,
    reports: store/outbox_status.py, pauses: store/pauses.py, the operator's changes and their
    history: store/subscriber_records.py)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    # -- subscribers ------------------------------------------------------------------------

    def save_subscriber(self, subscriber: Subscriber, now: datetime) -> Subscriber:
        """Insert, or update the preferences (and activate) an existing address.

        The cursors of an existing subscriber are kept, so a change of preferences never
        resends old items. An unsubscribed address becomes active again only when `subscriber`
        is active (a confirmed sign-up, the operator, or the config file).
        """
        values = subscriber_values(subscriber)
        try:
            with self.engine.begin() as connection:
                statement = insert_ignoring_conflicts(connection, subscribers)
                connection.execute(
                    statement,
                    [
                        {
                            **values,
                            "status": subscriber.status,
                            "origin": subscriber.origin,
                            "created_at": subscriber.created_at or now,
                            "confirmed_at": subscriber.confirmed_at
                            or (now if subscriber.status == "active" else None),
                            "covered_until": subscriber.covered_until,
                            "last_slot_at": subscriber.last_slot_at,
                            "hard_failures": 0,
                        }
                    ],
                )
                old = self._row(connection, subscriber.id)
                assert old is not None
                if subscriber.status == "active" and old.status != "active":
                    values.update(
                        status="active",
                        confirmed_at=now,
                        hard_failures=0,
                        suspended_at=None,
                        suspended_reason=None,
                        last_slot_at=None,
                        covered_until=now,
                    )
                connection.execute(
                    update(subscribers).where(subscribers.c.id == subscriber.id).values(**values)
                )
                saved = self._row(connection, subscriber.id)
        except SQLAlchemyError as err:
            raise self._fail("save a subscriber", err) from err
        assert saved is not None
        return saved

    def get_subscriber(self, email_or_id: str) -> Subscriber | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(subscribers).where(
                        or_(
                            subscribers.c.id == email_or_id,
                            func.lower(subscribers.c.email) == email_or_id.lower(),
                        )
                    )
                )
                .mappings()
                .first()
            )
        return subscriber_from_row(row) if row else None

    def _row(self, connection: Connection, subscriber_id: str) -> Subscriber | None:
        row = (
            connection.execute(select(subscribers).where(subscribers.c.id == subscriber_id))
            .mappings()
            .first()
        )
        return subscriber_from_row(row) if row else None

    def iter_subscribers(
        self, statuses: Sequence[str] | None = None, chunk_size: int = _CHUNK
    ) -> Iterator[list[Subscriber]]:
        """Subscribers in chunks, by id, so memory stays flat however many there are."""
        after = ""
        while True:
            query = (
                select(subscribers)
                .where(subscribers.c.id > after)
                .order_by(subscribers.c.id)
                .limit(chunk_size)
            )
            if statuses:
                query = query.where(subscribers.c.status.in_(list(statuses)))
            with self.engine.connect() as connection:
                chunk = [subscriber_from_row(row) for row in connection.execute(query).mappings()]
            if chunk:
                yield chunk
            if len(chunk) < chunk_size:
                return
            after = chunk[-1].id

    def list_subscribers(self) -> list[Subscriber]:
        return [sub for chunk in self.iter_subscribers() for sub in chunk]

    def set_status(self, subscriber_id: str, status: Status) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                update(subscribers).where(subscribers.c.id == subscriber_id).values(status=status)
            )
        return bool(result.rowcount)

    # -- suspension (delivery and bounces alike) ----------------------------------------------

    def suspend_subscriber(self, subscriber_id: str, reason: str, at: datetime) -> bool:
        """Suspend an active subscriber at once (a hard bounce read later by mail); True when
        this changed their status. The reason is what `subscribers list` shows."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(subscribers)
                .where(subscribers.c.id == subscriber_id, subscribers.c.status == "active")
                .values(status="suspended", suspended_at=at, suspended_reason=reason[:500])
            )
        return bool(result.rowcount)

    def record_hard_failure(
        self, subscriber_id: str, reason: str, at: datetime, max_hard_failures: int
    ) -> bool:
        """Count one hard failure; suspend at `max_hard_failures` in a row (a sent digest
        resets the count). True when this suspended the subscriber."""
        with self.engine.begin() as connection:
            return _charge(connection, subscriber_id, reason, at, max_hard_failures)

    def reactivate_subscriber(self, subscriber_id: str, now: datetime) -> int | None:
        """Undo a suspension: active again, failures forgotten (the hard-failure count, and the
        soft bounces read by mail so far, which are kept but marked `forgiven`), cursors kept
        (so the next digest covers the time away), and the digests cancelled because of the
        suspension queued again. None when the subscriber is not suspended; else how many
        were queued."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(subscribers)
                .where(subscribers.c.id == subscriber_id, subscribers.c.status == "suspended")
                .values(status="active", hard_failures=0, suspended_at=None, suspended_reason=None)
            )
            if not result.rowcount:
                return None
            # Else the next soft bounce would count those from before and suspend them again.
            connection.execute(
                update(bounces)
                .where(
                    bounces.c.subscriber_id == subscriber_id,
                    bounces.c.kind == "soft",
                    bounces.c.action != "stale",
                )
                .values(action=FORGIVEN)
            )
            requeued = connection.execute(
                update(outbox)
                .where(
                    outbox.c.subscriber_id == subscriber_id,
                    outbox.c.status == "cancelled",
                    outbox.c.cause == "suspended",
                )
                .values(status="queued", next_attempt_at=now, attempts=0, cause=None)
            )
        return int(requeued.rowcount)

    def remove_subscriber(self, subscriber_id: str) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(subscribers).where(subscribers.c.id == subscriber_id)
            )
        return bool(result.rowcount)

    # -- building a round -------------------------------------------------------------------

    def available_items(
        self, lower: datetime, now: datetime, languages: Iterable[str]
    ) -> list[Item]:
        """Items first seen or published after `lower` and available by `now` (both known)."""
        query = (
            select(items)
            .where(or_(items.c.first_seen_at > lower, items.c.published_at > lower))
            .where(items.c.first_seen_at <= now, items.c.published_at <= now)
            .where(items.c.language.in_(sorted(set(languages))))
            .order_by(items.c.published_at.desc(), items.c.id)
        )
        with self.engine.connect() as connection:
            return self.store._materialize(connection, query)

    def get_items(self, item_ids: Sequence[str]) -> dict[str, Item]:
        found: dict[str, Item] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(item_ids), _CHUNK):
                chunk = list(item_ids[start : start + _CHUNK])
                for item in self.store._materialize(
                    connection, select(items).where(items.c.id.in_(chunk))
                ):
                    found[item.id] = item
        return found

    def covered_items(self, subscriber_ids: Sequence[str], since: datetime) -> dict[str, set[str]]:
        """The items already queued for each subscriber in digests created since `since`."""
        covered: dict[str, set[str]] = defaultdict(set)
        with self.engine.connect() as connection:
            for start in range(0, len(subscriber_ids), _CHUNK):
                chunk = list(subscriber_ids[start : start + _CHUNK])
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
        try:
            with self.engine.begin() as connection:
                queued = self._queue_batch(connection, digests, now)
                if queued is not None:
                    return queued
            with self.engine.begin() as connection:
                return self._queue_each(connection, digests, now)
        except SQLAlchemyError as err:
            raise self._fail("queue digests", err) from err

    def _guard(self) -> Any:
        return (
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

    def _guard_params(self, digest: QueuedDigest, now: datetime) -> dict[str, Any]:
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

    def _rows(self, digests: Sequence[QueuedDigest], now: datetime) -> list[dict[str, Any]]:
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
        self, connection: Connection, digests: Sequence[QueuedDigest], now: datetime
    ) -> int | None:
        result = connection.execute(self._guard(), [self._guard_params(d, now) for d in digests])
        if result.rowcount != len(digests):
            connection.rollback()
            return None
        rows = self._rows(digests, now)
        if not rows:
            return 0
        # RETURNING, not rowcount: a many-row insert on PostgreSQL reports no usable rowcount.
        statement = insert_ignoring_conflicts(connection, outbox).returning(outbox.c.id)
        return len(connection.execute(statement, rows).all())

    def _queue_each(
        self, connection: Connection, digests: Sequence[QueuedDigest], now: datetime
    ) -> int:
        queued = 0
        statement = insert_ignoring_conflicts(connection, outbox).returning(outbox.c.id)
        for digest in digests:
            if not connection.execute(self._guard(), self._guard_params(digest, now)).rowcount:
                continue
            rows = self._rows([digest], now)
            if rows:
                queued += len(connection.execute(statement, rows).all())
        return queued


__all__ = [
    "DigestStore",
    "OutboxError",
    "OutboxRow",
    "OutboxStatus",
    "QueuedDigest",
    "subscriber_values",
]
