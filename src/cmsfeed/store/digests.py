"""Subscribers and the digest outbox. Does I/O (the database).

The outbox is transactional: a digest is queued as one row per (subscriber, period), unique,
inserted with ON CONFLICT DO NOTHING in the same transaction that advances the subscriber's
cursor (guarded by the cursor's old value, so two workers never queue the same period twice).
Senders claim rows with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, one UPDATE on SQLite);
a row whose lease ran out (its sender died) is claimed again and sent with the same Message-ID.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.errors import StoreError
from cmsfeed.model import Item
from cmsfeed.store.items import Store, _first_line, _insert_ignoring_conflicts
from cmsfeed.store.schema import items, outbox, subscribers
from cmsfeed.subscribers import Frequency, QueuedDigest, Status, Subscriber

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A queued digest as a sender claims it, with its subscriber."""

    id: int
    subscriber: Subscriber
    period: str
    message_id: str
    language: str
    item_ids: tuple[str, ...]
    status: str
    attempts: int
    created_at: datetime
    lease_owner: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxError:
    email: str
    period: str
    status: str
    error: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    counts: dict[str, int] = field(default_factory=dict)
    last_errors: list[OutboxError] = field(default_factory=list)
    suspended: int = 0


def new_lease_owner() -> str:
    return uuid.uuid4().hex


class DigestStore:
    """The typed boundary over the `subscribers` and `outbox` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def _fail(self, what: str, err: SQLAlchemyError) -> StoreError:
        return StoreError(self.store.label, f"cannot {what}: {_first_line(err)}")

    # -- subscribers ------------------------------------------------------------------------

    def save_subscriber(self, subscriber: Subscriber, now: datetime) -> Subscriber:
        """Insert, or update the preferences (and activate) an existing address.

        The cursors of an existing subscriber are kept, so a change of preferences never
        resends old items. An unsubscribed address becomes active again only when `subscriber`
        is active (a confirmed sign-up, the operator, or the config file).
        """
        values = _subscriber_values(subscriber)
        try:
            with self.engine.begin() as connection:
                statement = _insert_ignoring_conflicts(connection, subscribers)
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
        return _subscriber(row) if row else None

    def _row(self, connection: Connection, subscriber_id: str) -> Subscriber | None:
        row = (
            connection.execute(select(subscribers).where(subscribers.c.id == subscriber_id))
            .mappings()
            .first()
        )
        return _subscriber(row) if row else None

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
                chunk = [_subscriber(row) for row in connection.execute(query).mappings()]
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
        statement = _insert_ignoring_conflicts(connection, outbox).returning(outbox.c.id)
        return len(connection.execute(statement, rows).all())

    def _queue_each(
        self, connection: Connection, digests: Sequence[QueuedDigest], now: datetime
    ) -> int:
        queued = 0
        statement = _insert_ignoring_conflicts(connection, outbox).returning(outbox.c.id)
        for digest in digests:
            if not connection.execute(self._guard(), self._guard_params(digest, now)).rowcount:
                continue
            rows = self._rows([digest], now)
            if rows:
                queued += len(connection.execute(statement, rows).all())
        return queued

    # -- sending ----------------------------------------------------------------------------

    def claim(self, owner: str, now: datetime, limit: int, lease: timedelta) -> list[OutboxRow]:
        """Lease up to `limit` rows that are due (or whose lease ran out) to `owner`."""
        try:
            with self.engine.begin() as connection:
                candidates = (
                    select(outbox.c.id)
                    .where(
                        or_(
                            and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= now),
                            and_(outbox.c.status == "sending", outbox.c.lease_until < now),
                        )
                    )
                    .order_by(outbox.c.id)
                    .limit(limit)
                )
                if connection.dialect.name == "postgresql":
                    candidates = candidates.with_for_update(skip_locked=True)
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(candidates.scalar_subquery()))
                    .values(
                        status="sending",
                        lease_owner=owner,
                        lease_until=now + lease,
                        attempts=outbox.c.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                rows = (
                    connection.execute(
                        select(
                            *[column.label(f"o_{column.name}") for column in outbox.c], subscribers
                        )
                        .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                        .where(outbox.c.lease_owner == owner, outbox.c.status == "sending")
                        .order_by(outbox.c.id)
                    )
                    .mappings()
                    .all()
                )
        except SQLAlchemyError as err:
            raise self._fail("claim digests", err) from err
        return [_outbox_row(row) for row in rows]

    def mark_sent(self, row: OutboxRow, reply: str, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                _MARK_SENT,
                {"m_id": row.id, "m_owner": row.lease_owner, "m_at": now, "m_reply": reply[:500]},
            )
            if row.subscriber.hard_failures:
                connection.execute(
                    update(subscribers)
                    .where(subscribers.c.id == row.subscriber.id)
                    .values(hard_failures=0)
                )

    def mark_retry(self, row: OutboxRow, error: str, next_attempt_at: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == row.id, outbox.c.lease_owner == row.lease_owner)
                .values(
                    status="queued",
                    next_attempt_at=next_attempt_at,
                    last_error=error[:500],
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def mark_failed(
        self,
        row: OutboxRow,
        error: str,
        now: datetime,
        *,
        hard: bool,
        max_hard_failures: int,
        status: str = "failed",
    ) -> bool:
        """Mark the row failed; return True when this suspended the subscriber."""
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == row.id, outbox.c.lease_owner == row.lease_owner)
                .values(
                    status=status,
                    last_error=error[:500],
                    sent_at=None,
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=now,
                )
            )
            if not hard:
                return False
            connection.execute(
                update(subscribers)
                .where(subscribers.c.id == row.subscriber.id)
                .values(hard_failures=subscribers.c.hard_failures + 1)
            )
            result = connection.execute(
                update(subscribers)
                .where(
                    subscribers.c.id == row.subscriber.id,
                    subscribers.c.status == "active",
                    subscribers.c.hard_failures >= max_hard_failures,
                )
                .values(status="suspended")
            )
            return bool(result.rowcount)

    def retry_failed(self, now: datetime) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(
                update(outbox)
                .where(outbox.c.status == "failed")
                .values(status="queued", next_attempt_at=now, attempts=0)
            )
        return int(result.rowcount)

    def status(self, errors: int = 10) -> OutboxStatus:
        with self.engine.connect() as connection:
            counts = {status: 0 for status in ("queued", "sending", "sent", "failed")}
            for status, count in connection.execute(
                select(outbox.c.status, func.count()).group_by(outbox.c.status)
            ):
                counts[status] = int(count)
            rows = connection.execute(
                select(
                    subscribers.c.email,
                    outbox.c.period,
                    outbox.c.status,
                    outbox.c.last_error,
                    outbox.c.next_attempt_at,
                )
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.last_error.is_not(None))
                .order_by(outbox.c.next_attempt_at.desc(), outbox.c.id.desc())
                .limit(errors)
            )
            last = [
                OutboxError(email, period, status, error, at)
                for email, period, status, error, at in rows
            ]
            suspended = connection.execute(
                select(func.count())
                .select_from(subscribers)
                .where(subscribers.c.status == "suspended")
            )
            return OutboxStatus(counts, last, int(suspended.scalar_one()))

    def sent_message_ids(self) -> dict[str, list[str]]:
        """Message-IDs of sent digests per address (for checks and tests)."""
        found: dict[str, list[str]] = defaultdict(list)
        with self.engine.connect() as connection:
            for email, message_id in connection.execute(
                select(subscribers.c.email, outbox.c.message_id)
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.status == "sent")
            ):
                found[email].append(message_id)
        return found


# Built once: marking a row sent happens once per message, so its statement is reused.
_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("m_id"), outbox.c.lease_owner == bindparam("m_owner"))
    .values(
        status="sent",
        sent_at=bindparam("m_at"),
        smtp_reply=bindparam("m_reply"),
        lease_owner=None,
        lease_until=None,
        last_error=None,
    )
)


def _subscriber_values(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "language": subscriber.language,
        "topics": json.dumps(list(subscriber.topics)),
        "frequency": subscriber.frequency,
        "weekday": subscriber.weekday,
        "send_time": f"{subscriber.send_time:%H:%M}",
        "timezone": subscriber.timezone,
    }


def _subscriber(row: Any) -> Subscriber:
    hour, minute = (int(part) for part in row["send_time"].split(":"))
    return Subscriber(
        email=row["email"],
        language=row["language"],
        topics=tuple(json.loads(row["topics"])),
        frequency=cast(Frequency, row["frequency"]),
        weekday=row["weekday"],
        send_time=time(hour, minute),
        timezone=row["timezone"],
        status=cast(Status, row["status"]),
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        last_slot_at=row["last_slot_at"],
        covered_until=row["covered_until"],
        hard_failures=row["hard_failures"],
        origin=row["origin"],
    )


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row["o_id"],
        subscriber=_subscriber(row),
        period=row["o_period"],
        message_id=row["o_message_id"],
        language=row["o_language"],
        item_ids=tuple(json.loads(row["o_item_ids"])),
        status=row["o_status"],
        attempts=row["o_attempts"],
        created_at=row["o_created_at"],
        lease_owner=row["o_lease_owner"],
    )


__all__ = [
    "DigestStore",
    "OutboxError",
    "OutboxRow",
    "OutboxStatus",
    "QueuedDigest",
    "new_lease_owner",
]
