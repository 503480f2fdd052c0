"""Sending the outbox: small leased batches, a heartbeat, and whose fault a failure is.
Does I/O through what it is given (the store, the transport, the clock).

A sender run claims about `digests.concurrency` rows at a time under one lease and keeps at
most two batches in flight, so a kill -9 strands only those few rows; a heartbeat renews the
lease every third of `lease_seconds` while rows are in flight. At the start, rows held by a
process on this host that no longer runs are reclaimed at once (cmsfeed.lease_owner); rows of
another host wait for its lease, which only a live owner renews.

Each failure carries its outcome (cmsfeed.smtp_outcome):
- PAUSE: the server or the session is at fault. The pause is stored (every worker and the CLI
  see it), logged once as an ERROR with the server's reply, shown by the /metrics gauge; this
  row and every row still in hand go back to the queue uncharged. Later runs (the next round,
  or the retry sweep of `cmsfeed run`) do nothing until the backoff has passed, then probe
  with one row; the first message that gets through ends the pause.
- BOUNCE: the row fails and the subscriber is charged (suspended after max_hard_failures).
- DEFER: retried with exponential backoff, failed uncharged after max_attempts.
- REFUSE: failed at once, uncharged; `digest retry` can queue it again.

Until the server has accepted a recipient in this run, a refusal at RCPT (BOUNCE or REFUSE)
is held, uncharged. When REFUSAL_STREAK of them in a row, for different readers, carry the
same reply (code and enhanced code), the server refuses everyone alike (a relay or lookup
misconfiguration that reads like "no such user"): it is a PAUSE, and the held rows go back to
the queue uncharged, due only once the probe has been made, so the probe is another reader's
digest. A different reply, an accepted recipient or the end of the run settles the held rows
one by one, as each reader's own. Once a recipient has been accepted in a run, refusals are
settled at once: a few dead addresses that happen to be tried last must not pause delivery
again and again (a server that starts refusing everyone in mid-run is not caught).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from cmsfeed import metrics
from cmsfeed.errors import DeliveryError
from cmsfeed.lease_owner import LeaseOwner, is_running, this_process
from cmsfeed.model import Item
from cmsfeed.smtp_outcome import Verdict
from cmsfeed.store import Store
from cmsfeed.store.outbox import OutboxRow
from cmsfeed.store.pauses import Pause

if TYPE_CHECKING:
    from cmsfeed.delivery import Delivery

log = logging.getLogger("cmsfeed.delivery")
# Items are shared by many digests of a round; the cache is bounded, not per round.
ITEM_CACHE_SIZE = 10_000
MAX_BACKOFF = timedelta(hours=6)  # between retries of one row
MAX_PAUSE_BACKOFF = timedelta(minutes=30)  # between probes of a paused server
REFUSAL_STREAK = 3  # RCPT refusals alike, for different readers, that make a server fault


@dataclass
class RoundReport:
    due: int = 0
    queued: int = 0
    empty: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suspended: int = 0
    cancelled: int = 0
    held: int = 0  # back in the queue, uncharged, because the server was at fault
    paused: Pause | None = None

    def summary(self) -> str:
        text = (
            f"{self.due} due, {self.queued} queued, {self.empty} with nothing new; "
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed, "
            f"{self.suspended} suspended"
        )
        if self.cancelled:
            text += f", {self.cancelled} cancelled"
        if self.paused:
            pause = self.paused
            text += (
                f"\npaused: {pause.reply} (server {pause.server}, since "
                f"{pause.since_at:%Y-%m-%d %H:%M:%S}Z; {self.held} held back, nobody charged; "
                f"next try at {pause.next_probe_at:%Y-%m-%d %H:%M:%S}Z)"
            )
        return text


@dataclass
class _Run:
    """One sender run: its lease, and whether the server stopped it."""

    delivery: Delivery
    owner: LeaseOwner
    report: RoundReport
    earlier: Pause | None  # the pause this run started under (it probes), if any
    paused: Pause | None = None
    items: dict[str, Item] = field(default_factory=dict)
    # RCPT refusals since the last accepted recipient, all of one reply, not yet charged.
    refusals: list[tuple[OutboxRow, DeliveryError]] = field(default_factory=list)
    accepted: bool = False  # the server took a recipient in this run

    @property
    def digests(self) -> Store:
        return self.delivery.digests


async def send_outbox(
    delivery: Delivery,
    report: RoundReport | None = None,
    *,
    stop: asyncio.Event | None = None,
    batch_size: int | None = None,
) -> RoundReport:
    """Send every queued row that is due; return when none is left, the server is at fault,
    or `stop` is set. Rows claimed by this call are finished (or released) before it returns."""
    report = report or RoundReport()
    digests = delivery.digests
    earlier = digests.pause(delivery.transport.server)
    _show_pause(earlier)
    if earlier is not None and earlier.next_probe_at > delivery.clock():
        report.paused = earlier
        return report
    run = _Run(delivery, this_process(), report, earlier)
    batch = batch_size or delivery.settings.concurrency
    reclaim = dead_leases(digests)
    heartbeat = asyncio.create_task(_heartbeat(run))
    in_flight: set[asyncio.Task[None]] = set()
    try:
        while True:
            probing = run.earlier is not None
            if (
                run.paused is None
                and (stop is None or not stop.is_set())
                and len(in_flight) <= batch  # a full batch, never more than two in hand
                and not (probing and in_flight)
            ):
                claimed = _claim(run, 1 if probing else batch, reclaim)
                if claimed:
                    in_flight.update(
                        asyncio.create_task(_send_row(run, row, items)) for row, items in claimed
                    )
                    continue
            if not in_flight:
                break
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
    finally:
        if in_flight:  # an error above: let the others finish, so no row keeps our lease
            await asyncio.gather(*in_flight, return_exceptions=True)
        _charge_refusals(run)  # too few in a row to blame the server: each reader's own
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    report.paused = run.paused
    return report


def dead_leases(digests: Store) -> list[str]:
    """Leases held by processes of this host that no longer run: their rows go out at once."""
    return [
        holder.lease
        for holder in digests.lease_holders()
        if holder.host
        and holder.pid
        and holder.started
        and is_running(holder.host, holder.pid, holder.started) is False
    ]


def _claim(run: _Run, limit: int, reclaim: list[str]) -> list[tuple[OutboxRow, list[Item]]]:
    """Claim rows, each with its items picked now: the shared cache may be cleared before a
    row of this batch is rendered."""
    settings = run.delivery.settings
    lease = timedelta(seconds=settings.lease_seconds)
    rows = run.digests.claim(run.owner, run.delivery.clock(), limit, lease, reclaim)
    if len(run.items) > ITEM_CACHE_SIZE:  # cleared before, not after, working out what is missing
        run.items.clear()
    missing = sorted({i for row in rows for i in row.item_ids} - run.items.keys())
    if missing:
        run.items.update(run.digests.get_items(missing))
    return [(row, [run.items[i] for i in row.item_ids if i in run.items]) for row in rows]


async def _heartbeat(run: _Run) -> None:
    """Renew the lease while the run lasts; the lease can then be short."""
    lease = timedelta(seconds=run.delivery.settings.lease_seconds)
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)  # pacing the renewals, not a schedule
        run.digests.renew_lease(run.owner.lease, run.delivery.clock() + lease)


async def _send_row(run: _Run, row: OutboxRow, chosen: list[Item]) -> None:
    delivery, digests, report = run.delivery, run.digests, run.report
    settings = delivery.settings
    subscriber = row.subscriber
    if subscriber.status != "active":
        reason = f"not sent: subscriber is {subscriber.status}"
        digests.mark_failed(
            row,
            reason,
            delivery.clock(),
            cause=subscriber.status,
            max_hard_failures=settings.max_hard_failures,
        )
        report.cancelled += 1
        return
    if run.paused is not None:
        digests.release(row)
        report.held += 1
        return
    _, raw = delivery.composer.digest_message(
        subscriber, chosen, row.message_id, row.created_at, delivery.clock()
    )
    started = time.perf_counter()
    try:
        reply = await delivery.transport.send(
            delivery.composer.envelope_sender(row.id), subscriber.email, raw
        )
    except DeliveryError as err:
        _observe_send(delivery, started)
        _record_failure(run, row, err)
        return
    _observe_send(delivery, started)
    run.accepted = True
    _charge_refusals(run)  # the server accepts this reader: those refusals were their own
    digests.mark_sent(row, reply, delivery.clock())
    report.sent += 1
    metrics.DIGESTS_SENT.inc()
    if run.earlier is not None:
        _end_pause(run)


def _record_failure(run: _Run, row: OutboxRow, err: DeliveryError) -> None:
    digests, report = run.digests, run.report
    outcome = err.outcome
    if outcome.verdict is Verdict.PAUSE or run.paused is not None:
        digests.release(row)
        report.held += 1
        if run.paused is None:
            _start_pause(run, err)
        _release_refusals(run)
        return
    refused = outcome.stage == "rcpt" and outcome.verdict in (Verdict.BOUNCE, Verdict.REFUSE)
    if refused and not run.accepted:
        _hold_refusal(run, row, err)
        return
    _settle_failure(run, row, err)


def _hold_refusal(run: _Run, row: OutboxRow, err: DeliveryError) -> None:
    """Keep a RCPT refusal uncharged for now; pause when REFUSAL_STREAK readers are refused
    alike in a row (nobody accepted so far in this run)."""
    if run.refusals and _reply_of(run.refusals[0][1]) != _reply_of(err):
        _charge_refusals(run)
    run.refusals.append((row, err))
    readers = {held.subscriber.email.lower() for held, _ in run.refusals}
    if len(readers) >= REFUSAL_STREAK:
        _start_pause(run, err, f"{len(readers)} readers in a row refused alike")
        _release_refusals(run)


def _reply_of(err: DeliveryError) -> tuple[int | None, str | None]:
    return err.outcome.code, err.outcome.enhanced


def _charge_refusals(run: _Run) -> None:
    held, run.refusals = run.refusals, []
    for row, err in held:
        _settle_failure(run, row, err)


def _release_refusals(run: _Run) -> None:
    """The server is at fault: the held rows go back uncharged, due after the next probe."""
    held, run.refusals = run.refusals, []
    due_at = run.paused.next_probe_at if run.paused is not None else None
    for row, _ in held:
        run.digests.release(row, due_at=due_at)
        run.report.held += 1


def _settle_failure(run: _Run, row: OutboxRow, err: DeliveryError) -> None:
    delivery, digests, report = run.delivery, run.digests, run.report
    settings = delivery.settings
    verdict = err.outcome.verdict
    now = delivery.clock()
    if run.earlier is not None:  # the session got as far as this recipient: the server is back
        _end_pause(run)
    if verdict is Verdict.DEFER and row.attempts < settings.max_attempts:
        delay = timedelta(seconds=settings.retry_seconds * 2 ** (row.attempts - 1))
        digests.mark_retry(row, str(err), now + min(delay, MAX_BACKOFF))
        report.retried += 1
        metrics.DIGESTS_RETRIED.inc()
    else:
        cause = {Verdict.BOUNCE: "bounce", Verdict.DEFER: "deferred"}.get(verdict, "refused")
        suspended = digests.mark_failed(
            row, str(err), now, cause=cause, max_hard_failures=settings.max_hard_failures
        )
        report.failed += 1
        report.suspended += int(suspended)
        metrics.DIGESTS_FAILED.inc()
    log.warning("digest %s to %s: %s", row.period, row.subscriber.email, err)


def _start_pause(run: _Run, err: DeliveryError, why: str = "") -> None:
    delivery = run.delivery
    failures = (run.earlier.failures if run.earlier else 0) + 1
    delay = timedelta(seconds=delivery.settings.retry_seconds * 2 ** (failures - 1))
    now = delivery.clock()
    outcome = err.outcome
    next_probe_at = now + min(delay, MAX_PAUSE_BACKOFF)
    run.paused = delivery.digests.record_pause(
        delivery.transport.server, outcome.stage, outcome.reply, now, next_probe_at
    )
    _show_pause(run.paused)
    level = logging.WARNING if run.earlier else logging.ERROR
    log.log(
        level,
        "delivery paused: the mail server %s is at fault: %s%s; nobody is charged, next try at %s",
        run.paused.server,
        outcome.reply,
        f" ({why})" if why else "",
        run.paused.next_probe_at.isoformat(),
    )


def _end_pause(run: _Run) -> None:
    server = run.delivery.transport.server
    if run.digests.end_pause(server):
        log.warning("delivery resumed: the mail server %s accepts again", server)
    run.earlier = None
    _show_pause(None)


def _show_pause(pause: Pause | None) -> None:
    metrics.DELIVERY_PAUSED.set(1 if pause else 0)
    metrics.DELIVERY_PAUSED_SINCE.set(pause.since_at.timestamp() if pause else 0)


def _observe_send(delivery: Delivery, started: float) -> None:
    kind = "maildir" if delivery.transport.server.startswith("maildir") else "smtp"
    metrics.MAIL_SEND_SECONDS.labels(kind).observe(time.perf_counter() - started)


__all__ = ["RoundReport", "dead_leases", "send_outbox"]
