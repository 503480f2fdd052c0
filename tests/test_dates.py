"""Dates as news sites write them: round-trips of every valid date, and never a guess."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from hypothesis import example, given
from hypothesis import strategies as st

from cmsfeed.dates import looks_like_date, parse_date
from cmsfeed.errors import DateError

ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
days = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))
recent_days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@given(days)
def test_english_day_month_year_round_trips(day: date):
    text = f"{day.day:02d} {ENGLISH_MONTHS[day.month - 1]} {day.year}"  # "%d %B %Y" in English
    assert parse_date(text) == midnight(day)
    assert parse_date(text, date_format="%d %B %Y") == midnight(day)
    assert looks_like_date(text)


@given(days)
@example(date(2023, 1, 24))
def test_russian_genitive_month_names_round_trip(day: date):
    text = format_date(day, "d MMMM y", locale="ru")  # "24 января 2023"
    assert parse_date(text, locales=("ru",)) == midnight(day)
    assert parse_date(text, locales=("ru",), date_format="%d %B %Y") == midnight(day)
    assert parse_date(f"{text} г.", locales=("ru",)) == midnight(day)
    assert looks_like_date(text, ("en", "ru"))


@given(days)
def test_russian_abbreviated_month_names_round_trip(day: date):
    text = format_date(day, "d MMM y", locale="ru")  # "24 янв. 2023"
    assert parse_date(text, locales=("ru",)) == midnight(day)


def test_russian_names_need_the_russian_locale():
    with pytest.raises(DateError, match="unknown month name 'января'"):
        parse_date("24 января 2023")


@given(days)
def test_iso_dates_round_trip(day: date):
    assert parse_date(day.isoformat()) == midnight(day)


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5)), timezone(timedelta(hours=-3, minutes=-30))]
        ),
    )
)
def test_iso_datetimes_round_trip_to_utc(moment: datetime):
    moment = moment.replace(microsecond=0)
    parsed = parse_date(moment.isoformat())
    assert parsed == moment
    assert parsed.tzinfo is UTC


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(2100, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=6))]),
    )
)
def test_rfc_822_round_trips(moment: datetime):
    moment = moment.replace(microsecond=0)
    text = format_datetime(moment)  # "Mon, 02 Dec 2024 10:00:00 +0000"
    assert parse_date(text) == moment
    assert looks_like_date(text)


@given(recent_days)
def test_a_date_without_a_time_is_midnight_in_the_sources_zone(day: date):
    almaty = ZoneInfo("Asia/Almaty")
    expected = datetime(day.year, day.month, day.day, tzinfo=almaty).astimezone(UTC)
    assert parse_date(day.isoformat(), zone=almaty) == expected
    assert (
        parse_date(f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}", zone=almaty) == expected
    )


@st.composite
def impossible_days(draw: st.DrawFn) -> tuple[int, int, int]:
    year = draw(st.integers(1000, 9999))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    return year, month, draw(st.integers(last + 1, 31)) if last < 31 else 32


@given(impossible_days())
@example((2024, 2, 31))
@example((2023, 2, 29))
def test_impossible_days_raise_date_error_in_every_form(ymd: tuple[int, int, int]):
    year, month, day = ymd
    english = f"{day} {ENGLISH_MONTHS[month - 1]} {year}"
    russian = f"{day} {format_date(date(2000, month, 1), 'MMMM', locale='ru')} {year}"
    for text, options in [
        (english, {}),
        (english, {"date_format": "%d %B %Y"}),
        (f"{ENGLISH_MONTHS[month - 1]} {day}, {year}", {}),
        (russian, {"locales": ("ru",)}),
        (f"{year}-{month:02d}-{day:02d}", {}),
        (f"{year}-{month:02d}-{day:02d}T10:00:00+00:00", {}),
    ]:
        with pytest.raises(DateError):
            parse_date(text, **options)
    assert looks_like_date(english)  # so a listing reports it instead of reading it as text


def test_an_impossible_day_is_reported_never_guessed():
    with pytest.raises(DateError) as raised:
        parse_date("31 February 2024")
    assert str(raised.value) == "'31 February 2024': no such day (day is out of range for month)"
    with pytest.raises(DateError, match="day is out of range"):
        parse_date("Sat, 31 Feb 2024 10:00:00 GMT")  # RFC 822 parsers like to roll over


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "2024",
        "December 2024",
        "32 13 2024",
        "02 Decembre 2024",
        "0000-01-01",
        "2024-13-01",
        "Mon, 02 Dec 2024 25:00:00 GMT",
    ],
)
def test_strings_that_are_no_date_raise_date_error(text: str):
    with pytest.raises(DateError):
        parse_date(text, locales=("en", "ru"))


@pytest.mark.parametrize(
    "text, date_format",
    [
        ("02 December 2024 25:00", "%d %B %Y %H:%M"),
        ("02 December 2024 10:75", "%d %B %Y %H:%M"),
        ("2024-02-30", "%Y-%m-%d"),
        ("0000-01-01", "%Y-%m-%d"),
    ],
)
def test_a_source_date_format_never_lets_a_bad_value_through(text: str, date_format: str):
    with pytest.raises(DateError):
        parse_date(text, date_format=date_format)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01",
        "1 January 0001",
        "Mon, 01 Jan 0001 00:00:00 +0100",
    ],
)
def test_dates_at_the_edge_of_the_calendar_raise_date_error(text: str):
    # Converting to UTC leaves the range datetime can hold.
    with pytest.raises(DateError):
        parse_date(text, zone=ZoneInfo("Asia/Almaty"))


@given(st.text(max_size=40), st.sampled_from([None, "%d %B %Y", "%Y-%m-%d %H:%M"]))
def test_any_text_gives_an_aware_utc_date_or_date_error(text: str, date_format: str | None):
    try:
        parsed = parse_date(text, locales=("en", "ru"), date_format=date_format)
    except DateError:
        return
    assert parsed.tzinfo is UTC


def test_an_unsupported_format_directive_is_named():
    with pytest.raises(DateError, match="unsupported directive %y"):
        parse_date("02 12 24", date_format="%d %m %y")
