"""A subscriber's own changes, each a compare-and-set on the row's `version`. Does I/O (the
database, through the connection it is given).

A confirmation or preferences link names the version the subscriber was at when it was made
(0: the address was unknown then). A change applies only while the row is still at that
version, and adds one to it, in one UPDATE ... WHERE version = :made_at: two presses of one
link, or a link replayed after an unsubscribe, find the version moved on and change nothing,
on SQLite and on PostgreSQL alike (the second writer re-reads the row and its WHERE fails).
Unsubscribing is not bound to a version: a link in any email ever sent must let one out; its
undo is (`resubscribe_at_version`), so it cannot revive a subscription changed since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from cmsfeed.store.rows import insert_ignoring_conflicts
from cmsfeed.store.schema import subscribers
from cmsfeed.store.subscriber_rows import subscriber_from_row, subscriber_values
from cmsfeed.subscribers import Subscriber


def confirm_at_version(
    connection: Connection, wanted: Subscriber, version: int, now: datetime
) -> Subscriber | None:
    """Store a confirmed sign-up made at `version`, active; None when the address changed since.

    An unknown address (version 0) is inserted at version 1. A known one gets the preferences
    of the sign-up; one that was not active starts afresh, as a new subscriber would (its
    failures and suspension forgotten, its cursor at `now`, so no old story is sent).
    """
    values = subscriber_values(wanted)
    if version == 0:
        row = {
            **values,
            "status": "active",
            "origin": wanted.origin,
            "created_at": now,
            "confirmed_at": now,
            "hard_failures": 0,
            "version": 1,
        }
        statement = insert_ignoring_conflicts(connection, subscribers).returning(subscribers.c.id)
        if connection.execute(statement, [row]).all():
            return read_subscriber(connection, wanted.id)
    current = read_subscriber(connection, wanted.id)
    if current is None or current.version != version:
        return None
    if current.status != "active":
        values.update(fresh_start(now))
    return _update_at_version(connection, wanted.id, version, values)


def preferences_at_version(
    connection: Connection, wanted: Subscriber, version: int
) -> Subscriber | None:
    """Save new preferences, keeping the status (an unsubscribed reader comes back only by
    signing up again); None when the subscriber changed since `version` or is unknown."""
    values = subscriber_values(wanted)
    return _update_at_version(connection, wanted.id, version, values)


def unsubscribe(connection: Connection, subscriber_id: str) -> Subscriber | None:
    """Unsubscribed (one more version, unless already so); None when the id is unknown."""
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status != "unsubscribed")
        .values(status="unsubscribed", version=subscribers.c.version + 1)
    )
    return read_subscriber(connection, subscriber_id)


def resubscribe_at_version(
    connection: Connection, subscriber_id: str, version: int
) -> Subscriber | None:
    """Undo an unsubscribe, if nothing changed since it (`version`): active again with the
    same preferences and cursors (the next digest covers the time away); else None."""
    result = connection.execute(
        update(subscribers)
        .where(
            subscribers.c.id == subscriber_id,
            subscribers.c.version == version,
            subscribers.c.status == "unsubscribed",
        )
        .values(status="active", version=version + 1)
    )
    return read_subscriber(connection, subscriber_id) if result.rowcount else None


def fresh_start(now: datetime) -> dict[str, object]:
    """The columns of a subscriber who becomes active again by signing up (or by the operator
    or the config file): failures and suspension forgotten, the cursor at `now`, so that no
    story from before is sent."""
    return {
        "status": "active",
        "confirmed_at": now,
        "hard_failures": 0,
        "suspended_at": None,
        "suspended_reason": None,
        "last_slot_at": None,
        "covered_until": now,
    }


def read_subscriber(connection: Connection, subscriber_id: str) -> Subscriber | None:
    row = (
        connection.execute(select(subscribers).where(subscribers.c.id == subscriber_id))
        .mappings()
        .first()
    )
    return subscriber_from_row(row) if row else None


def _update_at_version(
    connection: Connection, subscriber_id: str, version: int, values: dict[str, object]
) -> Subscriber | None:
    values.pop("id", None)
    values.pop("email", None)  # the id is the address: it never changes under a link
    result = connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.version == version)
        .values(**values, version=version + 1)
    )
    if not result.rowcount:
        return None
    return read_subscriber(connection, subscriber_id)
