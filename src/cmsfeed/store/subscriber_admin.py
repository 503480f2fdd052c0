"""What the operator does to subscribers, with its history. Does I/O (the database).

A part of the `Store` facade (store/facade.py): adding addresses that are new to
the store without touching known ones (the config file's starting list, imports), changing
only the preferences given, ending a subscription while keeping its digests' history,
erasing a person's data for a privacy request, and gathering everything held about an
address. Each of these writes one transaction, so an import is written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    bindparam,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)

from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import insert_ignoring_conflicts
from cmsfeed.store.schema import bounces, outbox, subscriber_events, subscribers
from cmsfeed.store.subscriber_rows import subscriber_from_row, subscriber_values
from cmsfeed.subscribers import PreferenceChange, Subscriber


class _BeingSent(Exception):
    """Raised inside an erase transaction to roll it back: a digest is being sent."""


@dataclass(frozen=True, slots=True)
class SubscriberEvent:
    """One thing done to a subscriber: `event` (added, updated, removed) by `actor`."""

    at: datetime
    event: str
    actor: str  # config, cli, import
    detail: str


@dataclass(frozen=True, slots=True)
class HeldData:
    """Everything the store holds about one address (`subscribers export`)."""

    subscriber: Subscriber | None
    events: list[SubscriberEvent]
    digests: list[dict[str, Any]]  # the address's outbox rows, oldest first
    bounces: list[dict[str, Any]]  # bounces and complaints matched to the address


@dataclass(frozen=True, slots=True)
class Erased:
    """What `erase_subscriber` deleted, and how many digests it kept without their reader."""

    events: int
    bounces: int
    digests_kept: int
    digests_cancelled: int


class SubscriberAdmin(StorePart):
    def write_subscribers(
        self,
        new: Sequence[Subscriber],
        changes: Sequence[PreferenceChange],
        now: datetime,
        actor: str,
    ) -> list[Subscriber]:
        """Add `new` subscribers and apply `changes`, in one transaction; return those added.

        An address already in the store is never overwritten by `new` (another process may
        have added it meanwhile): it is left as it is and not returned. `changes` set only the
        preferences (language, topics, schedule), never the status or the cursors.
        """
        rows = [self._new_row(subscriber, now) for subscriber in new]
        events: list[dict[str, Any]] = []
        with self.engine.begin() as connection:
            inserted: set[str] = set()
            if rows:
                # RETURNING, not rowcount: after ON CONFLICT DO NOTHING, PostgreSQL's
                # rowcount of a many-row insert does not say which rows went in.
                statement = insert_ignoring_conflicts(connection, subscribers)
                returning = statement.returning(subscribers.c.id)
                inserted = {row.id for row in connection.execute(returning, rows)}
            events += [
                _event(row["id"], now, "added", actor, _describe(row))
                for row in rows
                if row["id"] in inserted
            ]
            if changes:
                connection.execute(_PREFERENCES, [_preferences(c.subscriber) for c in changes])
            events += [_event(c.subscriber.id, now, "updated", actor, c.detail) for c in changes]
            if events:
                connection.execute(subscriber_events.insert(), events)
        return [subscriber for subscriber in new if subscriber.id in inserted]

    def complained_addresses(self) -> set[str]:
        """The addresses with a complaint on record (lower case), so that an import asks
        `complained_at` only about those."""
        with self.engine.connect() as connection:
            return set(
                connection.execute(
                    select(bounces.c.email).where(bounces.c.kind == "complaint").distinct()
                ).scalars()
            )

    def _new_row(self, subscriber: Subscriber, now: datetime) -> dict[str, Any]:
        active = subscriber.status == "active"
        return {
            **subscriber_values(subscriber),
            "status": subscriber.status,
            "origin": subscriber.origin,
            "created_at": now,
            "confirmed_at": now if active else None,
            "covered_until": None,  # as a sign-up: digest/select.py starts the window
            "last_slot_at": None,
            "hard_failures": 0,
            # 1, not 0: a confirmation link asked for before the operator added the address
            # names version 0 (unknown), and must not confirm over what the operator set.
            "version": 1,
        }

    def end_subscription(self, subscriber_id: str, now: datetime, actor: str) -> int | None:
        """Unsubscribe (the operator's `remove`), keeping the outbox history, and cancel the
        queued digests (one already being sent is left to its sender). None when the subscriber
        was already unsubscribed; else how many digests were cancelled."""
        with self.engine.begin() as connection:
            ended = connection.execute(
                update(subscribers)
                .where(subscribers.c.id == subscriber_id)
                .where(subscribers.c.status != "unsubscribed")
                .values(status="unsubscribed", version=subscribers.c.version + 1)
            )
            if not ended.rowcount:
                return None
            cancelled = self._cancel_unsent(connection, subscriber_id, "removed by " + actor)
            detail = f"{cancelled} digest(s) not yet sent cancelled"
            connection.execute(
                subscriber_events.insert(), _event(subscriber_id, now, "removed", actor, detail)
            )
        return cancelled

    def _cancel_unsent(self, connection: Connection, subscriber_id: str, why: str) -> int:
        result = connection.execute(
            update(outbox)
            .where(outbox.c.subscriber_id == subscriber_id, outbox.c.status == "queued")
            .values(status="cancelled", cause="unsubscribed", last_error=why, lease_until=None)
        )
        return int(result.rowcount)

    def erase_subscriber(self, subscriber_id: str, email: str) -> Erased | None:
        """Delete everything about a person (privacy request), in one transaction; None (and
        nothing changed) while one of their digests is being sent.

        Their digests stay in the outbox, detached (no subscriber, a Message-ID that no longer
        derives from the address, no server replies that could quote it), so `digest status`
        still counts them; their history and bounces are deleted, and the subscriber row last.
        """
        address = email.lower()
        try:
            with self.engine.begin() as connection:
                # Cancelling first takes the rows (PostgreSQL) or the database (SQLite), so
                # no sender claims one meanwhile; a row already being sent must end first,
                # since its sender marks it by id and a detached row is never claimed again.
                cancelled = self._cancel_unsent(connection, subscriber_id, "erased")
                sending = connection.execute(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.subscriber_id == subscriber_id, outbox.c.status == "sending")
                ).scalar_one()
                if sending:
                    raise _BeingSent
                anonymous_id = literal("<erased.") + cast(outbox.c.id, String) + "@erased.invalid>"
                kept = connection.execute(
                    update(outbox)
                    .where(outbox.c.subscriber_id == subscriber_id)
                    .values(
                        subscriber_id=None,
                        message_id=anonymous_id,
                        smtp_reply=None,
                        last_error=None,
                    )
                ).rowcount
                gone_bounces = connection.execute(
                    delete(bounces).where(
                        or_(bounces.c.subscriber_id == subscriber_id, bounces.c.email == address)
                    )
                ).rowcount
                gone_events = connection.execute(
                    delete(subscriber_events).where(
                        subscriber_events.c.subscriber_id == subscriber_id
                    )
                ).rowcount
                connection.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))
        except _BeingSent:
            return None
        return Erased(int(gone_events), int(gone_bounces), int(kept), cancelled)

    def held_data(self, email: str) -> HeldData:
        """The subscriber row, their history, their digests and their bounces."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(subscribers).where(func.lower(subscribers.c.email) == email.lower())
                )
                .mappings()
                .first()
            )
            subscriber = subscriber_from_row(row) if row else None
            subscriber_id = subscriber.id if subscriber else ""
            events = [
                SubscriberEvent(r.at, r.event, r.actor, r.detail)
                for r in connection.execute(
                    select(subscriber_events)
                    .where(subscriber_events.c.subscriber_id == subscriber_id)
                    .order_by(subscriber_events.c.at, subscriber_events.c.id)
                )
            ]
            digests = [
                dict(r)
                for r in connection.execute(
                    select(outbox)
                    .where(outbox.c.subscriber_id == subscriber_id)
                    .order_by(outbox.c.created_at, outbox.c.id)
                ).mappings()
            ]
            found = connection.execute(
                select(bounces)
                .where(
                    or_(bounces.c.subscriber_id == subscriber_id, bounces.c.email == email.lower())
                )
                .order_by(bounces.c.processed_at, bounces.c.key)
            ).mappings()
            matched = [dict(r) for r in found]
        return HeldData(subscriber, events, digests, matched)


# The preferences of a known subscriber, for many at once (never the status or the cursors).
_PREFERENCE_COLUMNS = ("language", "topics", "frequency", "weekday", "send_time", "timezone")
_PREFERENCES = (
    update(subscribers)
    .where(subscribers.c.id == bindparam("b_id"))
    .values(
        {
            **{name: bindparam(f"b_{name}") for name in _PREFERENCE_COLUMNS},
            "version": subscribers.c.version + 1,  # a change: older links go stale
        }
    )
)


def _preferences(subscriber: Subscriber) -> dict[str, Any]:
    values = subscriber_values(subscriber)
    return {"b_id": subscriber.id, **{f"b_{name}": values[name] for name in _PREFERENCE_COLUMNS}}


def _event(subscriber_id: str, at: datetime, event: str, actor: str, detail: str) -> dict[str, Any]:
    return {
        "subscriber_id": subscriber_id,
        "at": at,
        "event": event,
        "actor": actor,
        "detail": detail,
    }


def _describe(row: dict[str, Any]) -> str:
    return (
        f"status {row['status']}, language {row['language']}, topics {row['topics']}, "
        f"{row['frequency']} weekday {row['weekday']} {row['send_time']} {row['timezone']}"
    )
