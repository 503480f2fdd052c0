"""The sign-up and preferences forms: the fields a browser sent in, the reader's choice and
every problem beside its field out. Pure: no I/O, no configuration objects.

Each problem is an English gettext message (marked with `N_` for extraction) that the page
translates into its own language; the reader sees them all at once, never a library's raw
words. Nothing is guessed: a topic, language or time zone the lists do not hold is a problem
to show, not a value to drop. The time accepts "8:00" as well as "08:00"; a time zone is
matched without regard to case ("asia/almaty") and kept in its canonical spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cmsfeed.errors import SubscriberError
from cmsfeed.model import FREQUENCIES, WEEKDAYS, Frequency, Weekday
from cmsfeed.subscribers import check_timezone, normalize_email, parse_send_time, parse_weekday

# An address has at most 254 characters (RFC 5321). A value is kept to one character more
# than that, so what is shown back stays small and an over-long value is refused as it
# stands, never cut into a valid, different one.
MAX_ADDRESS = 254
T = TypeVar("T")
FIELD_LENGTH = MAX_ADDRESS + 1


def N_(message: str) -> str:
    """Marks a message for extraction (pybabel's default keywords); translated where shown."""
    return message


EMAIL_MISSING = N_("Please enter your email address.")
EMAIL_INVALID = N_("Please enter an email address such as name@example.org.")
TOPIC_UNKNOWN = N_("Please choose topics from the list.")
LANGUAGE_UNKNOWN = N_("Please choose a language from the list.")
FREQUENCY_UNKNOWN = N_("Please choose how often from the list.")
WEEKDAY_UNKNOWN = N_("Please choose a day of the week from the list.")
TIME_INVALID = N_("Please enter a time of day such as 8:00 or 18:30.")
TIMEZONE_UNKNOWN = N_("Please choose a time zone from the list, such as Asia/Almaty.")


@dataclass(frozen=True, slots=True)
class DigestChoice:
    """What a reader asked for, checked: every value is one the site knows."""

    email: str
    topics: tuple[str, ...]
    language: str
    frequency: Frequency
    weekday: Weekday
    time: str  # HH:MM
    timezone: str

    def settings(self) -> dict[str, Any]:
        """As a [[subscribers]] table has them (what a confirmation link carries)."""
        return {
            "email": self.email,
            "topics": list(self.topics),
            "language": self.language,
            "frequency": self.frequency,
            "weekday": self.weekday,
            "time": self.time,
            "timezone": self.timezone,
        }


@dataclass(frozen=True, slots=True)
class FormAnswer:
    """The form as read: `values` to show back, `errors` per field, and the choice when
    there are none."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    choice: DigestChoice | None = None


def read_digest_form(
    fields: Mapping[str, Sequence[str]],
    defaults: Mapping[str, Any],
    *,
    topics: Collection[str],
    languages: Collection[str],
    zones: Collection[str],
    email: str | None = None,
) -> FormAnswer:
    """Read and check the form; `email` given (preferences), the address is not a field.

    A field that is absent keeps its value from `defaults`, except the topics: browsers send
    nothing for unticked boxes, so no `topic` field means none ticked (every topic).
    """
    values = {**defaults, "topics": list(defaults.get("topics", []))}
    for name in ("email", "language", "frequency", "weekday", "time", "timezone"):
        given = _first(fields, name)
        if given is not None:
            values[name] = given
    values["topics"] = list(dict.fromkeys(t.strip() for t in fields.get("topic", []) if t))
    if email is not None:
        values["email"] = email
    errors: dict[str, str] = {}

    address = str(values.get("email", ""))
    if email is None:
        if not address:
            errors["email"] = EMAIL_MISSING
        elif len(address) > MAX_ADDRESS:
            errors["email"] = EMAIL_INVALID
        else:
            try:
                address = normalize_email(address)
            except SubscriberError:
                errors["email"] = EMAIL_INVALID
    if any(topic not in topics for topic in values["topics"]):
        errors["topic"] = TOPIC_UNKNOWN
    if values.get("language") not in languages:
        errors["language"] = LANGUAGE_UNKNOWN
    if values.get("frequency") not in FREQUENCIES:
        errors["frequency"] = FREQUENCY_UNKNOWN
    # The forms read a weekday, a time and a zone as the CLI, imports and config do.
    weekday = _read(parse_weekday, values.get("weekday"))
    if weekday is None:
        errors["weekday"] = WEEKDAY_UNKNOWN
    send_time = _read(parse_send_time, values.get("time"))
    time = None if send_time is None else send_time.strftime("%H:%M")
    if time is None:
        errors["time"] = TIME_INVALID
    zone = _read(check_timezone, values.get("timezone"))
    if zone not in zones:
        zone = None
        errors["timezone"] = TIMEZONE_UNKNOWN
    if errors:
        return FormAnswer(values, errors)
    assert weekday is not None and time is not None and zone is not None
    choice = DigestChoice(
        email=address,
        topics=tuple(values["topics"]),
        language=str(values["language"]),
        frequency=values["frequency"],
        weekday=WEEKDAYS[weekday],
        time=time,
        timezone=zone,
    )
    shown = {"weekday": choice.weekday, "time": time, "timezone": zone}
    return FormAnswer({**values, **shown}, {}, choice)


def _read(parse: Callable[[str], T], given: object) -> T | None:
    """`parse(given)`, or None when it refuses the value (the form shows its own message)."""
    try:
        return parse(str(given if given is not None else ""))
    except SubscriberError:
        return None


def _first(fields: Mapping[str, Sequence[str]], name: str) -> str | None:
    found = fields.get(name)
    return found[0].strip()[:FIELD_LENGTH] if found else None
