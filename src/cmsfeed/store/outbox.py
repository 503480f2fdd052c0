"""Sending from the digest outbox: leases, outcomes, pauses and what the operator sees.
Does I/O (the database). `DigestStore` (store/digests.py) is built on this class.

Leases. A sender run claims a few rows at a time (about its concurrency) under one lease id,
recording its host, pid and process start token; a heartbeat renews the lease while rows are
in flight, so the lease can be short. A row is claimable when it is queued and due, when its
lease ran out, or when the caller names its lease among the dead (a worker on the same host
saw that its owner no longer runs; see cmsfeed.lease_owner).

Outcomes. `mark_sent`; `mark_retry` (try again later); `release` (the server was at fault:
back to the queue, the attempt not counted); `mark_failed` with a cause (`CAUSES`): only a
"bounce" charges the subscriber, and enough of them in a row suspend the address.

Pauses of a mail server at fault: store/pauses.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.lease_owner import LeaseOwner
from cmsfeed.store.pauses import DeliveryPauses
from cmsfeed.store.schema import outbox, subscribers
from cmsfeed.store.subscriber_rows import subscriber_from_row
from cmsfeed.subscribers import Subscriber

# Why a row failed or was cancelled. The first four are the subscriber's doing: `digest
# retry` leaves them; it re-queues the others once their subscriber is active.
CAUSES = {
    "bounce": "the address was refused for good (5xx at RCPT: 5.1.x, 5.2.1)",
    "unsubscribed": "the subscriber had unsubscribed before it was sent",
    "suspended": "the subscriber was suspended before it was sent",
    "pending": "the subscriber had not confirmed",
    "deferred": "still refused for now after every attempt (4xx at RCPT)",
    "refused": "refused, but not for the address (policy, no SMTPUTF8)",
}
SUBSCRIBER_CAUSES = ("bounce", "unsubscribed", "suspended", "pending")
STATUSES = ("queued", "sending", "sent", "failed", "cancelled")


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
class LeaseHolder:
    """Rows in flight under one lease: who holds them, how many, until when."""

    lease: str
    host: str | None
    pid: int | None
    started: str | None
    rows: int
    lease_until: datetime | None


class OutboxSending(DeliveryPauses):
    # -- leases -----------------------------------------------------------------------------

    def claim(
        self,
        owner: LeaseOwner,
        now: datetime,
        limit: int,
        lease: timedelta,
        reclaim: Sequence[str] = (),
    ) -> list[OutboxRow]:
        """Lease up to `limit` rows to `owner`: due, lease run out, or held by a dead lease."""
        params = {
            "c_now": now,
            "c_limit": limit,
            "c_dead": list(reclaim),
            "c_owner": owner.lease,
            "c_host": owner.host,
            "c_pid": owner.pid,
            "c_started": owner.started,
            "c_until": now + lease,
        }
        try:
            with self.engine.begin() as connection:
                locking = connection.dialect.name == "postgresql"
                stranded, due = _CANDIDATES[locking]
                ids = [row.id for row in connection.execute(due, params)]
                if len(ids) < limit:  # stranded rows are few: looked for when the due run out
                    params["c_limit"] = limit - len(ids)
                    ids += [row.id for row in connection.execute(stranded, params)]
                if not ids:
                    return []
                # Guarded again: on SQLite another sender may have taken a row since the read.
                claimed = [row.id for row in connection.execute(_TAKE, {**params, "c_ids": ids})]
                if not claimed:
                    return []
                rows = connection.execute(_CLAIMED, {"c_ids": claimed}).mappings()
                return [_outbox_row(row) for row in rows]
        except SQLAlchemyError as err:
            raise self._fail("claim digests", err) from err

    def renew_lease(self, lease: str, until: datetime) -> int:
        """The heartbeat: extend every row still held under `lease`; return how many."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(outbox)
                .where(outbox.c.lease_owner == lease, outbox.c.status == "sending")
                .values(lease_until=until)
            )
        return int(result.rowcount)

    def lease_holders(self) -> list[LeaseHolder]:
        """Rows in `sending`, by lease: the owners a worker checks and `digest status` lists."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    outbox.c.lease_owner,
                    outbox.c.lease_host,
                    outbox.c.lease_pid,
                    outbox.c.lease_started,
                    func.count(),
                    func.max(outbox.c.lease_until),
                )
                .where(outbox.c.status == "sending")
                .group_by(
                    outbox.c.lease_owner,
                    outbox.c.lease_host,
                    outbox.c.lease_pid,
                    outbox.c.lease_started,
                )
                .order_by(func.max(outbox.c.lease_until))
            ).all()
        return [
            LeaseHolder(lease or "", host, pid, started, int(count), end)
            for lease, host, pid, started, count, end in rows
        ]

    # -- outcomes ---------------------------------------------------------------------------

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
        self._update_held(
            row,
            status="queued",
            next_attempt_at=next_attempt_at,
            last_error=error[:500],
            lease_owner=None,
            lease_until=None,
        )

    def release(self, row: OutboxRow, *, due_at: datetime | None = None) -> None:
        """Back to the queue as it was: the server was at fault, so the attempt is not counted.
        With `due_at`, the row waits until then (it must not be the next probe)."""
        later = {} if due_at is None else {"next_attempt_at": due_at}
        self._update_held(
            row,
            status="queued",
            attempts=outbox.c.attempts - 1,
            lease_owner=None,
            lease_until=None,
            **later,
        )

    def mark_failed(
        self, row: OutboxRow, error: str, now: datetime, *, cause: str, max_hard_failures: int
    ) -> bool:
        """Fail (or, for a subscriber's state, cancel) the row; return True when a bounce
        suspended the subscriber. Only `cause="bounce"` charges the subscriber."""
        assert cause in CAUSES, cause
        status = "cancelled" if cause in ("unsubscribed", "suspended", "pending") else "failed"
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == row.id, outbox.c.lease_owner == row.lease_owner)
                .values(
                    status=status,
                    cause=cause,
                    last_error=error[:500],
                    sent_at=None,
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=now,
                )
            )
            if cause != "bounce":
                return False
            return _charge(connection, row.subscriber.id, error, now, max_hard_failures)

    def _update_held(self, row: OutboxRow, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == row.id, outbox.c.lease_owner == row.lease_owner)
                .values(**values)
            )

    def retry_failed(self, now: datetime) -> int:
        """Queue again the failed and cancelled rows whose cause was not the subscriber,
        when their subscriber is active; return how many."""
        active = select(subscribers.c.id).where(subscribers.c.status == "active")
        with self.engine.begin() as connection:
            result = connection.execute(
                update(outbox)
                .where(
                    outbox.c.status.in_(["failed", "cancelled"]),
                    or_(outbox.c.cause.is_(None), outbox.c.cause.not_in(SUBSCRIBER_CAUSES)),
                    outbox.c.subscriber_id.in_(active.scalar_subquery()),
                )
                .values(status="queued", next_attempt_at=now, attempts=0, cause=None)
            )
        return int(result.rowcount)


def _charge(
    connection: Any, subscriber_id: str, error: str, now: datetime, max_hard_failures: int
) -> bool:
    """One more hard failure; suspend at `max_hard_failures`. True when this suspended."""
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(hard_failures=subscribers.c.hard_failures + 1)
    )
    result = connection.execute(
        update(subscribers)
        .where(
            subscribers.c.id == subscriber_id,
            subscribers.c.status == "active",
            subscribers.c.hard_failures >= max_hard_failures,
        )
        .values(
            status="suspended",
            suspended_at=now,
            suspended_reason=error[:500],
            version=subscribers.c.version + 1,
        )
    )
    return bool(result.rowcount)


# Claiming, built once (a claim happens per batch of a few rows). Queued rows that are due
# come first, then rows stranded by a sender (lease run out, or its owner seen dead), each in
# the order of its index, so a claim never sorts the whole queue.
_DUE_NOW = and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= bindparam("c_now"))
_STRANDED = and_(
    outbox.c.status == "sending",
    or_(
        outbox.c.lease_until < bindparam("c_now"),
        outbox.c.lease_owner.in_(bindparam("c_dead", expanding=True)),
    ),
)


def _candidates(locking: bool) -> tuple[Any, Any]:
    stranded = select(outbox.c.id).where(_STRANDED).order_by(outbox.c.lease_until)
    due = select(outbox.c.id).where(_DUE_NOW).order_by(outbox.c.next_attempt_at)
    stranded, due = stranded.limit(bindparam("c_limit")), due.limit(bindparam("c_limit"))
    if locking:  # PostgreSQL: concurrent senders skip each other's rows instead of waiting
        return stranded.with_for_update(skip_locked=True), due.with_for_update(skip_locked=True)
    return stranded, due


_CANDIDATES = {False: _candidates(False), True: _candidates(True)}
_TAKE = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("c_ids", expanding=True)), or_(_DUE_NOW, _STRANDED))
    .values(
        status="sending",
        lease_owner=bindparam("c_owner"),
        lease_host=bindparam("c_host"),
        lease_pid=bindparam("c_pid"),
        lease_started=bindparam("c_started"),
        lease_until=bindparam("c_until"),
        attempts=outbox.c.attempts + 1,
    )
    .returning(outbox.c.id)
    .execution_options(synchronize_session=False)
)
_CLAIMED = (
    select(*[column.label(f"o_{column.name}") for column in outbox.c], subscribers)
    .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
    .where(outbox.c.id.in_(bindparam("c_ids", expanding=True)))
    .order_by(outbox.c.id)
)

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
        cause=None,
    )
)


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row["o_id"],
        subscriber=subscriber_from_row(row),
        period=row["o_period"],
        message_id=row["o_message_id"],
        language=row["o_language"],
        item_ids=tuple(json.loads(row["o_item_ids"])),
        status=row["o_status"],
        attempts=row["o_attempts"],
        created_at=row["o_created_at"],
        lease_owner=row["o_lease_owner"],
    )
