"""Choosing what a subscriber gets in a round. Pure: `now` is a parameter.

A digest holds exactly the items in the subscriber's topics and language that were published
or first seen since their cursor (the end of the previous digest's window) and are available
by `now`, less any item an earlier digest already covered. The window reaches back a little
before the cursor (`LOOKBACK`) so that an ingest committing while a round runs is never
missed; the covered set keeps that overlap from sending anything twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from cmsfeed.model import Item
from cmsfeed.subscribers import QueuedDigest, Subscriber, due_slot, period_key

LOOKBACK = timedelta(hours=6)


def window_start(subscriber: Subscriber, now: datetime) -> datetime:
    """Items available after this moment may be new to the subscriber."""
    joined = subscriber.confirmed_at or subscriber.created_at or now
    cursor = subscriber.covered_until or joined
    return max(cursor - LOOKBACK, joined)


def choose_items(
    subscriber: Subscriber, candidates: Iterable[Item], covered: set[str], now: datetime
) -> list[Item]:
    """The subscriber's new items, newest first."""
    start = window_start(subscriber, now)
    chosen = [
        item
        for item in candidates
        if item.language == subscriber.language
        and subscriber.wants(item.topics)
        and item.id not in covered
        and item.published_at <= now
        and item.first_seen_at is not None
        and item.first_seen_at <= now
        and (item.first_seen_at > start or item.published_at > start)
    ]
    chosen.sort(key=lambda item: (item.published_at, item.id), reverse=True)
    return chosen


def message_id(subscriber: Subscriber, period: str, domain: str) -> str:
    """The same Message-ID for the same digest on every attempt and every machine."""
    digest = hashlib.sha256(f"{subscriber.id}/{period}".encode()).hexdigest()[:24]
    return f"<digest.{digest}@{domain}>"


def plan_round(
    subscribers: Sequence[Subscriber],
    candidates: Sequence[Item],
    covered: dict[str, set[str]],
    now: datetime,
    *,
    send_when_empty: bool,
    domain: str,
) -> list[QueuedDigest]:
    """What to queue for these subscribers now: one decision per due subscriber.

    A due subscriber with nothing new gets a cursor-only decision (no message) unless
    `send_when_empty`; immediate subscribers with nothing new get no decision at all.
    """
    decisions: list[QueuedDigest] = []
    for subscriber in subscribers:
        slot = due_slot(subscriber, now)
        if slot is None:
            continue
        chosen = choose_items(subscriber, candidates, covered.get(subscriber.id, set()), now)
        if not chosen and subscriber.frequency == "immediate":
            continue
        period = period_key(subscriber, slot)
        send = bool(chosen) or send_when_empty
        decisions.append(
            QueuedDigest(
                subscriber=subscriber,
                slot=slot,
                period=period,
                item_ids=tuple(item.id for item in chosen),
                message_id=message_id(subscriber, period, domain) if send else None,
            )
        )
    return decisions
