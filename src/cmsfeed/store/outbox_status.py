"""What the operator sees of the outbox: counts by status, why rows failed or were cancelled,
a paused mail server, the rows in flight by owner, the last errors. Does I/O (the database).
A part of the `Store` facade (store/facade.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from cmsfeed.store.engine import StorePart
from cmsfeed.store.outbox import STATUSES, LeaseHolder, list_lease_holders
from cmsfeed.store.pauses import Pause, list_pauses
from cmsfeed.store.schema import outbox, subscribers


@dataclass(frozen=True, slots=True)
class OutboxFailure:
    """A row's last error, as `digest status` lists it (a record, not an exception)."""

    email: str
    period: str
    status: str
    error: str
    at: datetime | None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    status: str  # failed or cancelled
    cause: str | None
    count: int
    example: str | None  # the last error of one such row


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    counts: dict[str, int] = field(default_factory=dict)
    last_errors: list[OutboxFailure] = field(default_factory=list)
    suspended: int = 0
    reasons: list[Reason] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    in_flight: list[LeaseHolder] = field(default_factory=list)


class OutboxReports(StorePart):
    def outbox_status(self, errors: int = 10) -> OutboxStatus:
        with self.engine.connect() as connection:
            counts = dict.fromkeys(STATUSES, 0)
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
                    outbox.c.cause,
                )
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.last_error.is_not(None))
                .order_by(outbox.c.next_attempt_at.desc(), outbox.c.id.desc())
                .limit(errors)
            )
            last = [OutboxFailure(*row) for row in rows]
            reasons = [
                Reason(status, cause, int(count), example)
                for status, cause, count, example in connection.execute(
                    select(
                        outbox.c.status, outbox.c.cause, func.count(), func.max(outbox.c.last_error)
                    )
                    .where(outbox.c.status.in_(["failed", "cancelled"]))
                    .group_by(outbox.c.status, outbox.c.cause)
                    .order_by(outbox.c.status, func.count().desc())
                )
            ]
            suspended = connection.execute(
                select(func.count())
                .select_from(subscribers)
                .where(subscribers.c.status == "suspended")
            )
            suspended_count = int(suspended.scalar_one())
            pauses = list_pauses(connection)
            in_flight = list_lease_holders(connection)
        return OutboxStatus(counts, last, suspended_count, reasons, pauses, in_flight)

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
