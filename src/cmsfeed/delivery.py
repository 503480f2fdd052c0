"""Digest rounds: queue what is due, then send the outbox. Does I/O through what it is given.

`queue_round` streams subscribers from the store in chunks, asks the pure `digest.select` what
each due subscriber gets, and queues it (outbox row + cursor, one transaction). `send_outbox`
(cmsfeed.sending) claims queued rows in small leased batches, has the `DigestComposer`
(cmsfeed.digest.compose) turn each into a message with its deterministic Message-ID, sends it
through the transport and records the reply, or whose fault the failure was. A `Delivery`
holds what the rounds work with; cmsfeed.wiring builds one from config.toml, tests build one
around a real SMTP server. A change to how digests are queued or sent starts here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from cmsfeed import metrics
from cmsfeed.digest.compose import DigestComposer
from cmsfeed.digest.select import plan_round, window_start
from cmsfeed.mail import Transport
from cmsfeed.model import Clock
from cmsfeed.sending import RoundReport, send_outbox
from cmsfeed.store import Store
from cmsfeed.subscribers import (
    due_slot,
)


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How rounds queue and send: the `[digests]` values they use (defaults live in config)."""

    send_when_empty: bool
    concurrency: int  # rows claimed at a time under one lease
    lease_seconds: int  # renewed every third of it while sending
    retry_seconds: float  # first retry; doubles each time
    max_attempts: int
    max_hard_failures: int  # bounced digests in a row that suspend a subscriber


@dataclass
class Delivery:
    """What digest rounds work with: the outbox's store, the transport, the clock, the
    composer that makes each message, and the settings. Not frozen: the transport may be
    replaced between rounds (new credentials; the SMTP fault tests do)."""

    digests: Store
    transport: Transport
    clock: Clock
    composer: DigestComposer
    settings: DeliverySettings


def queue_round(
    delivery: Delivery, now: datetime, report: RoundReport | None = None
) -> RoundReport:
    """Queue a digest for every subscriber due at `now`; one transaction per chunk."""
    report = report or RoundReport()
    digests = delivery.digests
    for chunk in digests.iter_subscribers(statuses=["active"]):
        due = [sub for sub in chunk if due_slot(sub, now) is not None]
        if not due:
            continue
        lower = min(window_start(sub, now) for sub in due)
        candidates = digests.available_items(lower, now, {sub.language for sub in due})
        covered = digests.covered_items([sub.id for sub in due], lower)
        decisions = plan_round(
            due,
            candidates,
            covered,
            now,
            send_when_empty=delivery.settings.send_when_empty,
            domain=delivery.composer.domain,
        )
        report.due += len(decisions)
        report.empty += sum(1 for d in decisions if d.message_id is None)
        queued = digests.queue_digests(decisions, now)
        report.queued += queued
        metrics.DIGESTS_QUEUED.inc(queued)
    return report


async def run_round(
    delivery: Delivery, now: datetime | None = None, *, stop: asyncio.Event | None = None
) -> RoundReport:
    """One round: queue what is due at `now` (default: the clock), then send the outbox."""
    report = queue_round(delivery, now or delivery.clock())
    return await send_outbox(delivery, report, stop=stop)


__all__ = ["Delivery", "DeliverySettings", "RoundReport", "queue_round", "run_round", "send_outbox"]
