"""What a reader may choose (language, topics, schedule), checked, and how a choice travels in
a signed link. Pure: no I/O, no config objects (the site's languages and topics come in as
plain values).

Nothing is dropped or replaced quietly: a language the site does not offer or a topic it does
not have is refused with the field named, as is any other value that is not acceptable. A
signed link's data is read field by field; one that verifies but lacks a field or holds the
wrong kind of value is `LinkDataError`, which the pages answer with 400, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from cmsfeed.errors import SubscriberError
from cmsfeed.subscribers import (
    FREQUENCIES,
    WEEKDAYS,
    Subscriber,
    check_timezone,
    normalize_email,
    parse_send_time,
    parse_weekday,
)

T = TypeVar("T")

# The fields of a sign-up, as the form names them and a confirmation link carries them.
SIGN_UP_FIELDS = ("email", "language", "topics", "frequency", "weekday", "time", "timezone")


@dataclass(frozen=True, slots=True)
class SiteChoices:
    """The languages (the first is the default) and topic ids a reader may choose from."""

    languages: tuple[str, ...]
    topics: tuple[str, ...]

    @property
    def default_language(self) -> str:
        return self.languages[0]


class LinkDataError(ValueError):
    """A signed link whose data lacks a field or holds the wrong kind of value."""


# The largest version a link may name: the store's INTEGER column (a larger number signed by
# this site is a bug, and must answer 400 like other malformed data, not fail in the database).
MAX_VERSION = 2**31 - 1


def subscriber_from_values(
    values: Mapping[str, Any], choices: SiteChoices, origin: str
) -> Subscriber:
    """The subscriber a sign-up or preferences form asks for; SubscriberError names the first
    field that is not acceptable (`language: ...`, `topics: ...`)."""
    email = normalize_email(str(values.get("email", "")))
    language = str(values.get("language") or choices.default_language)
    if language not in choices.languages:
        raise SubscriberError(
            email, f"language: {language!r} is not offered; expected one of {_listed(choices)}"
        )
    given_topics = values.get("topics") or ()
    if isinstance(given_topics, str):  # one topic, not its letters
        given_topics = (given_topics,)
    topics = tuple(dict.fromkeys(str(topic) for topic in given_topics))
    unknown = [topic for topic in topics if topic not in choices.topics]
    if unknown:
        raise SubscriberError(
            email, f"topics: no topic {unknown[0]!r}; expected some of {', '.join(choices.topics)}"
        )
    frequency = str(values.get("frequency") or "daily")
    if frequency not in FREQUENCIES:
        raise SubscriberError(
            email, f"frequency: expected one of {', '.join(FREQUENCIES)}, got {frequency!r}"
        )
    return Subscriber(
        email=email,
        language=language,
        topics=topics,
        frequency=frequency,  # checked against FREQUENCIES above
        weekday=_checked(email, "weekday", parse_weekday, values.get("weekday") or "mon"),
        send_time=_checked(email, "time", parse_send_time, values.get("time") or "08:00"),
        timezone=_checked(email, "timezone", check_timezone, values.get("timezone") or "UTC"),
        status="active",
        origin=origin,
    )


def _checked(email: str, name: str, parse: Callable[[str], T], given: object) -> T:
    try:
        return parse(str(given))
    except SubscriberError as err:
        raise SubscriberError(email, f"{name}: {err.problem}, got {str(given)!r}") from err


def values_of(subscriber: Subscriber) -> dict[str, Any]:
    """A subscriber's choices as the form and a confirmation link hold them."""
    return {
        "email": subscriber.email,
        "language": subscriber.language,
        "topics": list(subscriber.topics),
        "frequency": subscriber.frequency,
        "weekday": WEEKDAYS[subscriber.weekday],
        "time": f"{subscriber.send_time:%H:%M}",
        "timezone": subscriber.timezone,
    }


def confirm_data(wanted: Subscriber, version: int) -> dict[str, Any]:
    """What a confirmation link carries: the checked choices and the version the address was
    at when it was asked for (0: unknown then)."""
    return {**values_of(wanted), "version": version}


def read_confirm_data(data: Any, choices: SiteChoices) -> tuple[Subscriber, int]:
    """The subscriber and version a confirmation link carries; LinkDataError when a field is
    missing or of the wrong kind, or its choices are no longer acceptable (a topic the site
    has since dropped: the reader signs up again rather than get less than they asked for)."""
    if not isinstance(data, dict):
        raise LinkDataError("expected an object of sign-up fields")
    for name in SIGN_UP_FIELDS:
        wanted_type = list if name == "topics" else str
        if not isinstance(data.get(name), wanted_type):
            raise LinkDataError(f"{name}: missing or not a {wanted_type.__name__}")
    if not all(isinstance(topic, str) for topic in data["topics"]):
        raise LinkDataError("topics: expected a list of strings")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= MAX_VERSION:
        raise LinkDataError("version: missing or not a whole number")
    try:
        return subscriber_from_values(data, choices, "web"), version
    except SubscriberError as err:
        raise LinkDataError(err.problem) from err


def preferences_data(subscriber: Subscriber) -> dict[str, Any]:
    """What the preferences form's token carries: the subscriber and their version."""
    return {"id": subscriber.id, "version": subscriber.version}


def read_preferences_data(data: Any) -> tuple[str, int | None]:
    """The subscriber id and version a preferences token carries; a link in an email names
    only the id (None: bound to no version)."""
    if isinstance(data, str) and data:
        return data, None
    if isinstance(data, dict):
        subscriber_id, version = data.get("id"), data.get("version")
        if (
            isinstance(subscriber_id, str)
            and isinstance(version, int)
            and not isinstance(version, bool)
            and 0 <= version <= MAX_VERSION
        ):
            return subscriber_id, version
    raise LinkDataError("expected a subscriber id, with its version in a form")


def read_subscriber_id(data: Any) -> str:
    """The subscriber id an unsubscribe link carries."""
    if isinstance(data, str) and data:
        return data
    raise LinkDataError("expected a subscriber id")


def _listed(choices: SiteChoices) -> str:
    return ", ".join(choices.languages)
