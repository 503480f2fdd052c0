"""The pure parts of digests: when a subscriber is due, what they get, and that the pure
modules import no database, network or scheduler library."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from cmsfeed.digest.select import choose_items, plan_round
from cmsfeed.errors import SubscriberError
from cmsfeed.subscribers import Subscriber, due_slot, latest_slot, normalize_email, period_key
from support.clock import T0
from support.items import make_item

ALMATY_8 = Subscriber(
    "a@example.org",
    frequency="daily",
    send_time=time(8, 0),
    timezone="Asia/Almaty",
    confirmed_at=datetime(2024, 12, 1, tzinfo=UTC),
)


def test_daily_slot_is_local_send_time_in_the_subscribers_zone() -> None:
    # 08:00 in Almaty (UTC+5) is 03:00 UTC.
    assert latest_slot(ALMATY_8, datetime(2024, 12, 2, 3, 30, tzinfo=UTC)) == datetime(
        2024, 12, 2, 3, 0, tzinfo=UTC
    )
    assert latest_slot(ALMATY_8, datetime(2024, 12, 2, 2, 59, tzinfo=UTC)) == datetime(
        2024, 12, 1, 3, 0, tzinfo=UTC
    )


def test_weekly_slot_falls_on_the_weekday() -> None:
    weekly = replace(ALMATY_8, frequency="weekly", weekday=0)  # Monday; 2024-12-02 is one
    assert latest_slot(weekly, datetime(2024, 12, 5, tzinfo=UTC)) == datetime(
        2024, 12, 2, 3, 0, tzinfo=UTC
    )


def test_due_once_per_slot_and_once_after_downtime() -> None:
    now = datetime(2024, 12, 2, 4, 0, tzinfo=UTC)
    slot = due_slot(ALMATY_8, now)
    assert slot == datetime(2024, 12, 2, 3, 0, tzinfo=UTC)
    handled = replace(ALMATY_8, last_slot_at=slot)
    assert due_slot(handled, now + timedelta(hours=5)) is None
    # Ten days down: one digest, for the latest slot, not ten.
    later = now + timedelta(days=10)
    assert due_slot(handled, later) == datetime(2024, 12, 12, 3, 0, tzinfo=UTC)


def test_new_subscriber_is_due_at_the_first_send_time_after_confirming() -> None:
    joined = replace(ALMATY_8, confirmed_at=datetime(2024, 12, 2, 3, 30, tzinfo=UTC))
    assert due_slot(joined, datetime(2024, 12, 2, 23, 0, tzinfo=UTC)) is None
    assert due_slot(joined, datetime(2024, 12, 3, 3, 0, tzinfo=UTC)) is not None


def test_inactive_subscribers_are_never_due() -> None:
    for status in ("pending", "suspended", "unsubscribed"):
        assert due_slot(replace(ALMATY_8, status=status), T0 + timedelta(days=3)) is None


def _seen(item, at):  # type: ignore[no-untyped-def]
    return replace(item, first_seen_at=at)


def test_choose_items_by_topic_language_window_and_covered() -> None:
    sub = Subscriber("a@example.org", topics=("saiga",), confirmed_at=T0)
    fresh = _seen(make_item("saiga new", topics=("saiga",)), T0 + timedelta(hours=1))
    other_topic = _seen(make_item("argali new", topics=("argali",)), T0 + timedelta(hours=1))
    other_language = _seen(
        make_item("сайгак", topics=("saiga",), language="ru"), T0 + timedelta(hours=1)
    )
    before = _seen(
        make_item("saiga old", topics=("saiga",), published_at=T0 - timedelta(days=3)),
        T0 - timedelta(hours=1),
    )
    covered = _seen(make_item("saiga sent", topics=("saiga",)), T0 + timedelta(hours=1))
    now = T0 + timedelta(days=1)
    chosen = choose_items(
        sub, [fresh, other_topic, other_language, before, covered], {covered.id}, now
    )
    assert [item.title for item in chosen] == ["saiga new"]


def test_an_old_story_first_seen_now_is_new_to_the_subscriber() -> None:
    sub = Subscriber("a@example.org", confirmed_at=T0)
    old = _seen(
        make_item("from 2019", published_at=datetime(2019, 5, 1, tzinfo=UTC)),
        T0 + timedelta(minutes=5),
    )
    assert choose_items(sub, [old], set(), T0 + timedelta(days=1)) == [old]


def test_plan_round_queues_nothing_when_nothing_is_new_unless_asked() -> None:
    sub = Subscriber("a@example.org", confirmed_at=T0)
    now = T0 + timedelta(days=1, hours=3)
    quiet = plan_round([sub], [], {}, now, send_when_empty=False, domain="x.example")
    assert len(quiet) == 1 and quiet[0].message_id is None  # only the cursor moves
    loud = plan_round([sub], [], {}, now, send_when_empty=True, domain="x.example")
    assert loud[0].message_id is not None
    immediate = replace(sub, frequency="immediate")
    assert plan_round([immediate], [], {}, now, send_when_empty=False, domain="x") == []


def test_message_id_is_deterministic_per_subscriber_and_period() -> None:
    sub = Subscriber("a@example.org", confirmed_at=T0)
    now = T0 + timedelta(days=1, hours=3)
    item = _seen(make_item("x"), T0 + timedelta(hours=1))
    first = plan_round([sub], [item], {}, now, send_when_empty=False, domain="x.example")
    again = plan_round([sub], [item], {}, now, send_when_empty=False, domain="x.example")
    assert first[0].message_id == again[0].message_id
    assert first[0].period == period_key(sub, first[0].slot)


@pytest.mark.parametrize("address", ["user@bücher.example", "User@Example.ORG"])
def test_addresses_are_validated_and_normalized(address: str) -> None:
    assert normalize_email(address).endswith(address.rpartition("@")[2].lower())


@pytest.mark.parametrize(
    "address",
    ["", "no-at-sign", "a@b", "a b@example.org", "x@example.org\r\nBcc: evil@example.org"],
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(SubscriberError):
        normalize_email(address)


def test_pure_modules_import_no_database_network_or_scheduler() -> None:
    code = (
        "import sys; import cmsfeed.digest.select, cmsfeed.digest.render, "
        "cmsfeed.digest.message, cmsfeed.digest.links, cmsfeed.subscribers; "
        "bad = [m for m in ('sqlalchemy', 'aiosmtplib', 'apscheduler', 'httpx', 'psycopg',"
        " 'starlette', 'smtplib') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
