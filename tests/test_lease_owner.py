"""Lease owners: a dead sender on this host is reclaimed at once, a live one never, one on
another host only after its lease; the heartbeat keeps a live sender's lease from running out."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from cmsfeed.delivery import Delivery, queue_round, send_outbox
from cmsfeed.lease_owner import LeaseOwner, is_running, start_token, this_process
from cmsfeed.sending import dead_leases
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config
from support.digest import open_stores
from support.items import make_item
from support.smtp_server import SmtpServer
from support.waiting import wait_until

LEASE = timedelta(minutes=5)


def queued_round(
    tmp_path: Path, store_url: str, readers: int, port: int | None = None, **digests: Any
) -> tuple[Delivery, Store, FixedClock]:
    config = digest_config(tmp_path, port, store_url=store_url, **digests)
    store, digest_store = open_stores(config)
    clock = FixedClock()
    for n in range(readers):
        digest_store.save_subscriber(Subscriber(f"r{n}@example.org"), clock())
    clock.advance(hours=1)
    store.upsert_items([make_item("Argali survey")], clock())
    clock.advance(days=1)
    delivery = build_delivery(config, digest_store, clock, {"CMSFEED_SECRET": "s"})
    assert queue_round(delivery, clock()).queued == readers
    return delivery, digest_store, clock


def a_dead_process() -> LeaseOwner:
    """The owner a process had while it ran; it has exited since."""
    child = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    token = start_token(child.pid)
    child.communicate(b"\n", timeout=30)
    assert token is not None
    return LeaseOwner(this_process().host, child.pid, token, uuid.uuid4().hex)


def test_the_start_token_tells_a_live_process_from_a_gone_or_reused_pid() -> None:
    me = this_process()
    assert me.pid == os.getpid() and start_token(me.pid) == me.started
    assert is_running(me.host, me.pid, me.started) is True
    dead = a_dead_process()
    assert is_running(dead.host, dead.pid, dead.started) is False
    # The same pid with another start time is another process (a pid reused).
    assert is_running(me.host, me.pid, me.started.rsplit(":", 1)[0] + ":1") is False
    assert is_running("another-host", me.pid, me.started) is None


def test_rows_of_a_dead_owner_on_this_host_are_reclaimed_at_once(
    tmp_path: Path, store_url: str
) -> None:
    _, digests, clock = queued_round(tmp_path, store_url, 5)
    dead = a_dead_process()
    assert len(digests.claim(dead, clock(), 3, LEASE)) == 3
    live = this_process()
    assert len(digests.claim(live, clock(), 1, LEASE)) == 1
    holders = {holder.lease: holder.rows for holder in digests.outbox_status().in_flight}
    assert holders == {dead.lease: 3, live.lease: 1}
    assert dead_leases(digests) == [dead.lease]  # the live owner is not among them
    rescuer = this_process()
    rescued = digests.claim(rescuer, clock(), 10, LEASE, dead_leases(digests))
    assert len(rescued) == 4  # the dead owner's three and the one still queued, not the live one
    assert {row.lease_owner for row in rescued} == {rescuer.lease}
    assert sorted(row.attempts for row in rescued) == [1, 2, 2, 2]  # each claim is an attempt


def test_rows_of_an_owner_on_another_host_wait_for_its_lease(
    tmp_path: Path, store_url: str
) -> None:
    _, digests, clock = queued_round(tmp_path, store_url, 3)
    elsewhere = LeaseOwner("another-host", 4242, "boot:1", uuid.uuid4().hex)
    assert len(digests.claim(elsewhere, clock(), 3, LEASE)) == 3
    assert dead_leases(digests) == []
    assert digests.claim(this_process(), clock(), 3, LEASE, dead_leases(digests)) == []
    clock.advance(minutes=4)
    assert digests.renew_lease(elsewhere.lease, clock() + LEASE) == 3  # its heartbeat
    clock.advance(minutes=4)
    assert digests.claim(this_process(), clock(), 3, LEASE) == []  # renewed: still its
    clock.advance(minutes=2)
    assert len(digests.claim(this_process(), clock(), 3, LEASE)) == 3  # it stopped renewing


def test_the_heartbeat_renews_the_lease_while_a_batch_is_in_flight(
    tmp_path: Path, store_url: str
) -> None:
    with SmtpServer() as server:
        held = asyncio.Event()
        original = server.handler.handle_DATA

        async def hold(*args: Any) -> str:
            await asyncio.wait_for(held.wait(), timeout=60)
            return await original(*args)

        server.handler.handle_DATA = hold  # type: ignore[method-assign]
        delivery, digests, clock = queued_round(
            tmp_path, store_url, 2, server.port, lease_seconds=10
        )
        loop = server.controller.loop

        async def go() -> int:
            sending = asyncio.create_task(send_outbox(delivery))
            lease = timedelta(seconds=10)
            first = await asyncio.to_thread(wait_for_lease, digests, clock() + lease)
            clock.advance(minutes=1)  # time passes while the server holds the messages
            renewed = await asyncio.to_thread(wait_for_lease, digests, clock() + lease)
            assert renewed > first
            loop.call_soon_threadsafe(held.set)
            report = await sending
            await delivery.transport.close()
            return report.sent

        assert asyncio.run(go()) == 2
        assert digests.outbox_status().counts["sent"] == 2


def wait_for_lease(digests: Store, until: Any) -> Any:
    """Wait (polling the store, not the clock) until every row in flight is leased to `until`."""

    def renewed() -> bool:
        holders = digests.lease_holders()
        return bool(holders) and all(holder.lease_until == until for holder in holders)

    wait_until(renewed, lambda: f"a lease renewed to {until}: {digests.lease_holders()}")
    return until
