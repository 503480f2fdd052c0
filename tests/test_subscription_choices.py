"""What a reader may choose, checked, and carried through a confirmation link unchanged.
Pure: no store, no server."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsfeed.errors import SubscriberError
from cmsfeed.subscribers import FREQUENCIES, WEEKDAYS, Subscriber
from cmsfeed.subscriptions.choices import (
    MAX_VERSION,
    LinkDataError,
    SiteChoices,
    confirm_data,
    read_confirm_data,
    read_preferences_data,
    subscriber_from_values,
    values_of,
)

CHOICES = SiteChoices(("en", "ru", "kk"), ("argali", "saiga", "snow-leopard", "bukhara-deer"))

subscribers = st.builds(
    Subscriber,
    email=st.from_regex(r"[a-z0-9]{1,12}@[a-z]{1,10}\.(org|kz|ru)", fullmatch=True),
    language=st.sampled_from(CHOICES.languages),
    topics=st.lists(st.sampled_from(CHOICES.topics), unique=True).map(tuple),
    frequency=st.sampled_from(FREQUENCIES),
    weekday=st.integers(0, 6),
    send_time=st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    timezone=st.sampled_from(["UTC", "Asia/Almaty", "Asia/Bishkek", "Europe/Moscow"]),
    origin=st.just("web"),
)


@given(subscribers, st.integers(0, MAX_VERSION))
def test_a_confirmation_link_carries_every_choice_unchanged(wanted: Subscriber, version: int):
    assert read_confirm_data(confirm_data(wanted, version), CHOICES) == (wanted, version)


@given(subscribers, st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_VERSION + 1)))
def test_a_version_the_store_cannot_hold_is_malformed(wanted: Subscriber, version: int):
    with pytest.raises(LinkDataError):
        read_confirm_data(confirm_data(wanted, version), CHOICES)
    with pytest.raises(LinkDataError):
        read_preferences_data({"id": wanted.id, "version": version})
    assert subscriber_from_values(values_of(wanted), CHOICES, "web") == wanted


@given(st.lists(subscribers, unique_by=lambda s: s.id, max_size=20))
def test_n_distinct_forms_make_n_distinct_subscribers(wanted: list[Subscriber]):
    made = [subscriber_from_values(values_of(s), CHOICES, "web") for s in wanted]
    assert made == wanted and len({s.id for s in made}) == len(wanted)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"language": "de"}, "language: 'de' is not offered; expected one of en, ru, kk"),
        ({"topics": ["saiga", "dodo"]}, "topics: no topic 'dodo'"),
        ({"frequency": "hourly"}, "frequency: expected one of immediate, daily, weekly"),
        ({"weekday": "someday"}, "weekday: expected a weekday such as mon, got 'someday'"),
        ({"time": "8h"}, "time: expected a time of day such as 08:00, got '8h'"),
        ({"time": "24:00"}, "time: expected a time of day such as 08:00, got '24:00'"),
        ({"timezone": "Mars/Olympus"}, "timezone: expected an IANA time zone"),
    ],
)
def test_a_refused_choice_is_named_never_replaced(values: dict[str, Any], problem: str):
    with pytest.raises(SubscriberError) as raised:
        subscriber_from_values({"email": "a@example.org", **values}, CHOICES, "web")
    assert raised.value.problem.startswith(problem)


def test_one_topic_given_as_a_string_is_one_topic_and_both_times_of_day_are_read():
    made = subscriber_from_values(
        {"email": "a@example.org", "topics": "saiga", "time": "8:05"}, CHOICES, "web"
    )
    assert made.topics == ("saiga",) and made.send_time == time(8, 5)
    assert WEEKDAYS[made.weekday] == "mon" and made.language == "en"  # the site's first


@given(st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers())))
def test_confirmation_data_of_the_wrong_kind_is_link_data_error(data: Any):
    with pytest.raises(LinkDataError):
        read_confirm_data(data, CHOICES)


def test_preferences_data_names_a_subscriber_with_or_without_a_version():
    assert read_preferences_data("abc") == ("abc", None)
    assert read_preferences_data({"id": "abc", "version": 3}) == ("abc", 3)
    for bad in ("", 5, {"id": "abc"}, {"id": "abc", "version": "3"}, {"id": 1, "version": 1}):
        with pytest.raises(LinkDataError):
            read_preferences_data(bad)
