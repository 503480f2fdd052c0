"""The outbox guarantee: a sender killed with SIGKILL mid-round loses no digest; a restart at
once on the same host (no wait for the lease) sends the rest of the round, and at most the
messages in flight at the kill go out again, with the same Message-ID."""

from __future__ import annotations

import json
import signal
import socket
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from cmsfeed.cli import main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.config import load_config
from cmsfeed.lease_owner import is_running
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from support.clock import T0
from support.config import write_config
from support.digest_sender import CONCURRENCY, send
from support.items import make_item
from support.smtp_server import SmtpServer
from support.waiting import wait_until

SUBSCRIBERS = 120


def test_sigkill_mid_round_loses_nothing_and_repeats_only_in_flight(
    tmp_path: Path, store_url: str
) -> None:
    with SmtpServer() as server:
        server.handler.delay = 0.01
        config_path = write_config(
            tmp_path,
            server.port,
            f"concurrency = {CONCURRENCY}\nlease_seconds = 300",
            store_url=store_url,
        )
        config = load_config(config_path, {})
        store = Store.open(config.store.url)
        digests = store
        emails = [f"reader{n:03d}@example.org" for n in range(SUBSCRIBERS)]
        for n, address in enumerate(emails):
            digests.save_subscriber(
                Subscriber(address, frequency="immediate", language="ru" if n % 3 == 0 else "en"),
                T0,
            )
        store.upsert_items(
            [
                make_item("Argali", topics=("argali",)),
                make_item("Аргали", topics=("argali",), language="ru"),
            ],
            T0 + timedelta(minutes=1),
        )
        now = (T0 + timedelta(minutes=10)).isoformat()
        first = send(config_path, now)
        wait_until(
            lambda: len(server.handler.received) >= SUBSCRIBERS // 3,
            "a third of the round delivered",
            interval=0.01,
        )
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        killed_at = len(server.handler.received)
        assert killed_at < SUBSCRIBERS, "the round ended before the kill; slow the server"
        # Only the small batches in hand are left in `sending`, under the dead owner's name.
        (holder,) = digests.outbox_status().in_flight
        assert (holder.host, holder.pid) == (socket.gethostname(), first.pid)
        assert 1 <= holder.rows <= 2 * CONCURRENCY
        assert is_running(holder.host, holder.pid, holder.started or "") is False
        shown = CliRunner().invoke(cli, ["--config", str(config_path), "digest", "status"])
        assert f"in flight {holder.rows}: {holder.host} pid {first.pid} (not running" in (
            shown.output
        ), shown.output
        listed = CliRunner().invoke(
            cli, ["--config", str(config_path), "digest", "status", "--format", "json"]
        )
        (owner,) = json.loads(listed.output)["in_flight"]
        assert (owner["host"], owner["pid"], owner["rows"], owner["running"]) == (
            holder.host,
            first.pid,
            holder.rows,
            False,
        )
        assert owner["lease_until"] == (T0 + timedelta(minutes=15)).isoformat()  # 300 s lease
        # The restart comes at once, at the same moment (its lease has not run out): it sees
        # that the owner is gone and sends the rest of the round.
        second = send(config_path, now)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()

        by_recipient: dict[str, list[str]] = defaultdict(list)
        for received in server.handler.received:
            by_recipient[received.recipients[0]].append(received.message["Message-ID"])
        assert sorted(by_recipient) == emails  # nobody lost
        duplicates = sum(len(ids) - 1 for ids in by_recipient.values())
        assert duplicates <= CONCURRENCY  # only what was in flight at the kill
        for ids in by_recipient.values():
            assert len(set(ids)) == 1  # a repeat has the same Message-ID
        assert digests.outbox_status().counts == {
            "queued": 0,
            "sending": 0,
            "sent": SUBSCRIBERS,
            "failed": 0,
            "cancelled": 0,
        }
        store.close()
