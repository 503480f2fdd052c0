"""Bounces and complaints in the store. Does I/O (the database).

`BounceRecords`, a part of the `Store` facade (store/facade.py), records each report acted on
(one row per returned message and subscriber) and applies it to the subscriber in the same
transaction: a hard bounce suspends, soft bounces suspend once `soft_threshold` distinct digests
bounced softly within the window, a complaint unsubscribes. The row's primary key makes a second
import of the same message a no-op, even from two processes at once. A report about a digest
older than the subscriber's latest confirmation (they signed up again since) is recorded as
`stale` and changes nothing. Soft bounces from before an operator's `subscribers reactivate` are
marked `forgiven` (by `Store.reactivate_subscriber`) and no longer count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, cast, func, select, update

from cmsfeed.bounces.match import Sent, Target
from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import insert_ignoring_conflicts, suspend_active
from cmsfeed.store.schema import FORGIVEN, bounces, outbox, subscribers


@dataclass(frozen=True, slots=True)
class SoftBouncePolicy:
    threshold: int  # distinct digests that bounced softly ...
    window: timedelta  # ... within this long suspend the subscriber


@dataclass(frozen=True, slots=True)
class Applied:
    action: str  # suspended, unsubscribed, counted, none, stale, or "already processed"
    soft_count: int = 0


ALREADY = "already processed"


class BounceRecords(StorePart):
    """The `bounces` table (and the subscriber states it changes)."""

    # -- lookups for matching ---------------------------------------------------------------

    def sent_by_id(self, outbox_id: int) -> Sent | None:
        with self.engine.connect() as connection:
            return _sent(connection, outbox.c.id == outbox_id)

    def sent_by_message_id(self, message_id: str) -> Sent | None:
        with self.engine.connect() as connection:
            return _sent(connection, outbox.c.message_id == message_id)

    def subscriber_ids_by_email(self, emails: Iterable[str]) -> dict[str, str]:
        """Lowercased address -> subscriber id, for those addresses that are subscribers."""
        wanted = sorted({email.lower() for email in emails})
        if not wanted:
            return {}
        email = func.lower(subscribers.c.email)
        with self.engine.connect() as connection:
            # Addresses are stored with the domain lowercased; most local parts are too, so the
            # unique index answers first and only the rest need the case-blind scan.
            query = select(email, subscribers.c.id)
            found: dict[str, str] = {}
            for address, ident in connection.execute(query.where(subscribers.c.email.in_(wanted))):
                found[address] = ident
            rest = [address for address in wanted if address not in found]
            if rest:
                for address, ident in connection.execute(query.where(email.in_(rest))):
                    found[address] = ident
        return found

    def is_bounce_processed(self, key: str) -> bool:
        with self.engine.connect() as connection:
            found = connection.execute(select(bounces.c.key).where(bounces.c.key == key).limit(1))
            return found.first() is not None

    # -- acting on a report -----------------------------------------------------------------

    def apply_bounce(
        self,
        key: str,
        target: Target,
        reported_at: datetime,
        now: datetime,
        policy: SoftBouncePolicy,
    ) -> Applied:
        """Record `target` under `key` and change the subscriber; once per key and subscriber."""
        with self.engine.begin() as connection:
            inserted = connection.execute(
                insert_ignoring_conflicts(connection, bounces).returning(bounces.c.key),
                [
                    {
                        "key": key,
                        "subscriber_id": target.subscriber_id,
                        "email": target.email.lower(),
                        "kind": target.kind,
                        "status": target.status,
                        "outbox_id": target.outbox_id,
                        "matched_by": target.matched_by,
                        "action": "none",
                        "detail": target.detail[:500],
                        "reported_at": min(reported_at, now),
                        "processed_at": now,
                    }
                ],
            ).all()
            if not inserted:
                return Applied(ALREADY)
            applied = _act(connection, target, now, policy)
            connection.execute(
                update(bounces)
                .where(bounces.c.key == key, bounces.c.subscriber_id == target.subscriber_id)
                .values(action=applied.action)
            )
            return applied

    # -- what a complaint forbids -----------------------------------------------------------

    def complained_at(self, email: str) -> datetime | None:
        """When `email` last complained, if it has not confirmed a sign-up since; else None.

        The operator's `subscribers add` and the config file must not re-add such an address:
        only the reader, by signing up again, can.
        """
        address = email.lower()
        with self.engine.connect() as connection:
            complained = connection.execute(
                select(func.max(bounces.c.processed_at)).where(
                    bounces.c.email == address,
                    bounces.c.kind == "complaint",
                    bounces.c.action != "stale",
                )
            ).scalar_one()
            if complained is None:
                return None
            signed_up_again = connection.execute(
                select(subscribers.c.id).where(
                    func.lower(subscribers.c.email) == address,
                    subscribers.c.status == "active",
                    subscribers.c.confirmed_at > complained,
                )
            ).first()
        if signed_up_again is not None:
            return None
        at: datetime = complained
        return at


def _act(
    connection: Connection, target: Target, now: datetime, policy: SoftBouncePolicy
) -> Applied:
    row = connection.execute(
        select(subscribers.c.status, subscribers.c.confirmed_at).where(
            subscribers.c.id == target.subscriber_id
        )
    ).first()
    if row is None:
        return Applied("none")
    status, confirmed_at = row
    if (
        target.digest_created_at is not None
        and confirmed_at is not None
        and target.digest_created_at < confirmed_at
    ):
        return Applied("stale")  # about a digest from before they signed up again
    if target.kind == "complaint":
        changed = _unsubscribe(connection, target.subscriber_id)
        return Applied("unsubscribed" if changed else "none")
    if target.kind == "hard":
        reason = f"hard bounce {target.status or ''} read by mail: {target.detail}"
        changed = _suspend(connection, target.subscriber_id, reason, now)
        return Applied("suspended" if changed else "none")
    count = _soft_count(connection, target.subscriber_id, now - policy.window)
    if count >= policy.threshold and status == "active":
        reason = f"{count} soft bounces within {policy.window.days} days, read by mail"
        _suspend(connection, target.subscriber_id, reason, now)
        return Applied("suspended", count)
    return Applied("counted", count)


def _unsubscribe(connection: Connection, subscriber_id: str) -> bool:
    # A complaint overrides any state.
    result = connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status != "unsubscribed")
        .values(status="unsubscribed", version=subscribers.c.version + 1)
    )
    return bool(result.rowcount)


def _suspend(connection: Connection, subscriber_id: str, reason: str, at: datetime) -> bool:
    return suspend_active(connection, subscriber_id, reason, at)


def _soft_count(connection: Connection, subscriber_id: str, since: datetime) -> int:
    """Distinct digests (or reports, when the digest is unknown) that bounced softly."""
    which = func.coalesce(cast(bounces.c.outbox_id, String), bounces.c.key)
    counted = connection.execute(
        select(func.count(func.distinct(which))).where(
            bounces.c.subscriber_id == subscriber_id,
            bounces.c.kind == "soft",
            bounces.c.action.not_in(("stale", FORGIVEN)),
            bounces.c.reported_at > since,
        )
    )
    return int(counted.scalar_one())


def _sent(connection: Connection, condition: Any) -> Sent | None:
    row = connection.execute(
        select(
            outbox.c.id,
            outbox.c.subscriber_id,
            subscribers.c.email,
            outbox.c.message_id,
            outbox.c.created_at,
        )
        .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
        .where(condition)
        .order_by(outbox.c.id)
        .limit(1)
    ).first()
    return Sent(*row) if row else None
