"""The outbox guarantee at several moments of a round: a `cmsfeed digest send` killed with
SIGKILL while queueing (some outbox rows not yet committed), mid-send, or after its last
message reached the server but before it was marked sent loses no digest; a restart at once
(no wait for the dead sender's lease: it is seen to be gone) sends the rest, only messages
that were in flight at the kill go out again, with the same Message-ID, and nothing is left
queued.

The kill moments are made exact by watching progress (outbox rows in the store, messages at
the sink) and, for the sending moments, by a server that holds its reply to DATA: a message
it holds has arrived, but the sender cannot have marked it sent. Nothing sleeps for time.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cmsfeed.config import load_config
from cmsfeed.store import Store
from cmsfeed.store.schema import outbox
from cmsfeed.subscribers import Subscriber
from support.clock import T0
from support.config import write_config
from support.digest import open_stores
from support.digest_sender import CONCURRENCY, send
from support.items import make_item
from support.smtp_server import Handler, SmtpServer
from support.waiting import wait_until

RNG = random.Random(20241202)  # the mid-send kill points, the same on every run


@dataclass
class HoldingHandler(Handler):
    """Records each message, then withholds its reply once `hold_from` messages arrived."""

    hold_from: int | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.hold_from is not None and len(self.received) >= self.hold_from:
            await self.release.wait()  # never set: the sender is killed while waiting
        return reply


@dataclass
class Round:
    """A store with subscribers and items, and the config of a `digest send` over it."""

    config_path: Path
    store: Store
    digests: Store
    emails: list[str]

    def outbox_rows(self) -> int:
        with self.store.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(outbox)).scalar_one())


def prepare(tmp_path: Path, store_url: str, server: SmtpServer, subscribers: int) -> Round:
    config_path = write_config(
        tmp_path,
        server.port,
        f"concurrency = {CONCURRENCY}\nlease_seconds = 300",
        store_url=store_url,
    )
    store, digests = open_stores(load_config(config_path, {}))
    emails = [f"reader{n:04d}@example.org" for n in range(subscribers)]
    for n, address in enumerate(emails):
        digests.save_subscriber(
            Subscriber(address, frequency="immediate", language="ru" if n % 3 == 0 else "en"), T0
        )
    store.upsert_items(
        [
            make_item("Argali", topics=("argali",)),
            make_item("Аргали", topics=("argali",), language="ru"),
        ],
        T0 + timedelta(minutes=1),
    )
    return Round(config_path, store, digests, emails)


def kill_when(round_: Round, condition: Callable[[], bool]) -> None:
    """Start a round, SIGKILL it once `condition` holds; it must not have finished first."""
    process = send(round_.config_path, (T0 + timedelta(minutes=10)).isoformat())
    try:
        wait_until(
            lambda: condition() or process.poll() is not None, "the crash point", interval=0.01
        )
        assert process.poll() is None, "the round ended before the kill moment"
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def restart_and_check(round_: Round, server: SmtpServer, *, may_repeat: set[str]) -> int:
    """Run the round again at once (the same moment: no lease has run out); check the
    guarantee; return how many repeated.

    `may_repeat`: the addresses whose message had arrived at the kill without its row being
    marked sent, the only ones that may arrive twice.
    """
    before = {r.recipients[0]: r.message["Message-ID"] for r in server.handler.received}
    server.handler.hold_from = None
    restarted = send(round_.config_path, (T0 + timedelta(minutes=10)).isoformat())
    _, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err.decode()

    by_recipient: dict[str, list[str]] = defaultdict(list)
    for received in server.handler.received:
        by_recipient[received.recipients[0]].append(received.message["Message-ID"])
    assert sorted(by_recipient) == round_.emails  # nobody lost
    repeated = {address for address, ids in by_recipient.items() if len(ids) > 1}
    assert all(len(ids) <= 2 for ids in by_recipient.values())
    assert repeated <= may_repeat  # only what was in flight at the kill
    assert len(repeated) <= CONCURRENCY
    for address, ids in by_recipient.items():
        assert len(set(ids)) == 1, address  # a repeat has the same Message-ID
        assert before.get(address, ids[0]) == ids[0]
    sent = round_.digests.sent_message_ids()
    assert {address: ids[0] for address, ids in by_recipient.items()} == {
        address: ids[0] for address, ids in sent.items()
    }
    assert round_.digests.outbox_status().counts == {
        "queued": 0,
        "sending": 0,
        "sent": len(round_.emails),
        "failed": 0,
        "cancelled": 0,
    }
    return len(repeated)


def in_flight_at_kill(round_: Round, server: SmtpServer) -> set[str]:
    """Addresses whose message arrived but whose row was not marked sent when killed."""
    arrived = {r.recipients[0] for r in server.handler.received}
    return arrived - set(round_.digests.sent_message_ids())


@pytest.fixture
def server() -> Any:
    handler = HoldingHandler()
    with SmtpServer() as running:
        running.controller.handler = running.handler = handler
        yield running


def test_killed_while_queueing_nothing_is_lost_nor_sent_twice(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    # Three chunks of subscribers, each queued in its own transaction: killed once the first
    # is committed, the others are not (or not all) yet.
    round_ = prepare(tmp_path, store_url, server, 1_100)
    server.handler.hold_from = 1  # were anything sent before the kill, it would be held
    kill_when(round_, lambda: round_.outbox_rows() > 0)
    assert 0 < round_.outbox_rows() < len(round_.emails)
    assert server.handler.received == []
    assert restart_and_check(round_, server, may_repeat=set()) == 0


@pytest.mark.parametrize("kill_after", sorted(RNG.sample(range(5, 115), 2)))
def test_killed_mid_send_repeats_only_what_was_in_flight(
    tmp_path: Path, store_url: str, server: SmtpServer, kill_after: int
) -> None:
    round_ = prepare(tmp_path, store_url, server, 120)
    server.handler.hold_from = kill_after
    kill_when(round_, lambda: len(server.handler.received) >= kill_after)
    in_flight = in_flight_at_kill(round_, server)
    assert 1 <= len(in_flight) <= CONCURRENCY
    assert restart_and_check(round_, server, may_repeat=in_flight) == len(in_flight)


def test_killed_after_the_last_send_before_marking_repeats_only_that(
    tmp_path: Path, store_url: str, server: SmtpServer
) -> None:
    round_ = prepare(tmp_path, store_url, server, 120)
    server.handler.hold_from = len(round_.emails)  # every message has arrived; the last unmarked
    kill_when(round_, lambda: len(server.handler.received) >= len(round_.emails))
    in_flight = in_flight_at_kill(round_, server)
    assert 1 <= len(in_flight) <= CONCURRENCY
    assert restart_and_check(round_, server, may_repeat=in_flight) == len(in_flight)
