"""Reading the sign-up and preferences forms (cmsfeed.web.forms): every problem at once,
beside its field, in the page's language; "8:00" is a time; nothing guessed or dropped."""

from __future__ import annotations

import ast
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsfeed.errors import SubscriberError
from cmsfeed.i18n import translations
from cmsfeed.model import FREQUENCIES, WEEKDAYS
from cmsfeed.subscribers import check_timezone, parse_send_time
from cmsfeed.subscriptions.choices import SiteChoices, subscriber_from_values
from cmsfeed.subscriptions.options import Options, check_options
from cmsfeed.web import forms
from cmsfeed.web.forms import DigestChoice, read_digest_form

TOPICS = ("argali", "saiga", "bukhara-deer")
LANGUAGES = ("en", "ru")
ZONES = frozenset(zoneinfo.available_timezones())
CHOICES = SiteChoices(languages=LANGUAGES, topics=TOPICS)
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
    assert parse_send_time(text).strftime("%H:%M") == expected
    assert read({"email": ["anna@example.org"], "time": [text]}).values["time"] == expected


@pytest.mark.parametrize(
    "text", ["", "8", "24:00", "8:60", "8:5", "08:00:00", "8h00", "-1:00", "０８:００", "8:00pm"]
)
def test_anything_else_is_not_a_time(text: str) -> None:
    with pytest.raises(SubscriberError):
        parse_send_time(text)
    assert read({"email": ["anna@example.org"], "time": [text]}).errors == {
        "time": forms.TIME_INVALID
    }


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
    assert check_timezone("Europe/Moscow") == "Europe/Moscow"
    assert check_timezone("EUROPE/MOSCOW") == "Europe/Moscow"
    for not_a_zone in ("Moscow", "", "../etc/passwd"):
        with pytest.raises(SubscriberError):
            check_timezone(not_a_zone)
        answer = read({"email": ["anna@example.org"], "timezone": [not_a_zone]})
        assert answer.errors == {"timezone": forms.TIMEZONE_UNKNOWN}


# (weekday, time, zone) as typed, and what each path makes of them: None = refused.
TYPED = [
    (("mon", "8:00", "Asia/Almaty"), (0, "08:00", "Asia/Almaty")),
    (("Monday", "08:00", "asia/almaty"), (0, "08:00", "Asia/Almaty")),
    (("SUN", "23:59", "UTC"), (6, "23:59", "UTC")),
    (("monkey", "8:00", "UTC"), None),
    (("sunburn", "8:00", "UTC"), None),
    (("mon", "8:5", "UTC"), None),
    (("mon", "+8:00", "UTC"), None),
    (("mon", "24:00", "UTC"), None),
    (("mon", "8:00", "Almaty"), None),
]


@pytest.mark.parametrize(("typed", "expected"), TYPED)
def test_the_form_the_cli_and_the_service_read_choices_alike(typed, expected) -> None:  # type: ignore[no-untyped-def]
    weekday, time, zone = typed
    form = read(
        {"email": ["anna@example.org"], "weekday": [weekday], "time": [time], "timezone": [zone]}
    )
    cli_fields, cli_problems = check_options(
        Options(weekday=weekday, send_time=time, timezone=zone), CHOICES
    )
    values = {"email": "anna@example.org", "weekday": weekday, "time": time, "timezone": zone}
    try:
        service = subscriber_from_values(values, CHOICES, "web")
    except SubscriberError:
        service = None
    if expected is None:
        assert form.choice is None and cli_problems and service is None
        return
    day, hh_mm, canonical = expected
    assert form.choice is not None
    assert (WEEKDAYS.index(form.choice.weekday), form.choice.time, form.choice.timezone) == (
        day,
        hh_mm,
        canonical,
    )
    assert not cli_problems
    cli = (cli_fields["weekday"], cli_fields["send_time"].strftime("%H:%M"), cli_fields["timezone"])
    assert cli == expected
    assert service is not None
    assert (service.weekday, service.send_time.strftime("%H:%M"), service.timezone) == expected


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
