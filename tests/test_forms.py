"""Reading the sign-up and preferences forms (cmsfeed.web.forms): every problem at once,
beside its field, in the page's language; "8:00" is a time; nothing guessed or dropped."""

from __future__ import annotations

import ast
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsfeed.i18n import translations
from cmsfeed.model import FREQUENCIES, WEEKDAYS
from cmsfeed.web import forms
from cmsfeed.web.forms import DigestChoice, canonical_zone, parse_time, read_digest_form

TOPICS = ("argali", "saiga", "bukhara-deer")
LANGUAGES = ("en", "ru")
ZONES = frozenset(zoneinfo.available_timezones())
DEFAULTS = {
    "email": "",
    "topics": [],
    "language": "en",
    "frequency": "daily",
    "weekday": "mon",
    "time": "08:00",
    "timezone": "UTC",
}
MESSAGES = {
    forms.EMAIL_MISSING,
    forms.EMAIL_INVALID,
    forms.TOPIC_UNKNOWN,
    forms.LANGUAGE_UNKNOWN,
    forms.FREQUENCY_UNKNOWN,
    forms.WEEKDAY_UNKNOWN,
    forms.TIME_INVALID,
    forms.TIMEZONE_UNKNOWN,
}


def read(fields: dict[str, list[str]], email: str | None = None) -> forms.FormAnswer:
    return read_digest_form(
        fields, DEFAULTS, topics=TOPICS, languages=LANGUAGES, zones=ZONES, email=email
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8:00", "08:00"), ("08:00", "08:00"), (" 8:05 ", "08:05"), ("0:00", "00:00"),
     ("23:59", "23:59"), ("18:30", "18:30")],
)  # fmt: skip
def test_a_time_with_one_or_two_digits_of_hour(text: str, expected: str) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "8", "24:00", "8:60", "8:5", "08:00:00", "8h00", "-1:00", "０８:００", "8:00pm"]
)
def test_anything_else_is_not_a_time(text: str) -> None:
    assert parse_time(text) is None


def test_every_problem_is_reported_at_once_beside_its_field() -> None:
    answer = read(
        {
            "email": ["not an address"],
            "topic": ["argali", "unicorn"],
            "language": ["xx"],
            "frequency": ["hourly"],
            "weekday": ["someday"],
            "time": ["25:00"],
            "timezone": ["Mars/Olympus"],
        }
    )
    assert answer.choice is None
    assert answer.errors == {
        "email": forms.EMAIL_INVALID,
        "topic": forms.TOPIC_UNKNOWN,
        "language": forms.LANGUAGE_UNKNOWN,
        "frequency": forms.FREQUENCY_UNKNOWN,
        "weekday": forms.WEEKDAY_UNKNOWN,
        "time": forms.TIME_INVALID,
        "timezone": forms.TIMEZONE_UNKNOWN,
    }
    # What the reader typed is shown back as typed (the page escapes it), nothing dropped.
    assert answer.values["topics"] == ["argali", "unicorn"]
    assert answer.values["time"] == "25:00" and answer.values["timezone"] == "Mars/Olympus"


def test_a_good_form_gives_the_choice_in_canonical_form() -> None:
    answer = read(
        {
            "email": [" Anna@Example.ORG "],
            "topic": ["saiga", "argali", "saiga"],
            "language": ["ru"],
            "frequency": ["weekly"],
            "weekday": ["WED"],
            "time": ["8:00"],
            "timezone": ["asia/almaty"],
        }
    )
    assert answer.errors == {}
    assert answer.choice == DigestChoice(
        email="Anna@example.org",
        topics=("saiga", "argali"),
        language="ru",
        frequency="weekly",
        weekday="wed",
        time="08:00",
        timezone="Asia/Almaty",
    )


def test_an_empty_address_is_asked_for_and_preferences_keep_theirs() -> None:
    assert read({"email": [""]}).errors == {"email": forms.EMAIL_MISSING}
    kept = read({"email": ["other@example.org"], "time": ["9:30"]}, email="anna@example.org")
    assert kept.choice is not None and kept.choice.email == "anna@example.org"
    assert kept.choice.time == "09:30" and kept.choice.topics == ()  # no box ticked: all


def test_a_zone_is_matched_without_regard_to_case_but_never_guessed() -> None:
    assert canonical_zone("Europe/Moscow", ZONES) == "Europe/Moscow"
    assert canonical_zone("EUROPE/MOSCOW", ZONES) == "Europe/Moscow"
    assert canonical_zone("Moscow", ZONES) is None
    assert canonical_zone("", ZONES) is None


choices = st.builds(
    DigestChoice,
    email=st.from_regex(
        r"[a-z][a-z0-9]{0,6}(\.[a-z0-9]{1,5})?@[a-z]{1,8}\.(org|kz|ru)", fullmatch=True
    ),
    topics=st.lists(st.sampled_from(TOPICS), unique=True).map(tuple),
    language=st.sampled_from(LANGUAGES),
    frequency=st.sampled_from(FREQUENCIES),
    weekday=st.sampled_from(WEEKDAYS),
    time=st.times().map(lambda t: f"{t:%H:%M}"),
    timezone=st.sampled_from(sorted(ZONES)),
)


@given(st.lists(choices, min_size=1, max_size=20, unique_by=lambda c: c.email))
def test_each_choice_sent_comes_back_the_same(sent: list[DigestChoice]) -> None:
    # N distinct forms in, the N same choices out; reading one twice changes nothing.
    back = []
    for choice in sent:
        settings = choice.settings()
        fields = {name: [str(settings[name])] for name in settings if name != "topics"}
        fields["topic"] = list(choice.topics)
        fields["time"] = [f"{int(choice.time[:2])}:{choice.time[3:]}"]  # "8:05" for 08:05
        first, again = read(fields), read(fields)
        assert first == again
        back.append(first.choice)
    assert back == sent


@given(
    st.dictionaries(
        st.sampled_from(["email", "topic", "language", "frequency", "weekday", "time", "timezone"]),
        st.lists(st.text(max_size=300), max_size=3),
    )
)
def test_any_junk_gives_our_own_words_never_a_crash(fields: dict[str, list[str]]) -> None:
    answer = read(fields)
    assert set(answer.errors.values()) <= MESSAGES
    assert set(answer.errors) <= {"email", "topic", "language", "frequency", "weekday", "time",
                                  "timezone"}  # fmt: skip
    assert (answer.choice is None) == bool(answer.errors)
    assert all(len(str(value)) <= forms.FIELD_LENGTH for value in answer.values.values()
               if isinstance(value, str))  # fmt: skip


def test_every_problem_has_its_russian_words() -> None:
    russian = translations("ru")
    for message in MESSAGES:
        assert russian.gettext(message) != message, message


def test_the_form_reader_is_pure() -> None:
    # The package `cmsfeed.web` loads the server, so tests/test_purity.py cannot import this
    # module alone; its own imports are checked instead.
    tree = ast.parse(Path(forms.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    allowed = {"__future__", "re", "collections.abc", "dataclasses", "typing", "cmsfeed.errors",
               "cmsfeed.model", "cmsfeed.subscribers"}  # fmt: skip
    assert imported <= allowed


def test_an_over_long_address_is_refused_never_cut_into_another() -> None:
    local = "reader"
    domain = ".".join(["a" * 60, "b" * 60, "c" * 60, "d" * 60, "example.org"])
    fits = f"{local}@{'d' * 40}.{'e' * 40}.{'f' * 40}.{'g' * 40}.{'h' * 40}.example.org"
    assert read({"email": [fits]}).choice is not None
    too_long = f"{local}@{domain}"
    assert len(too_long) > 254
    answer = read({"email": [too_long]})
    assert answer.choice is None and answer.errors == {"email": forms.EMAIL_INVALID}
