"""The options of `subscribers add`, which are also the columns of an import file, checked
against what the configuration offers. Pure: no I/O.

An option that is not given is None: a new subscriber takes the default, and `--update`
leaves what the store holds. Every problem of a record is reported at once, each naming the
option (`tz: expected an IANA time zone such as Asia/Almaty`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from cmsfeed.errors import SubscriberError
from cmsfeed.subscribers import (
    FREQUENCIES,
    Subscriber,
    check_timezone,
    describe_schedule,
    normalize_email,
    parse_send_time,
    parse_weekday,
)
from cmsfeed.subscriptions.choices import SiteChoices

# The options of `add` without their dashes, in the order of the help: the import columns.
COLUMNS = ("email", "lang", "topic", "frequency", "weekday", "time", "tz")
# A topic cell may list several, as `--topic` may be repeated.
TOPIC_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Options:
    """What a record asks for; None means "not given"."""

    language: str | None = None
    topics: tuple[str, ...] | None = None
    frequency: str | None = None
    weekday: str | None = None
    send_time: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    column: str  # one of COLUMNS
    reason: str

    def __str__(self) -> str:
        return f"{self.column}: {self.reason}"


def split_topics(cell: str) -> tuple[str, ...]:
    return tuple(topic for topic in TOPIC_SEPARATORS.split(cell) if topic)


def check_email(address: str) -> tuple[str | None, list[Problem]]:
    try:
        return normalize_email(address), []
    except SubscriberError as err:
        return None, [Problem("email", err.problem)]


def check_options(options: Options, offered: SiteChoices) -> tuple[dict[str, Any], list[Problem]]:
    """The given options as `Subscriber` fields, and every problem found."""
    fields: dict[str, Any] = {}
    problems: list[Problem] = []
    if options.language is not None:
        if options.language in offered.languages:
            fields["language"] = options.language
        else:
            expected = ", ".join(offered.languages)
            problems.append(Problem("lang", f"{options.language!r} is not one of {expected}"))
    if options.topics is not None:
        unknown = [topic for topic in options.topics if topic not in offered.topics]
        if unknown:
            configured = ", ".join(sorted(offered.topics)) or "none"
            reason = f"unknown topic(s) {', '.join(unknown)} (configured: {configured})"
            problems.append(Problem("topic", reason))
        else:
            fields["topics"] = tuple(dict.fromkeys(options.topics))
    if options.frequency is not None:
        if options.frequency in FREQUENCIES:
            fields["frequency"] = options.frequency
        else:
            reason = f"{options.frequency!r} is not one of {', '.join(FREQUENCIES)}"
            problems.append(Problem("frequency", reason))
    if options.weekday is not None:
        try:
            fields["weekday"] = parse_weekday(options.weekday)
        except SubscriberError as err:
            problems.append(Problem("weekday", f"{options.weekday!r}: {err.problem}"))
    if options.send_time is not None:
        try:
            fields["send_time"] = parse_send_time(options.send_time)
        except SubscriberError as err:
            problems.append(Problem("time", f"{options.send_time!r}: {err.problem}"))
    if options.timezone is not None:
        try:
            fields["timezone"] = check_timezone(options.timezone)
        except SubscriberError as err:
            problems.append(Problem("tz", f"{options.timezone!r}: {err.problem}"))
    return fields, problems


def describe_changes(old: Subscriber, new: Subscriber) -> str:
    """What an update changed, in words: "topics: all -> argali; schedule: ..."."""
    changes = []
    if old.language != new.language:
        changes.append(f"lang: {old.language} -> {new.language}")
    if old.topics != new.topics:
        changes.append(f"topic: {_topics(old)} -> {_topics(new)}")
    if describe_schedule(old) != describe_schedule(new):
        changes.append(f"schedule: {describe_schedule(old)} -> {describe_schedule(new)}")
    return "; ".join(changes)


def _topics(subscriber: Subscriber) -> str:
    return " ".join(subscriber.topics) or "all"


def apply_fields(subscriber: Subscriber, fields: dict[str, Any]) -> Subscriber:
    return replace(subscriber, **fields)
