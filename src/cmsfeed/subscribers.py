"""Subscribers: who gets which digest, and when one is due. Pure: no I/O.

A subscriber has a schedule (immediately after ingest, daily, or weekly on a weekday) at a
local send time in an IANA time zone. `latest_slot` is the most recent scheduled moment at or
before `now`; a digest is due when that slot is later than the last one handled, so after any
downtime exactly one digest covers the whole gap.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email

from cmsfeed.errors import SubscriberError

# Defined once in the model; named here too because store/digests.py, web/subscriptions.py,
# scheduler.py and cli/subscribers.py import them from this module.
from cmsfeed.model import FREQUENCIES as FREQUENCIES
from cmsfeed.model import WEEKDAYS as WEEKDAYS
from cmsfeed.model import Frequency as Frequency

Status = Literal["pending", "active", "suspended", "unsubscribed"]
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SEND_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address and what it asked for. `topics` empty means every topic."""

    email: str
    language: str = "en"
    topics: tuple[str, ...] = ()
    frequency: Frequency = "daily"
    weekday: int = 0  # Monday, for weekly digests
    send_time: time = time(8, 0)
    timezone: str = "UTC"
    status: Status = "active"
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    last_slot_at: datetime | None = None  # the last scheduled slot handled
    covered_until: datetime | None = None  # items seen up to here were considered
    hard_failures: int = 0
    origin: str = "cli"  # config, web or cli
    suspended_at: datetime | None = None
    suspended_reason: str | None = None  # the refusal that suspended the address
    version: int = 0  # one more at every change; signed links name the one they were made for

    @property
    def id(self) -> str:
        return subscriber_id(self.email)

    def wants(self, topics: tuple[str, ...]) -> bool:
        return not self.topics or any(topic in self.topics for topic in topics)


@dataclass(frozen=True, slots=True)
class PreferenceChange:
    """New preferences for a known subscriber, and what changed, in words, for its history."""

    subscriber: Subscriber
    detail: str


@dataclass(frozen=True, slots=True)
class QueuedDigest:
    """A decision of a round: queue `item_ids` for `subscriber`'s `slot` (or, with no
    message_id, only advance the cursor: nothing new and nothing to send)."""

    subscriber: Subscriber
    slot: datetime
    period: str
    item_ids: tuple[str, ...]
    message_id: str | None


def subscriber_id(email: str) -> str:
    """A stable id from the normalized address, the same on every machine."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def normalize_email(address: str) -> str:
    """The address as stored, checked by email-validator; raises SubscriberError.

    Internationalised domains are kept in their Unicode form (the SMTP edge encodes them in
    IDNA); local parts must be ASCII, since most servers do not offer SMTPUTF8. Deliverability
    (DNS) is not checked here: the mail server is the judge of that.
    """
    try:
        checked = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as err:
        raise SubscriberError(address.strip() or "(empty)", str(err)) from err
    local, _, domain = checked.normalized.rpartition("@")
    return f"{local}@{domain.lower()}"


def ascii_email(address: str) -> str:
    """The address with its domain in IDNA (punycode), as an SMTP envelope needs it."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def parse_send_time(text: str) -> time:
    """A 24-hour time of day, "8:00" or "08:00"; SubscriberError for anything else ("8:5",
    "+8:00", "24:00", "8:00pm"). The one reading of a time for the forms, the CLI, imports,
    config and signed links."""
    found = _SEND_TIME.fullmatch(text.strip())
    if found is None:
        raise SubscriberError(text, "expected a time of day such as 08:00")
    return time(int(found.group(1)), int(found.group(2)))


def check_timezone(name: str) -> str:
    """The IANA zone `name` names, in its own spelling ("asia/almaty" is "Asia/Almaty");
    SubscriberError when it names none (a zone is never guessed: "Almaty" is not one)."""
    name = name.strip()
    canonical = _zones_by_lowercase().get(name.lower(), name)
    try:
        ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriberError(name, "expected an IANA time zone such as Asia/Almaty") from None
    return canonical


def parse_weekday(text: str) -> int:
    """0 (Monday) to 6 from "mon" or "monday", in any case; SubscriberError otherwise (a word
    that merely starts like a day, "monkey", is not one)."""
    name = text.strip().lower()
    for names in (WEEKDAYS, WEEKDAY_NAMES):
        if name in names:
            return names.index(name)
    raise SubscriberError(text, "expected a weekday such as mon")


@cache
def _zones_by_lowercase() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def latest_slot(subscriber: Subscriber, now: datetime) -> datetime:
    """The most recent scheduled send moment at or before `now`, in UTC.

    For `immediate` subscribers every moment is a slot: `now` itself.
    """
    if subscriber.frequency == "immediate":
        return now
    zone = ZoneInfo(subscriber.timezone)
    local_now = now.astimezone(zone)
    day = local_now.date()
    if subscriber.frequency == "weekly":
        day -= timedelta(days=(day.weekday() - subscriber.weekday) % 7)
    step = timedelta(days=7 if subscriber.frequency == "weekly" else 1)
    slot = datetime.combine(day, subscriber.send_time, tzinfo=zone)
    if slot > local_now:
        slot = datetime.combine(day - step, subscriber.send_time, tzinfo=zone)
    return slot.astimezone(UTC)


def due_slot(subscriber: Subscriber, now: datetime) -> datetime | None:
    """The slot a digest is due for now, or None when the subscriber is not due.

    Due means: active, and a scheduled moment has passed since the last digest (or since
    confirmation). Several missed moments make one slot, the latest.
    """
    if subscriber.status != "active":
        return None
    slot = latest_slot(subscriber, now)
    handled = subscriber.last_slot_at or subscriber.confirmed_at or subscriber.created_at
    if handled is not None and slot <= handled:
        return None
    return slot


def period_key(subscriber: Subscriber, slot: datetime) -> str:
    """The outbox key of a digest: one per subscriber and scheduled slot."""
    return f"{subscriber.frequency[0]}:{slot.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def describe_schedule(subscriber: Subscriber) -> str:
    if subscriber.frequency == "immediate":
        return "immediate"
    at = f"{subscriber.send_time:%H:%M} {subscriber.timezone}"
    if subscriber.frequency == "weekly":
        return f"weekly {WEEKDAYS[subscriber.weekday]} {at}"
    return f"daily {at}"
