"""Subscribers: saving sign-ups and preferences, looking them up, suspending and reactivating.
Does I/O (the database). A part of the `Store` facade (store/facade.py).

Suspension is here for delivery (hard failures counted in a row) and for bounces read later
by mail alike; reactivation forgives both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import delete, select, update

from cmsfeed.store import subscriber_changes as changes
from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import charge_hard_failure, insert_ignoring_conflicts, suspend_active
from cmsfeed.store.schema import FORGIVEN, bounces, outbox, subscribers
from cmsfeed.store.subscriber_changes import fresh_start, read_subscriber
from cmsfeed.store.subscriber_rows import subscriber_from_row, subscriber_values
from cmsfeed.subscribers import Status, Subscriber
from cmsfeed.subscribers import subscriber_id as id_of_address

_CHUNK = 500


class SubscriberRecords(StorePart):
    def save_subscriber(self, subscriber: Subscriber, now: datetime) -> Subscriber:
        """Insert, or update the preferences (and activate) an existing address.

        The cursors of an existing subscriber are kept, so a change of preferences never
        resends old items. An unsubscribed address becomes active again only when `subscriber`
        is active (a confirmed sign-up, the operator, or the config file).
        """
        values = subscriber_values(subscriber)
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
            old = read_subscriber(connection, subscriber.id)
            assert old is not None
            if subscriber.status == "active" and old.status != "active":
                values.update(fresh_start(now))
            values["version"] = subscribers.c.version + 1  # a change: older links go stale
            connection.execute(
                update(subscribers).where(subscribers.c.id == subscriber.id).values(**values)
            )
            saved = read_subscriber(connection, subscriber.id)
        assert saved is not None
        return saved

    def get_subscriber(self, email_or_id: str) -> Subscriber | None:
        # An id is the digest of the lowercased address (`subscriber_id`): one primary-key
        # lookup either way, where matching lower(email) would read the whole table.
        key = id_of_address(email_or_id) if "@" in email_or_id else email_or_id
        with self.engine.connect() as connection:
            return read_subscriber(connection, key)

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

    def set_subscriber_status(self, subscriber_id: str, status: Status) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                update(subscribers)
                .where(subscribers.c.id == subscriber_id)
                .values(status=status, version=subscribers.c.version + 1)
            )
        return bool(result.rowcount)

    def suspend_subscriber(self, subscriber_id: str, reason: str, at: datetime) -> bool:
        """Suspend an active subscriber at once (a hard bounce read later by mail); True when
        this changed their status. The reason is what `subscribers list` shows."""
        with self.engine.begin() as connection:
            return suspend_active(connection, subscriber_id, reason, at)

    def record_hard_failure(
        self, subscriber_id: str, reason: str, at: datetime, max_hard_failures: int
    ) -> bool:
        """Count one hard failure; suspend at `max_hard_failures` in a row (a sent digest
        resets the count). True when this suspended the subscriber."""
        with self.engine.begin() as connection:
            return charge_hard_failure(connection, subscriber_id, reason, at, max_hard_failures)

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
                .values(
                    status="active",
                    hard_failures=0,
                    suspended_at=None,
                    suspended_reason=None,
                    version=subscribers.c.version + 1,
                )
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

    # -- changes bound to a version (subscriptions/service.py; store/subscriber_changes.py) ---

    def confirm_subscriber(
        self, wanted: Subscriber, version: int, now: datetime
    ) -> Subscriber | None:
        with self.engine.begin() as connection:
            return changes.confirm_at_version(connection, wanted, version, now)

    def save_preferences(self, wanted: Subscriber, version: int) -> Subscriber | None:
        with self.engine.begin() as connection:
            return changes.preferences_at_version(connection, wanted, version)

    def unsubscribe_subscriber(self, subscriber_id: str) -> Subscriber | None:
        with self.engine.begin() as connection:
            return changes.unsubscribe(connection, subscriber_id)

    def resubscribe_subscriber(self, subscriber_id: str, version: int) -> Subscriber | None:
        with self.engine.begin() as connection:
            return changes.resubscribe_at_version(connection, subscriber_id, version)
