"""Reading dates the way news sites write them. Pure: no I/O.

Accepted forms: ISO 8601 ("2024-12-02", "2024-12-02T10:00:00+01:00"), RFC 822
("Mon, 02 Dec 2024 10:00:00 GMT") and day-month-year with month names in any configured
locale ("02 December 2024", "24 января 2023", "24 янв. 2023 г."), plus "December 2, 2024".
A source may give its own `date_format` ("%d %B %Y"). A string that matches none of these,
or names an impossible day ("31 February 2024"), raises `DateError`: never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from cmsfeed.errors import DateError

_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_RFC822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+(\d{2,4})\s+\d{1,2}:\d{2}")
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
# "г.", "года" and "г" follow a year in Russian; they carry no information.
_YEAR_SUFFIX = re.compile(r"\s+(?:г\.?|года)$")

_FORMAT_TOKENS = {
    "%d": r"(?P<day>\d{1,2})",
    "%-d": r"(?P<day>\d{1,2})",
    "%m": r"(?P<month>\d{1,2})",
    "%-m": r"(?P<month>\d{1,2})",
    "%Y": r"(?P<year>\d{4})",
    "%B": r"(?P<month_name>[^\W\d_]+)\.?",
    "%b": r"(?P<month_name>[^\W\d_]+)\.?",
    "%H": r"(?P<hour>\d{1,2})",
    "%M": r"(?P<minute>\d{2})",
    "%S": r"(?P<second>\d{2})",
}


def parse_date(
    text: str,
    *,
    locales: Sequence[str] = ("en",),
    zone: tzinfo = UTC,
    date_format: str | None = None,
) -> datetime:
    """Read `text` as an aware UTC datetime; a date without a time is midnight in `zone`."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise DateError(repr(text), "empty date")
    if date_format is not None:
        return _parse_with_format(cleaned, date_format, tuple(locales), zone)
    if _ISO_START.match(cleaned):
        return _parse_iso(cleaned, zone)
    if _RFC822.match(cleaned):
        return _parse_rfc822(cleaned)
    return _parse_named_month(cleaned, tuple(locales), zone)


def looks_like_date(text: str, locales: Sequence[str] = ("en",)) -> bool:
    """Whether a line is meant as a date (even an impossible one such as "31 February 2024")."""
    cleaned = _YEAR_SUFFIX.sub("", " ".join(text.split()).lower())
    if _ISO_START.match(cleaned) and len(cleaned) <= 40:
        return True
    if _RFC822.match(text.strip()):
        return True
    months = _month_numbers(tuple(locales))
    for pattern, name_group in ((_DAY_MONTH_YEAR, 2), (_MONTH_DAY_YEAR, 1)):
        found = pattern.match(cleaned)
        if found and found.group(name_group) in months:
            return True
    return False


def _parse_iso(text: str, zone: tzinfo) -> datetime:
    try:
        if len(text) == 10:
            return _at_midnight(date.fromisoformat(text), zone)
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as err:  # Overflow: UTC is past year 1 or 9999
        raise DateError(repr(text), f"not a valid ISO 8601 date ({err})") from err


def _parse_rfc822(text: str) -> datetime:
    year = _RFC822.match(text)
    # email.utils reads "0001" as 2001, like "01"; four digits mean what they say.
    if year is not None and len(year.group(1)) > 2 and int(year.group(1)) < 1000:
        raise DateError(repr(text), f"not a valid RFC 822 date (year {year.group(1)})")
    try:
        parsed = parsedate_to_datetime(text)
        if parsed.tzinfo is None:  # "-0000" means "zone unknown"; RFC 5322 says read it as UTC
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError) as err:
        raise DateError(repr(text), f"not a valid RFC 822 date ({err})") from err


def _parse_named_month(text: str, locales: tuple[str, ...], zone: tzinfo) -> datetime:
    lowered = _YEAR_SUFFIX.sub("", text.lower())
    months = _month_numbers(locales)
    if found := _DAY_MONTH_YEAR.match(lowered):
        day, month_name, year = found.groups()
    elif found := _MONTH_DAY_YEAR.match(lowered):
        month_name, day, year = found.groups()
    else:
        raise DateError(
            repr(text), "expected a date such as '02 December 2024', ISO 8601 or RFC 822"
        )
    if month_name not in months:
        raise DateError(repr(text), f"unknown month name {month_name!r} for {', '.join(locales)}")
    return _build(text, int(year), months[month_name], int(day), zone)


def _parse_with_format(
    text: str, date_format: str, locales: tuple[str, ...], zone: tzinfo
) -> datetime:
    found = _format_pattern(date_format).match(text.lower())
    if not found:
        raise DateError(repr(text), f"does not match the date format {date_format!r}")
    parts = found.groupdict()
    if "month_name" in parts:
        months = _month_numbers(locales)
        if parts["month_name"] not in months:
            raise DateError(repr(text), f"unknown month name {parts['month_name']!r}")
        month = months[parts["month_name"]]
    else:
        month = int(parts["month"])
    try:
        clock = time(
            int(parts.get("hour") or 0),
            int(parts.get("minute") or 0),
            int(parts.get("second") or 0),
        )
    except ValueError as err:
        raise DateError(repr(text), f"no such time ({err})") from err
    return _build(text, int(parts["year"]), month, int(parts["day"]), zone, clock)


def _build(
    text: str, year: int, month: int, day: int, zone: tzinfo, clock: time = time()
) -> datetime:
    try:
        return datetime.combine(date(year, month, day), clock, zone).astimezone(UTC)
    except (ValueError, OverflowError) as err:
        raise DateError(repr(text), f"no such day ({err})") from err


def _at_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


@lru_cache(maxsize=64)
def _format_pattern(date_format: str) -> re.Pattern[str]:
    pieces = re.split(r"(%-?[a-zA-Z])", date_format)
    regex = []
    for piece in pieces:
        if piece in _FORMAT_TOKENS:
            regex.append(_FORMAT_TOKENS[piece])
        elif piece.startswith("%"):
            raise DateError(
                repr(date_format),
                f"unsupported directive {piece}; use " + " ".join(sorted(_FORMAT_TOKENS)),
            )
        else:
            regex.append(r"\s+".join(re.escape(word) for word in piece.lower().split(" ")))
    return re.compile("^" + "".join(regex) + "$")


def month_names(locales: Sequence[str]) -> frozenset[str]:
    """Every way the locales (and English) write a month, lowercased."""
    return frozenset(_month_numbers(tuple(locales)))


@lru_cache(maxsize=16)
def _month_numbers(locales: tuple[str, ...]) -> dict[str, int]:
    """Every way each locale writes a month ("января", "январь", "янв"), lowercased."""
    names: dict[str, int] = {}
    for code in ("en", *locales):
        try:
            locale = Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in locale.months[context][width].items():
                    names.setdefault(name.lower().rstrip("."), number)
    # English writes "Sept" as often as "Sep".
    names.setdefault("sept", 9)
    return names
