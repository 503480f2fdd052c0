"""VERP end to end: digests sent through a real SMTP server (aiosmtpd on 127.0.0.1) carry a
signed envelope sender per digest, and the bounce that comes back to it is decoded to the
digest and its subscriber, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmsfeed.bounces.verp import outbox_id_of
from support.bounce import about, deliver, setup
from support.smtp_server import SmtpServer

READERS = ["reader.gone@example.org", "anna@example.org", "boris@example.org"]


@pytest.fixture
def server(smtp_server: SmtpServer) -> SmtpServer:
    return smtp_server


def test_mail_from_names_the_digest_and_its_bounce_comes_home(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    made = setup(tmp_path, store_url, READERS, smtp_port=server.port, verp=True)
    received = {message.recipients[0]: message for message in server.handler.received}
    assert sorted(received) == sorted(READERS)
    senders = set()
    for reader, message in received.items():
        # The header From stays the list's address; only the envelope sender changes.
        assert message.message["From"].addresses[0].addr_spec == "news@cmsfeed.example"
        assert message.sender.startswith("bounces+") and message.sender.endswith("@cmsfeed.example")
        outbox_id = outbox_id_of(made.settings.secret, message.sender, "bounces@cmsfeed.example")
        sent = made.bounces.sent_by_id(outbox_id) if outbox_id is not None else None
        assert sent is not None
        assert (sent.email, sent.message_id) == (reader, message.message["Message-ID"])
        senders.add(message.sender)
    assert len(senders) == len(READERS)

    # The reader's server forwarded to an address that no longer exists, and the bounce quotes
    # neither our Message-ID nor our reader: only the envelope sender says whose it was.
    bounced = received["reader.gone@example.org"].sender
    raw = about(
        "postfix-hard.eml",
        message_id="",
        recipient="old.box@forward.example",
        envelope=bounced,
    )
    deliver(made.maildir, "forwarded.eml", raw)
    (outcome,) = made.import_().outcomes
    assert outcome.line == ("hard bounce 5.1.1 for reader.gone@example.org (by verp): suspended")
    assert made.status("reader.gone@example.org") == "suspended"
    assert made.status("anna@example.org") == "active"

    # A valid token, but the report quotes another digest's Message-ID (as after an id was
    # reused): the token's row is not the returned digest, so anna is not charged.
    deliver(
        made.maildir,
        "other-digest.eml",
        about(
            "postfix-hard.eml",
            message_id="<an.earlier.digest@cmsfeed.example>",
            recipient="gone.reader@example.org",
            envelope=received["anna@example.org"].sender,
            report_id="<other-digest@mx.example>",
        ),
    )
    (outcome,) = [o for o in made.import_().outcomes if o.label.endswith("other-digest.eml")]
    assert not outcome.acted and "<an.earlier.digest@cmsfeed.example>" in outcome.line
    assert made.status("anna@example.org") == "active"

    # A forged token (another secret) is not ours: the bounce matches nothing.
    forged = bounced.replace(bounced.split("+")[1].split("-")[1][:4], "aaaa")
    deliver(
        made.maildir,
        "forged.eml",
        about(
            "postfix-hard.eml",
            message_id="",
            recipient="x@forward.example",
            envelope=forged,
            report_id="<forged@mx.example>",
        ),
    )
    (outcome,) = [o for o in made.import_().outcomes if o.label.endswith("forged.eml")]
    assert not outcome.acted and "matches no digest or subscriber" in outcome.line


def test_without_verp_the_envelope_sender_is_the_from_address(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    setup(tmp_path, store_url, READERS[:1], smtp_port=server.port)
    (message,) = server.handler.received
    assert message.sender == "news@cmsfeed.example"
