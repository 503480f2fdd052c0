"""The subscription service on a real store (SQLite and PostgreSQL) with its real messages,
written to a Maildir: sign up, confirm once, links bound to the subscriber's version, and
signed links whose fields are missing or malformed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import mailbox
import re
import threading
from dataclasses import dataclass, replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.bounces.match import Kind, Target
from cmsfeed.digest.links import make_token, read_token, unsubscribe_link
from cmsfeed.store import Store
from cmsfeed.store.bounces import SoftBouncePolicy
from cmsfeed.subscribers import Subscriber, subscriber_id
from cmsfeed.subscriptions.choices import SiteChoices
from cmsfeed.subscriptions.messages import ComposedMail
from cmsfeed.subscriptions.service import Outcome, SubscriptionService
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config
from support.digest import open_stores

SECRET = b"service-secret"
CHOICES = SiteChoices(("en", "ru"), ("argali", "saiga", "bukhara-deer"))
SIGN_UP = {
    "email": "anna@example.org",
    "language": "ru",
    "topics": ["saiga"],
    "frequency": "daily",
    "weekday": "mon",
    "time": "8:00",
    "timezone": "Asia/Almaty",
}


@dataclass
class Site:
    service: SubscriptionService
    digests: Store
    clock: FixedClock
    maildir: Path

    def mails_to(self, address: str) -> list[EmailMessage]:
        found: list[EmailMessage] = []
        if not self.maildir.exists():
            return found
        for raw in mailbox.Maildir(str(self.maildir), create=False):
            parsed = message_from_bytes(raw.as_bytes(), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            if [a.addr_spec for a in parsed["To"].addresses] == [address]:
                found.append(parsed)
        return sorted(found, key=lambda m: str(m["Message-ID"]))

    def welcomes_to(self, address: str) -> int:
        return sum("welcome." in str(m["Message-ID"]) for m in self.mails_to(address))

    def confirm_tokens(self, address: str) -> list[str]:
        return [
            unquote(match)
            for m in self.mails_to(address)
            if "confirm." in str(m["Message-ID"])
            for match in re.findall(r"/confirm\?token=(\S+)", _text(m))
        ]

    def sign_up(self, **values: Any) -> str:
        """Sign up and return the token of the confirmation link that came by mail."""
        address = values.get("email", SIGN_UP["email"])
        before = set(self.confirm_tokens(address))
        result = asyncio.run(self.service.sign_up({**SIGN_UP, **values}, self.clock()))
        assert result.outcome is Outcome.CHECK_INBOX
        (token,) = set(self.confirm_tokens(address)) - before
        return token

    def confirm(self, token: str) -> Outcome:
        return asyncio.run(self.service.confirm(token, self.clock())).outcome


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


@pytest.fixture
def site(tmp_path: Path, store_url: str) -> Site:
    config = digest_config(tmp_path, store_url=store_url)
    _store, digests = open_stores(config)
    clock = FixedClock()
    delivery = build_delivery(config, digests, clock, {"CMSFEED_SECRET": SECRET.decode()})
    service = SubscriptionService(
        digests,
        ComposedMail(delivery.composer, delivery.transport),
        SECRET,
        CHOICES,
        confirm_days=7,
    )
    return Site(service, digests, clock, tmp_path / "maildir")


def test_nothing_is_stored_before_confirming_and_one_confirmation_subscribes_once(site):
    token = site.sign_up()
    assert site.digests.get_subscriber("anna@example.org") is None
    assert site.service.read_confirmation(token, site.clock()).outcome is Outcome.READY
    assert site.confirm(token) is Outcome.CONFIRMED
    anna = site.digests.get_subscriber("anna@example.org")
    assert anna is not None and anna.status == "active" and anna.version == 1
    assert (anna.language, anna.topics, anna.timezone) == ("ru", ("saiga",), "Asia/Almaty")
    assert f"{anna.send_time:%H:%M}" == "08:00"  # "8:00" is a time of day too
    # Pressed again (a second tab, the back button, a link scanner replaying the POST).
    assert site.confirm(token) is Outcome.STALE
    assert site.service.read_confirmation(token, site.clock()).outcome is Outcome.STALE
    assert site.digests.get_subscriber("anna@example.org") == anna
    assert site.welcomes_to("anna@example.org") == 1


def test_a_confirmation_replayed_after_unsubscribe_does_not_resubscribe(site):
    token = site.sign_up()
    assert site.confirm(token) is Outcome.CONFIRMED
    out = unsubscribe_link("http://x/", SECRET, subscriber_id("anna@example.org"))
    result = site.service.unsubscribe(out.split("token=")[1], site.clock())
    assert result.outcome is Outcome.UNSUBSCRIBED and result.subscriber is not None
    gone = result.subscriber
    assert gone.status == "unsubscribed" and gone.version == 2
    site.clock.advance(days=1)
    stale = asyncio.run(site.service.confirm(token, site.clock()))
    assert stale.outcome is Outcome.STALE and stale.subscriber == gone  # the state as it is
    assert site.digests.get_subscriber("anna@example.org") == gone
    assert site.welcomes_to("anna@example.org") == 1
    # Unsubscribing again changes nothing; signing up again is how one comes back.
    assert site.service.unsubscribe(out.split("token=")[1], site.clock()).subscriber == gone
    assert site.confirm(site.sign_up(language="en")) is Outcome.CONFIRMED
    back = site.digests.get_subscriber("anna@example.org")
    assert back is not None and back.status == "active" and back.language == "en"
    assert site.welcomes_to("anna@example.org") == 2


def test_an_unsubscribe_is_undone_once_and_only_while_nothing_changed_since(site):
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    anna = site.digests.get_subscriber("anna@example.org")
    unsubscribe = unsubscribe_link("http://x/", SECRET, subscriber_id("anna@example.org"))
    out = site.service.unsubscribe(unsubscribe.split("token=")[1], site.clock())
    assert out.outcome is Outcome.UNSUBSCRIBED and out.token is not None
    back = site.service.resubscribe(out.token, site.clock())
    assert back.outcome is Outcome.RESUBSCRIBED and back.subscriber is not None
    assert anna is not None and back.subscriber == replace(anna, version=anna.version + 2)
    assert site.service.resubscribe(out.token, site.clock()).outcome is Outcome.STALE
    # Out again, then signed up again with other choices: the older undo changes nothing.
    again = site.service.unsubscribe(unsubscribe.split("token=")[1], site.clock())
    assert again.token is not None
    assert site.confirm(site.sign_up(language="en")) is Outcome.CONFIRMED
    now_state = site.digests.get_subscriber("anna@example.org")
    stale = site.service.resubscribe(again.token, site.clock())
    assert stale.outcome is Outcome.STALE and stale.subscriber == now_state
    # It expires as a confirmation does, and is no unsubscribe or preferences link.
    third = site.service.unsubscribe(unsubscribe.split("token=")[1], site.clock())
    assert third.token is not None
    assert site.service.unsubscribe(third.token, site.clock()).outcome is Outcome.BAD_LINK
    later = site.clock() + timedelta(days=8)
    assert site.service.resubscribe(third.token, later).outcome is Outcome.BAD_LINK
    assert site.welcomes_to("anna@example.org") == 2  # one per confirmation, none for an undo


def test_a_confirmation_older_than_saved_preferences_changes_nothing(site):
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    older = site.sign_up(topics=["argali"])  # asked for while subscribed, not yet confirmed
    opened = site.service.open_preferences(_preferences_token(), site.clock())
    assert opened.outcome is Outcome.READY and opened.token is not None
    saved = site.service.save_preferences(
        opened.token, {**SIGN_UP, "frequency": "weekly", "weekday": "wed"}, site.clock()
    )
    assert saved.outcome is Outcome.SAVED and saved.subscriber is not None
    assert saved.subscriber.frequency == "weekly" and saved.subscriber.version == 2
    assert site.confirm(older) is Outcome.STALE
    assert site.digests.get_subscriber("anna@example.org") == saved.subscriber
    assert site.welcomes_to("anna@example.org") == 1


def test_a_preferences_form_saves_once_and_a_stale_one_shows_the_current_state(site):
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    link_token = _preferences_token()
    first = site.service.open_preferences(link_token, site.clock())
    second = site.service.open_preferences(link_token, site.clock())  # another tab
    assert first.token is not None and second.token is not None
    saved = site.service.save_preferences(first.token, {**SIGN_UP, "topics": []}, site.clock())
    assert saved.outcome is Outcome.SAVED
    stale = site.service.save_preferences(second.token, {**SIGN_UP, "language": "en"}, site.clock())
    assert stale.outcome is Outcome.STALE and stale.subscriber == saved.subscriber
    assert stale.token is not None and stale.token != second.token  # the form, as it is now
    # The email's own link, posted without its form, is bound to no version: shown, not saved.
    posted = site.service.save_preferences(link_token, {**SIGN_UP, "language": "en"}, site.clock())
    assert posted.outcome is Outcome.STALE
    assert site.digests.get_subscriber("anna@example.org") == saved.subscriber
    # The link in the email still opens the form, bound to the version now.
    assert site.service.open_preferences(link_token, site.clock()).outcome is Outcome.READY


def test_a_refused_choice_names_its_field_and_changes_nothing(site):
    for values, field in [
        ({"language": "de"}, "language"),
        ({"topics": ["saiga", "unicorn"]}, "topics"),
        ({"time": "25:00"}, "time"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"frequency": "hourly"}, "frequency"),
        ({"weekday": "someday"}, "weekday"),
    ]:
        result = asyncio.run(site.service.sign_up({**SIGN_UP, **values}, site.clock()))
        assert result.outcome is Outcome.INVALID and str(result.problem).startswith(f"{field}:")
    assert site.mails_to("anna@example.org") == []
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    opened = site.service.open_preferences(_preferences_token(), site.clock())
    assert opened.token is not None
    refused = site.service.save_preferences(opened.token, {"time": "8h"}, site.clock())
    assert refused.outcome is Outcome.INVALID and str(refused.problem).startswith("time:")
    assert site.digests.get_subscriber("anna@example.org") == opened.subscriber


def test_operator_and_delivery_changes_make_older_links_stale(site):
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    anna = site.digests.get_subscriber("anna@example.org")
    assert anna is not None
    bounces = site.digests

    def report(kind: Kind) -> None:
        target = Target(anna.id, anna.email, kind, "5.1.1", "no such user", "message-id")
        policy = SoftBouncePolicy(3, timedelta(days=7))
        assert bounces.apply_bounce(
            f"<{kind}@mx>", target, site.clock(), site.clock(), policy
        ).action in (
            "suspended",
            "unsubscribed",
        )

    for change in (
        lambda: site.digests.suspend_subscriber(anna.id, "550 no such user", site.clock()),
        lambda: site.digests.reactivate_subscriber(anna.id, site.clock()),
        lambda: site.digests.save_subscriber(replace(anna, language="en"), site.clock()),
        lambda: site.digests.set_subscriber_status(anna.id, "active"),
        lambda: site.digests.record_hard_failure(anna.id, "550 gone", site.clock(), 1),
        lambda: site.digests.reactivate_subscriber(anna.id, site.clock()),
        lambda: report("hard"),  # a bounce read by mail suspends
        lambda: site.digests.reactivate_subscriber(anna.id, site.clock()),
        lambda: report("complaint"),  # a spam complaint unsubscribes
    ):
        token = site.sign_up()
        before = site.digests.get_subscriber(anna.id)
        assert before is not None
        change()
        after = site.digests.get_subscriber(anna.id)
        assert after is not None and after.version == before.version + 1
        assert site.confirm(token) is Outcome.STALE
        assert site.digests.get_subscriber(anna.id) == after
    assert site.welcomes_to("anna@example.org") == 1


def test_confirming_at_once_from_many_threads_subscribes_and_welcomes_once(site):
    token = site.sign_up()
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(6)

    def press() -> None:
        barrier.wait()
        outcomes.append(site.confirm(token))

    threads = [threading.Thread(target=press) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.value for o in outcomes) == ["confirmed"] + ["stale"] * 5
    assert site.welcomes_to("anna@example.org") == 1


RUN = itertools.count()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    locals_=st.lists(
        st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", fullmatch=True).filter(
            lambda s: ".." not in s
        ),
        min_size=1,
        max_size=6,
        unique_by=str.lower,
    ),
    languages=st.lists(st.sampled_from(CHOICES.languages), min_size=6, max_size=6),
)
def test_n_distinct_sign_ups_make_n_subscribers_and_replays_change_nothing(
    site, locals_, languages
):
    run = next(RUN)
    addresses = [f"{local}@run{run}.example.org" for local in locals_]
    tokens = [
        site.sign_up(email=a, language=lang) for a, lang in zip(addresses, languages, strict=False)
    ]
    assert [site.confirm(t) for t in tokens] == [Outcome.CONFIRMED] * len(tokens)
    stored = [site.digests.get_subscriber(a) for a in addresses]
    assert all(s is not None and s.status == "active" for s in stored)
    assert len({s.id for s in stored if s}) == len(addresses)
    assert [s.language for s in stored if s] == languages[: len(addresses)]
    assert [site.confirm(t) for t in tokens] == [Outcome.STALE] * len(tokens)
    assert [site.digests.get_subscriber(a) for a in addresses] == stored
    assert [site.welcomes_to(a) for a in addresses] == [1] * len(addresses)


# -- signed links whose data is missing or malformed: a bad link, never a crash ----------------

GOOD_CONFIRM = {**SIGN_UP, "time": "08:00", "version": 0}
MALFORMED_CONFIRM = [
    *({k: v for k, v in GOOD_CONFIRM.items() if k != name} for name in GOOD_CONFIRM),
    {**GOOD_CONFIRM, "topics": "saiga"},
    {**GOOD_CONFIRM, "topics": [1, 2]},
    {**GOOD_CONFIRM, "version": "0"},
    {**GOOD_CONFIRM, "version": True},
    {**GOOD_CONFIRM, "version": -1},
    {**GOOD_CONFIRM, "email": 5},
    {**GOOD_CONFIRM, "email": "not an address"},
    {**GOOD_CONFIRM, "timezone": "Mars/Olympus"},
    {**GOOD_CONFIRM, "topics": ["dodo"]},
    ["anna@example.org"],
    "anna@example.org",
    None,
]


@pytest.mark.parametrize("data", MALFORMED_CONFIRM)
def test_a_confirmation_link_with_unusable_fields_is_a_bad_link(site, data) -> None:  # type: ignore[no-untyped-def]
    token = make_token(SECRET, "confirm", data, site.clock() + timedelta(days=1))
    for result in (
        site.service.read_confirmation(token, site.clock()),
        asyncio.run(site.service.confirm(token, site.clock())),
    ):
        assert result.outcome is Outcome.BAD_LINK and result.problem
        assert result.language in ("ru", None)  # the link's own language, when it is usable
    assert site.digests.get_subscriber("anna@example.org") is None
    assert site.mails_to("anna@example.org") == []


@pytest.mark.parametrize(
    "data", [None, 5, "", ["id"], {"id": 5, "version": 1}, {"id": "x"}, {"version": 1}]
)
def test_preferences_unsubscribe_and_undo_links_with_unusable_fields_are_bad_links(
    site, data
) -> None:  # type: ignore[no-untyped-def]
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    anna = site.digests.get_subscriber("anna@example.org")
    now = site.clock()
    preferences = make_token(SECRET, "preferences", data)
    unsubscribe = make_token(SECRET, "unsubscribe", data)
    undo = make_token(SECRET, "resubscribe", data)
    assert site.service.resubscribe(undo, now).outcome is Outcome.BAD_LINK
    unversioned = make_token(SECRET, "resubscribe", subscriber_id("anna@example.org"))
    assert site.service.resubscribe(unversioned, now).outcome is Outcome.BAD_LINK
    assert site.service.open_preferences(preferences, now).outcome is Outcome.BAD_LINK
    assert site.service.save_preferences(preferences, SIGN_UP, now).outcome is Outcome.BAD_LINK
    assert site.service.read_unsubscribe(unsubscribe, now).outcome is Outcome.BAD_LINK
    assert site.service.unsubscribe(unsubscribe, now).outcome is Outcome.BAD_LINK
    assert site.digests.get_subscriber("anna@example.org") == anna


# -- links in emails sent before itsdangerous --------------------------------------------------


def _earlier_token(purpose: str, data: Any, expiry: int = 0) -> str:
    """A token as cmsfeed made them before itsdangerous: payload.HMAC-SHA256[:20]."""

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    payload = encode(json.dumps([purpose, data, expiry], separators=(",", ":")).encode())
    signature = hmac.new(SECRET, payload.encode("ascii"), hashlib.sha256).digest()[:20]
    return f"{payload}.{encode(signature)}"


def test_links_of_the_earlier_format_still_work(site):
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    anna_id = subscriber_id("anna@example.org")
    assert read_token(SECRET, _earlier_token("view", [anna_id]), "view", site.clock()) == [anna_id]
    with pytest.raises(Exception, match="meant for something else"):
        read_token(SECRET, _earlier_token("view", anna_id), "unsubscribe", site.clock())
    opened = site.service.open_preferences(_earlier_token("preferences", anna_id), site.clock())
    assert opened.outcome is Outcome.READY
    # A confirmation link of then was made at version 0: after the confirmation above it is old.
    earlier = _earlier_token("confirm", {k: v for k, v in GOOD_CONFIRM.items() if k != "version"})
    assert site.confirm(earlier) is Outcome.STALE
    out = site.service.unsubscribe(_earlier_token("unsubscribe", anna_id), site.clock())
    assert out.outcome is Outcome.UNSUBSCRIBED and out.subscriber is not None
    assert out.subscriber.status == "unsubscribed"
    assert site.welcomes_to("anna@example.org") == 1


def test_an_earlier_confirmation_link_for_a_new_address_confirms(site):
    data = {k: v for k, v in GOOD_CONFIRM.items() if k != "version"}
    expiry = int((site.clock() + timedelta(days=1)).timestamp())
    assert site.confirm(_earlier_token("confirm", data, expiry)) is Outcome.CONFIRMED
    assert site.welcomes_to("anna@example.org") == 1
    site.clock.advance(days=2)
    assert site.confirm(_earlier_token("confirm", data, expiry)) is Outcome.BAD_LINK  # expired


def _preferences_token() -> str:
    return make_token(SECRET, "preferences", subscriber_id("anna@example.org"))


def test_subscribers_stored_before_versions_start_at_zero(tmp_path: Path, store_url: str):
    from sqlalchemy import insert

    from cmsfeed.store import Store, migrate
    from cmsfeed.store.schema import subscribers
    from cmsfeed.store.subscriber_rows import subscriber_values

    old = Store.open(store_url, upgrade=False)
    try:
        migrate.upgrade(old.engine, "0008")  # the schema before versions
        anna = Subscriber("anna@example.org", language="ru", topics=("saiga",))
        with old.engine.begin() as connection:
            connection.execute(
                insert(subscribers).values(
                    **subscriber_values(anna),
                    status="active",
                    origin="web",
                    created_at=FixedClock()(),
                    hard_failures=0,
                )
            )
        old.upgrade()
        digests = old
        stored = digests.get_subscriber("anna@example.org")
        assert stored is not None and stored.version == 0 and stored.topics == ("saiga",)
        # A confirmation link of the earlier format, made before the upgrade, still confirms
        # (the preferences it asked for) exactly once.
        clock = FixedClock()
        delivery = build_delivery(
            digest_config(tmp_path, store_url=store_url), digests, clock, {"CMSFEED_SECRET": "s"}
        )
        site = Site(
            SubscriptionService(
                digests,
                ComposedMail(delivery.composer, delivery.transport),
                SECRET,
                CHOICES,
                confirm_days=7,
            ),
            digests,
            clock,
            tmp_path / "maildir",
        )
        data = {**{k: v for k, v in GOOD_CONFIRM.items() if k != "version"}, "topics": []}
        token = _earlier_token("confirm", data)
        assert site.confirm(token) is Outcome.CONFIRMED
        assert site.confirm(token) is Outcome.STALE
        confirmed = digests.get_subscriber("anna@example.org")
        assert confirmed is not None and confirmed.version == 1 and confirmed.topics == ()
        assert site.welcomes_to("anna@example.org") == 1
    finally:
        old.close()


# -- the operator's changes move the version too (found by review after the merge) ---------


def _unsubscribe_token(address: str) -> str:
    link = unsubscribe_link("http://x/", SECRET, subscriber_id(address))
    return unquote(link.split("token=", 1)[1])


def test_a_confirmation_asked_for_before_the_operator_acted_changes_nothing(site):
    # Asked for while the address was unknown (version 0), then the operator added it: the
    # link must not confirm over what the operator set.
    early = site.sign_up(frequency="weekly")
    site.digests.write_subscribers(
        [Subscriber("anna@example.org", language="en", status="active", origin="cli")],
        [],
        site.clock(),
        "cli",
    )
    added = site.digests.get_subscriber("anna@example.org")
    assert added is not None and added.frequency == "daily"
    assert site.confirm(early) is Outcome.STALE
    assert site.digests.get_subscriber("anna@example.org") == added
    # Confirmed, then signed up again (weekly) and removed by the operator before that second
    # link was pressed: the remove holds.
    again = site.sign_up(frequency="weekly")
    removed = site.digests.end_subscription(added.id, site.clock(), "cli")
    assert removed is not None
    gone = site.digests.get_subscriber("anna@example.org")
    assert gone is not None and gone.status == "unsubscribed" and gone.version > added.version
    assert site.confirm(again) is Outcome.STALE
    assert site.digests.get_subscriber("anna@example.org") == gone


def test_weekly_instead_is_for_active_readers_and_bound_to_their_version(site):
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    token = _unsubscribe_token("anna@example.org")
    weekly = site.service.weekly_instead(token, site.clock())
    assert weekly.outcome is Outcome.SAVED and weekly.subscriber is not None
    assert weekly.subscriber.frequency == "weekly" and weekly.subscriber.status == "active"
    out = site.service.unsubscribe(token, site.clock())
    assert out.outcome is Outcome.UNSUBSCRIBED and out.token is not None
    # Unsubscribed: no weekly digest is set up behind the reader's back, and the undo
    # offered a moment ago still works (nothing changed since).
    stale = site.service.weekly_instead(token, site.clock())
    assert stale.outcome is Outcome.STALE
    assert site.digests.get_subscriber("anna@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert site.service.resubscribe(out.token, site.clock()).outcome is Outcome.RESUBSCRIBED


@pytest.mark.parametrize("purpose", ["preferences", "resubscribe", "confirm"])
def test_a_signed_version_beyond_the_store_is_a_bad_link_not_a_failure(site, purpose):
    assert site.confirm(site.sign_up()) is Outcome.CONFIRMED
    anna = subscriber_id("anna@example.org")
    data: Any = {"id": anna, "version": 10**30}
    if purpose == "confirm":
        data = {**SIGN_UP, "topics": ["saiga"], "weekday": "mon", "version": 10**30}
    token = make_token(SECRET, purpose, data, site.clock() + timedelta(days=1))
    calls = {
        "preferences": lambda: site.service.save_preferences(token, SIGN_UP, site.clock()),
        "resubscribe": lambda: site.service.resubscribe(token, site.clock()),
        "confirm": lambda: asyncio.run(site.service.confirm(token, site.clock())),
    }
    assert calls[purpose]().outcome is Outcome.BAD_LINK
