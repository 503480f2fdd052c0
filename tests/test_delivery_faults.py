"""Whose fault, against a real SMTP server that misbehaves at each stage and then recovers.

A server or session fault (nothing listening, no service at the greeting, no STARTTLS or a
failed TLS handshake, a wrong password, a refused sender, every message refused at DATA, 421,
a relay refusal at RCPT)
pauses delivery: nobody is charged or suspended, no row fails or is cancelled, the operator is
told (ERROR log line, `digest status`, the /metrics gauge), and once the server accepts again
each subscriber gets exactly one digest for the period. A 5xx at RCPT is that address's fault alone.
The clock is injected: backoffs pass by moving it, never by sleeping.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed import metrics
from cmsfeed.cli import main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.delivery import Delivery, RoundReport, queue_round, run_round, send_outbox
from cmsfeed.mail.smtp import SmtpSettings, SmtpTransport
from cmsfeed.sending import REFUSAL_STREAK
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config, write_config
from support.digest import open_stores
from support.items import make_item
from support.smtp_faults import PASSWORD, USER, FaultyServer

READERS = [f"reader{n}@example.org" for n in range(6)]


@pytest.fixture
def server(faulty_smtp_server: FaultyServer) -> FaultyServer:
    return faulty_smtp_server


def transport(server: FaultyServer, *, password: str = PASSWORD, security: str = "none") -> Any:
    return SmtpTransport(
        SmtpSettings(
            host="127.0.0.1", port=server.port, security=security, username=USER, password=password
        ),
        concurrency=3,
        rate_per_second=10_000,
    )


def setup(
    tmp_path: Path, store_url: str, server: FaultyServer, readers: list[str] = READERS
) -> tuple[Delivery, Store, FixedClock]:
    config = digest_config(tmp_path, server.port, store_url=store_url, max_hard_failures=1)
    store, digests = open_stores(config)
    clock = FixedClock()
    for address in readers:
        digests.save_subscriber(Subscriber(address), clock())
    clock.advance(hours=1)
    store.upsert_items([make_item("Argali survey"), make_item("Saiga calving")], clock())
    clock.advance(days=1)
    delivery = build_delivery(config, digests, clock, {"CMSFEED_SECRET": "s"}, transport(server))
    return delivery, digests, clock


def deliver(delivery: Delivery, *, sweep: bool = False) -> RoundReport:
    """A digest round (or, with `sweep`, the retry sweep of `cmsfeed run`), as one process."""

    async def go() -> RoundReport:
        try:
            return await (send_outbox(delivery) if sweep else run_round(delivery))
        finally:
            await delivery.transport.close()

    return asyncio.run(go())


# Each fault: how to cause it, how to clear it, and what the operator's log line must quote.
Fault = tuple[
    Callable[[FaultyServer, Delivery], None], Callable[[FaultyServer, Delivery], None], str
]


def _set(name: str, value: str) -> Callable[[FaultyServer, Delivery], None]:
    return lambda server, _: setattr(server.handler, name, value)


def _unset(name: str) -> Callable[[FaultyServer, Delivery], None]:
    return lambda server, _: setattr(server.handler, name, None)


def _swap(**settings: str) -> Callable[[FaultyServer, Delivery], None]:
    def swap(server: FaultyServer, delivery: Delivery) -> None:
        delivery.transport = transport(server, **settings)

    return swap


def _rcpt_421(server: FaultyServer, _: Delivery) -> None:
    server.handler.rcpt_replies.update(dict.fromkeys(READERS, "421 4.7.0 Too busy, closing"))


def _rcpt_no_such_user(server: FaultyServer, _: Delivery) -> None:
    # A broken recipient lookup: every reader "does not exist". Each reply alone reads as a
    # bounce; the same one for three readers in a row, nobody accepted, is the server's fault.
    server.handler.rcpt_replies.update(dict.fromkeys(READERS, "550 5.1.1 No such user"))


def _rcpt_relay(server: FaultyServer, _: Delivery) -> None:
    # Exim's answer when it will not relay for us: a bare 550, as for an unknown user.
    server.handler.rcpt_replies.update(dict.fromkeys(READERS, "550 relay not permitted"))


FAULTS: dict[str, Fault] = {
    "nothing listening": (lambda s, _: s.down(), lambda s, _: s.up(), "CONNECT"),
    "greeting 554": (
        _set("greeting_reply", "554 5.3.2 No SMTP service here"),
        _unset("greeting_reply"),
        "GREETING 554 5.3.2 No SMTP service here",
    ),
    "no STARTTLS": (_swap(security="starttls"), _swap(), "TLS"),
    "TLS handshake": (_swap(security="tls"), _swap(), "TLS"),
    "AUTH 535": (_swap(password="wrong"), _swap(), "AUTH 535 5.7.8"),
    "MAIL FROM 550": (
        _set("mail_reply", "550 5.7.1 Sender address rejected: not owned by user"),
        _unset("mail_reply"),
        "MAIL 550 5.7.1 Sender address rejected",
    ),
    "DATA 554 for all": (
        _set("data_reply_all", "554 5.7.1 Message refused by policy"),
        _unset("data_reply_all"),
        "DATA 554 5.7.1 Message refused by policy",
    ),
    "RCPT 421": (_rcpt_421, lambda s, _: s.handler.rcpt_replies.clear(), "RCPT 421 4.7.0"),
    "RCPT 550 relay not permitted": (
        _rcpt_relay,
        lambda s, _: s.handler.rcpt_replies.clear(),
        "RCPT 550 relay not permitted",
    ),
    "RCPT 550 5.1.1 for every reader": (
        _rcpt_no_such_user,
        lambda s, _: s.handler.rcpt_replies.clear(),
        "RCPT 550 5.1.1 No such user",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_server_fault_pauses_charges_nobody_and_clears_by_itself(
    tmp_path: Path,
    store_url: str,
    server: FaultyServer,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cause, clear, quoted = FAULTS[fault]
    delivery, digests, clock = setup(tmp_path, store_url, server)
    cause(server, delivery)
    caplog.set_level(logging.WARNING, logger="cmsfeed.delivery")
    # Three daily rounds with the fault, as in the issue: before, everybody was suspended.
    for day in range(3):
        clock.advance(days=day and 1)
        report = deliver(delivery)
        assert report.paused is not None and report.sent == report.failed == 0, report
        assert quoted in report.paused.reply
    assert server.handler.received == []
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and quoted in errors[0], errors  # told once, with the reply
    status = digests.outbox_status()
    assert status.counts == {
        "queued": len(READERS),
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "cancelled": 0,
    }
    (pause,) = status.pauses
    assert pause.failures == 3 and quoted in pause.reply
    assert all(s.status == "active" and s.hard_failures == 0 for s in digests.list_subscribers())
    assert "cmsfeed_delivery_paused 1.0" in metrics.exposition()[0].decode()

    clear(server, delivery)
    # The fault is gone, but the backoff has not passed: the retry sweep waits.
    clock.now = pause.next_probe_at - (pause.next_probe_at - clock.now) / 2
    assert deliver(delivery, sweep=True).paused is not None
    assert server.handler.received == []
    # Then the sweep probes, the server accepts, and the rest of the round goes out.
    clock.now = pause.next_probe_at
    report = deliver(delivery, sweep=True)
    assert report.paused is None and report.sent == len(READERS)
    per_reader = Counter(r.recipients[0] for r in server.handler.received)
    assert per_reader == dict.fromkeys(READERS, 1)  # exactly one digest for the period
    assert digests.outbox_status().pauses == []
    assert digests.outbox_status().counts["sent"] == len(READERS)
    assert all(s.status == "active" and s.hard_failures == 0 for s in digests.list_subscribers())
    assert "cmsfeed_delivery_paused 0.0" in metrics.exposition()[0].decode()


def test_rcpt_550_suspends_only_that_address(
    tmp_path: Path, store_url: str, server: FaultyServer
) -> None:
    gone = {READERS[1], READERS[4]}
    server.handler.rcpt_replies.update(dict.fromkeys(gone, "550 5.1.1 No such user"))
    delivery, digests, _ = setup(tmp_path, store_url, server)
    report = deliver(delivery)
    assert report.paused is None and report.sent == 4 and report.failed == report.suspended == 2
    assert Counter(r.recipients[0] for r in server.handler.received) == {
        address: 1 for address in READERS if address not in gone
    }
    statuses = {s.email: s.status for s in digests.list_subscribers()}
    assert statuses == {a: "suspended" if a in gone else "active" for a in READERS}
    suspended = digests.get_subscriber(READERS[1])
    assert suspended is not None and "5.1.1" in (suspended.suspended_reason or "")
    (reason,) = digests.outbox_status().reasons
    assert (reason.status, reason.cause, reason.count) == ("failed", "bounce", 2)


def test_readers_refused_alike_pause_then_are_charged_once_another_reader_is_accepted(
    tmp_path: Path, store_url: str, server: FaultyServer, caplog: pytest.LogCaptureFixture
) -> None:
    dead, live = READERS[:3], READERS[3]
    server.handler.rcpt_replies.update(dict.fromkeys(dead, "550 5.1.1 No such user"))
    delivery, digests, clock = setup(tmp_path, store_url, server, [*dead, live])
    queue_round(delivery, clock())
    reachable = digests.get_subscriber(live)
    assert reachable is not None
    digests.suspend_subscriber(reachable.id, "by hand, for this test", clock())
    caplog.set_level(logging.WARNING, logger="cmsfeed.delivery")
    # Three readers refused alike and nobody accepted: it looks like the server's fault.
    report = deliver(delivery, sweep=True)
    assert report.paused is not None and report.failed == report.suspended == 0
    assert (report.held, report.cancelled) == (len(dead), 1)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "3 readers in a row refused alike" in errors[0], errors
    assert all(s.hard_failures == 0 for s in digests.list_subscribers())
    # A reader who can be reached is queued again (before the held rows, which wait behind
    # the probe): the probe is theirs, the server accepts it, and then the three refusals are
    # each reader's own.
    assert digests.reactivate_subscriber(reachable.id, clock()) == 1
    clock.now = report.paused.next_probe_at
    report = deliver(delivery, sweep=True)
    assert report.paused is None and report.sent == 1 and report.suspended == len(dead)
    assert server.handler.received[0].recipients == [live]
    assert Counter(r.recipients[0] for r in server.handler.received) == {live: 1}
    statuses = {s.email: s.status for s in digests.list_subscribers()}
    assert statuses == {**dict.fromkeys(dead, "suspended"), live: "active"}
    assert digests.outbox_status().pauses == []


def test_a_refusal_by_policy_charges_nobody_and_digest_retry_sends_it(
    tmp_path: Path, store_url: str, server: FaultyServer
) -> None:
    policy = "554 5.7.1 <reader2@example.org>: Recipient address rejected: Access denied"
    server.handler.rcpt_replies[READERS[2]] = policy
    delivery, digests, clock = setup(tmp_path, store_url, server)
    report = deliver(delivery)
    assert report.failed == 1 and report.suspended == 0 and report.paused is None
    assert all(s.status == "active" and s.hard_failures == 0 for s in digests.list_subscribers())
    assert [(r.cause, r.count) for r in digests.outbox_status().reasons] == [("refused", 1)]
    server.handler.rcpt_replies.clear()
    assert digests.retry_failed(clock()) == 1
    assert deliver(delivery, sweep=True).sent == 1
    assert Counter(r.recipients[0] for r in server.handler.received) == dict.fromkeys(READERS, 1)


def test_digest_retry_leaves_bounces_and_reactivate_undoes_a_suspension(
    tmp_path: Path, store_url: str, server: FaultyServer
) -> None:
    server.handler.rcpt_replies[READERS[0]] = "550 5.1.1 No such user"
    delivery, digests, clock = setup(tmp_path, store_url, server)
    deliver(delivery)
    assert digests.retry_failed(clock()) == 0  # a bounce is the address's: not re-queued
    anna = digests.get_subscriber(READERS[0])
    assert anna is not None and anna.status == "suspended"
    assert digests.reactivate_subscriber(anna.id, clock()) == 0
    again = digests.get_subscriber(READERS[0])
    assert again is not None and (again.status, again.hard_failures) == ("active", 0)
    assert digests.reactivate_subscriber(anna.id, clock()) is None  # not suspended any more


def test_digests_cancelled_by_a_suspension_go_out_after_reactivation(
    tmp_path: Path, store_url: str, server: FaultyServer
) -> None:
    delivery, digests, clock = setup(tmp_path, store_url, server)
    queue_round(delivery, clock())
    anna = digests.get_subscriber(READERS[0])
    assert anna is not None
    assert digests.suspend_subscriber(anna.id, "550 5.1.1 bounce read later", clock())
    report = deliver(delivery, sweep=True)
    assert report.cancelled == 1 and report.sent == len(READERS) - 1
    reasons = [(r.status, r.cause, r.count) for r in digests.outbox_status().reasons]
    assert reasons == [("cancelled", "suspended", 1)]
    assert digests.reactivate_subscriber(anna.id, clock()) == 1
    assert deliver(delivery, sweep=True).sent == 1
    assert Counter(r.recipients[0] for r in server.handler.received) == dict.fromkeys(READERS, 1)


def test_the_operator_sees_the_pause_the_reasons_and_can_reactivate(
    tmp_path: Path, store_url: str, server: FaultyServer
) -> None:
    delivery, digests, clock = setup(tmp_path, store_url, server)
    server.handler.rcpt_replies[READERS[0]] = "550 5.1.1 No such user"
    deliver(delivery)  # READERS[0] bounces and is suspended, the others are sent
    clock.advance(hours=2)
    digests.upsert_items([make_item("Snow leopard", published_at=clock())], clock())
    clock.advance(days=1)
    delivery.transport = transport(server, password="wrong")
    deliver(delivery)
    config = write_config(tmp_path, server.port, store_url=store_url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["--config", str(config), "digest", "status"])
    assert shown.exit_code == 0, shown.output
    assert "paused: AUTH 535 5.7.8" in shown.output
    assert "failed 1: bounce" in shown.output
    data = json.loads(
        runner.invoke(cli, ["--config", str(config), "digest", "status", "--format", "json"]).output
    )
    assert data["counts"]["queued"] == len(READERS) - 1 and data["counts"]["failed"] == 1
    assert data["pauses"][0]["reply"].startswith("AUTH 535 5.7.8")
    assert data["pauses"][0]["since_at"] == clock().isoformat()
    assert data["reasons"] == [
        {
            "status": "failed",
            "cause": "bounce",
            "count": 1,
            "example": data["reasons"][0]["example"],
        }
    ]
    # `digest send` by hand, through a relay that refuses the sender: it says so and exits 1.
    server.handler.mail_reply = "550 5.7.1 Sender address rejected: not owned by user"
    clock.advance(hours=1)
    sent = runner.invoke(
        cli, ["--config", str(config), "digest", "send", "--now", clock().isoformat()]
    )
    assert sent.exit_code == 1, sent.output
    assert "paused: MAIL 550 5.7.1 Sender address rejected" in sent.output
    assert server.handler.received and len(server.handler.received) == len(READERS) - 1
    done = runner.invoke(cli, ["--config", str(config), "subscribers", "reactivate", READERS[0]])
    assert done.exit_code == 0 and "active again" in done.output, done.output
    again = runner.invoke(cli, ["--config", str(config), "subscribers", "reactivate", READERS[0]])
    assert again.exit_code == 1 and "not suspended" in again.output


REPLIES = {
    "accept": None,
    "bounce": "550 5.1.1 No such user",
    "defer": "451 4.2.1 Greylisted, try later",
    "refuse": "554 5.7.1 Recipient address rejected: Access denied",
}


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(REPLIES)), min_size=1, max_size=12).filter(
        # as many refused alike in a row would be the server's fault (a test of its own)
        lambda fates: (
            fates.count("bounce") < REFUSAL_STREAK and fates.count("refuse") < REFUSAL_STREAK
        )
    )
)
def test_each_reader_gets_exactly_what_their_own_reply_earns(fates: list[str]) -> None:
    """N readers in (SQLite: a fresh store per example), each with the server's answer for
    their address: every accepted one gets one digest, each refusal costs only that reader,
    and a second run changes nothing."""
    readers = [f"p{n}@example.org" for n in range(len(fates))]
    with FaultyServer() as server, tempfile.TemporaryDirectory() as folder:
        for reader, fate in zip(readers, fates, strict=True):
            if REPLIES[fate]:
                server.handler.rcpt_replies[reader] = REPLIES[fate]
        delivery, digests, _ = setup(Path(folder), f"sqlite:///{folder}/s.db", server, readers)
        first = deliver(delivery)
        again = deliver(delivery)  # the same moment: nothing is due or queued again
        assert (again.queued, again.sent, again.failed) == (0, 0, 0)
        got = Counter(r.recipients[0] for r in server.handler.received)
        assert got == {r: 1 for r, fate in zip(readers, fates, strict=True) if fate == "accept"}
        assert first.paused is None
        assert first.suspended == fates.count("bounce") and first.retried == fates.count("defer")
        subscribers = {s.email: s for s in digests.list_subscribers()}
        for reader, fate in zip(readers, fates, strict=True):
            expected = "suspended" if fate == "bounce" else "active"
            assert subscribers[reader].status == expected, (reader, fate)
        counts = digests.outbox_status().counts
        assert counts["sent"] == fates.count("accept")
        assert counts["failed"] == fates.count("bounce") + fates.count("refuse")
        assert counts["queued"] == fates.count("defer")  # waiting for their retry
        digests.close()


def test_a_maildir_that_cannot_be_written_pauses_like_a_server(
    tmp_path: Path, store_url: str
) -> None:
    config = digest_config(tmp_path, None, store_url=store_url, max_hard_failures=1)
    store, digests = open_stores(config)
    clock = FixedClock()
    for address in READERS[:3]:
        digests.save_subscriber(Subscriber(address), clock())
    clock.advance(hours=1)
    store.upsert_items([make_item("Argali survey")], clock())
    clock.advance(days=1)
    delivery = build_delivery(config, digests, clock, {"CMSFEED_SECRET": "s"})
    blocker = tmp_path / "maildir"
    blocker.write_text("a file where the Maildir folder should be")
    report = deliver(delivery)
    assert report.paused is not None and report.paused.stage == "local"
    assert report.paused.server == f"maildir {blocker}"
    assert digests.outbox_status().counts["queued"] == 3
    assert all(s.status == "active" and s.hard_failures == 0 for s in digests.list_subscribers())
    blocker.unlink()
    clock.now = report.paused.next_probe_at
    assert deliver(delivery, sweep=True).sent == 3
    assert digests.outbox_status().pauses == []
