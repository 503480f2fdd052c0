"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, and what
happens when the server refuses, defers or drops the connection."""

from __future__ import annotations

import mailbox
from datetime import timedelta
from pathlib import Path

import pytest

from cmsfeed.subscribers import Subscriber
from support.mail_round import send_round, setup
from support.smtp_server import SmtpServer


@pytest.fixture
def server(smtp_server: SmtpServer) -> SmtpServer:
    return smtp_server


def test_digests_arrive_with_headers_and_content(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    delivery, store, clock = setup(
        tmp_path,
        store_url,
        server.port,
        [
            Subscriber("anna@example.org", topics=("argali",)),
            Subscriber("boris@xn--e1afmkfd.xn--p1ai", language="ru"),
        ],
    )
    send_round(delivery)
    (anna,) = server.handler.to("anna@example.org")
    message = anna.message
    for header in (
        "From",
        "To",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Id",
    ):
        assert message[header], header
    assert message["Subject"] == "CAMI news: Argali survey"
    text = message.get_body(("plain",)).get_content()
    assert "Argali survey" in text and "Saiga calving" not in text
    assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8080/unsubscribe?token=")
    (boris,) = server.handler.to("boris@xn--e1afmkfd.xn--p1ai")
    assert "Сайгаки: отёл" in boris.message.get_body(("plain",)).get_content()
    assert "Сайгак" in boris.message["Subject"]
    assert store.outbox_status().counts["sent"] == 2
    # Nothing new: the next day's round sends nothing.
    clock.advance(days=1)
    send_round(delivery)
    assert len(server.handler.received) == 2


def test_4xx_is_retried_with_backoff_and_5xx_fails(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    server.handler.rcpt_replies["later@example.org"] = "451 4.3.0 try again later"
    server.handler.rcpt_replies["gone@example.org"] = "550 5.1.1 no such user"
    server.handler.rcpt_replies["busy@example.org"] = "452 4.2.2 mailbox full"
    delivery, store, clock = setup(
        tmp_path,
        store_url,
        server.port,
        [Subscriber(f"{name}@example.org") for name in ("ok", "later", "gone", "busy")],
    )
    report = send_round(delivery)
    assert {r.recipients[0] for r in server.handler.received} == {"ok@example.org"}
    status = store.outbox_status()
    assert status.counts["failed"] == 1 and status.counts["queued"] == 2
    assert any("550" in e.error for e in status.last_errors)
    # Still within the backoff: nothing is tried again.
    server.handler.rcpt_replies.clear()
    server.handler.data_replies.clear()
    clock.advance(seconds=30)
    send_round(delivery)
    assert len(server.handler.received) == 1
    # After the backoff, the deferred ones go through, each once.
    clock.advance(minutes=2)
    send_round(delivery)
    assert sorted(r.recipients[0] for r in server.handler.received) == [
        "busy@example.org",
        "later@example.org",
        "ok@example.org",
    ]
    assert store.outbox_status().counts == {
        "queued": 0,
        "sending": 0,
        "sent": 3,
        "failed": 1,
        "cancelled": 0,
    }
    del report


def test_repeated_hard_failures_suspend_the_subscriber(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    server.handler.rcpt_replies["gone@example.org"] = "550 5.1.1 no such user"
    delivery, store, clock = setup(
        tmp_path,
        store_url,
        server.port,
        [Subscriber("gone@example.org")],
        max_hard_failures=2,
        send_when_empty=True,
    )
    for _ in range(3):
        send_round(delivery)
        clock.advance(days=1)
    subscriber = store.get_subscriber("gone@example.org")
    assert subscriber is not None and subscriber.status == "suspended"
    assert store.outbox_status().counts["failed"] == 2  # suspended: the third round queued nothing


def test_connection_dropped_mid_data_is_retried(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    server.handler.drop_data_for.add("anna@example.org")
    delivery, store, clock = setup(
        tmp_path,
        store_url,
        server.port,
        [Subscriber("anna@example.org"), Subscriber("carl@example.org")],
    )
    send_round(delivery)
    assert [r.recipients[0] for r in server.handler.received] == ["carl@example.org"]
    clock.advance(minutes=5)
    send_round(delivery)
    anna = server.handler.to("anna@example.org")
    assert len(anna) == 1
    assert store.outbox_status().counts["sent"] == 2


def test_without_smtp_digests_land_in_the_maildir(tmp_path: Path, store_url: str) -> None:
    delivery, store, _ = setup(tmp_path, store_url, None, [Subscriber("anna@example.org")])
    send_round(delivery)
    box = mailbox.Maildir(str(tmp_path / "maildir"), create=False)
    messages = list(box)
    assert len(messages) == 1
    assert messages[0]["Subject"] == "CAMI news: 2 new stories (Argali, Saiga antelope)"
    assert store.outbox_status().counts["sent"] == 1


def test_unsubscribed_before_sending_is_not_sent(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    delivery, store, clock = setup(
        tmp_path, store_url, server.port, [Subscriber("anna@example.org")]
    )
    from cmsfeed.delivery import queue_round

    queue_round(delivery, clock())
    sub = store.get_subscriber("anna@example.org")
    assert sub is not None
    store.set_subscriber_status(sub.id, "unsubscribed")
    send_round(delivery)
    assert server.handler.received == []
    assert store.outbox_status().counts["sent"] == 0


def test_a_digest_is_queued_once_even_when_two_workers_decide_it(
    tmp_path: Path, store_url: str
) -> None:
    from cmsfeed.digest.select import plan_round

    _, store, clock = setup(
        tmp_path, store_url, None, [Subscriber("anna@example.org"), Subscriber("carl@example.org")]
    )
    subscribers = store.list_subscribers()
    candidates = store.available_items(clock() - timedelta(days=5), clock(), ["en"])
    decisions = plan_round(
        subscribers, candidates, {}, clock(), send_when_empty=False, domain="x.example"
    )
    assert store.queue_digests(decisions, clock()) == 2
    assert store.queue_digests(decisions, clock()) == 0  # stale cursors: the guard refuses
    assert store.outbox_status().counts["queued"] == 2
