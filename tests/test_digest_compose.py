"""DigestComposer: a digest, a confirmation, a welcome as message bytes, from plain values."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.bounces.verp import outbox_id_of
from cmsfeed.digest.compose import DigestComposer
from cmsfeed.digest.links import read_token
from cmsfeed.digest.message import Sender
from cmsfeed.digest.render import EmailRenderer
from cmsfeed.model import SiteInfo
from cmsfeed.subscribers import Subscriber
from support.clock import T0
from support.items import make_item

SECRET = b"compose-secret"
SITE = SiteInfo(
    base_url="https://news.example.org/",
    titles={"en": "CAMI news", "ru": "Новости CAMI"},
    descriptions={"en": "Migratory mammals", "ru": "Мигрирующие млекопитающие"},
    languages=("en", "ru"),
    author_name="CAMI",
    author_email=None,
    topic_names={"argali": {"en": "Argali", "ru": "Архар"}},
    authority="news.example.org",
)
BOUNCES = "bounces@news.example.org"


def composer(bounce_address: str | None = None) -> DigestComposer:
    return DigestComposer(
        renderer=EmailRenderer(SITE, confirm_days=7),
        secret=SECRET,
        sender=Sender("digest@news.example.org", "CAMI news"),
        list_id="CAMI news <digests.news.example.org>",
        bounce_address=bounce_address,
    )


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_a_digest_carries_the_readers_own_signed_links_and_the_list_headers() -> None:
    reader = Subscriber("anna@example.org", language="ru", topics=("argali",))
    items = [make_item("Архары на склонах", language="ru")]
    rendered, raw = composer().digest_message(reader, items, "<d1@news.example.org>", T0, T0)
    message = parsed(raw)
    assert message["To"] == "anna@example.org"
    assert message["Message-ID"] == "<d1@news.example.org>"
    assert message["List-Id"] == "CAMI news <digests.news.example.org>"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://news.example.org/unsubscribe?token=")
    assert read_token(SECRET, token_of(unsubscribe), "unsubscribe", T0) == reader.id
    assert "Архары на склонах" in rendered.html
    assert "/digest?token=" in rendered.html  # the web copy, signed with the same secret


def test_mail_without_an_unsubscribe_link_carries_no_list_headers() -> None:
    made = composer()
    rendered = made.renderer.confirmation("en", "https://news.example.org/confirm?token=t")
    message = parsed(made.compose(rendered, "new@example.org", "<c1@news.example.org>", T0))
    assert message["List-Id"] is None and message["List-Unsubscribe"] is None
    assert message["From"].addresses[0].addr_spec == "digest@news.example.org"


def test_the_message_id_domain_is_the_from_address_domain() -> None:
    assert composer().domain == "news.example.org"


def test_without_verp_the_envelope_sender_is_the_from_address() -> None:
    assert composer().envelope_sender(42) == "digest@news.example.org"


@settings(max_examples=50, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=2**53), min_size=1, max_size=40))
def test_with_verp_every_row_gets_its_own_envelope_sender_that_names_it(ids: set[int]) -> None:
    made = composer(BOUNCES)
    senders = {row_id: made.envelope_sender(row_id) for row_id in ids}
    assert len(set(senders.values())) == len(ids)  # N rows in, N distinct addresses out
    for row_id, address in senders.items():
        assert outbox_id_of(SECRET, address, BOUNCES) == row_id
        assert made.envelope_sender(row_id) == address  # the same row twice: the same address


def test_composing_twice_gives_the_same_bytes() -> None:
    reader = Subscriber("boris@example.org", topics=("argali",))
    items = [make_item("Argali survey"), make_item("Argali calves")]
    first = composer().digest_message(reader, items, "<d2@news.example.org>", T0, T0)
    again = composer().digest_message(reader, items, "<d2@news.example.org>", T0, T0)
    assert first[1] == again[1]
