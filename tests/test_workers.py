"""Several `cmsfeed run` workers on one PostgreSQL database behave like one.

Three real worker processes start at once against 5,000 `immediate` subscribers and a real
SMTP sink on 127.0.0.1 (its own process, logging recipient and Message-ID of each message).
Each worker ingests the sample (the same stories, stored once), then runs its catch-up digest
round at the same moment as the others: the outbox's unique (subscriber, period) key and
cursor guards queue each digest once, and FOR UPDATE SKIP LOCKED leases split the sending.

- undisturbed: every subscriber receives exactly one digest;
- one worker killed with SIGKILL mid-round: nobody is left without their digest (the rows it
  held are claimed again once their lease ran out), and a repeat can only be a message that
  was in flight at the kill, with the same Message-ID.

PostgreSQL only (skipped without CMSFEED_TEST_POSTGRES_URL). Bounded: each round must end
within ROUND_TIMEOUT seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from cmsfeed.store import Store
from cmsfeed.store.schema import subscribers
from cmsfeed.subscribers import subscriber_id
from support.cli import CMSFEED
from support.ports import free_port
from support.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
SMTP_SINK = Path(__file__).parent / "support" / "smtp_sink.py"
BUNDLED = REPO / "src" / "cmsfeed" / "data" / "config.toml"
SEED = REPO / "src" / "cmsfeed" / "data" / "sample" / "cms-cami-news.txt"
SUBSCRIBERS = int(os.environ.get("CMSFEED_TEST_WORKER_SUBSCRIBERS", "5000"))
WORKERS = 3
CONCURRENCY = 8
ROUND_TIMEOUT = 240.0


@contextmanager
def smtp_sink(log: Path) -> Iterator[int]:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, str(SMTP_SINK), str(port), str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as sink:
        try:
            assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
            yield port
        finally:
            sink.terminate()
            sink.wait(30)


def write_config(folder: Path, store_url: str, smtp_port: int, lease_seconds: int) -> Path:
    shutil.copy(SEED, folder / "seed.txt")
    topics = BUNDLED.read_text(encoding="utf-8").partition("\n[[topics]]")[2]
    topics = "[[topics]]" + topics.split("\n# Email digests")[0]
    # The bundled topics name their terms in the bundled languages: take those too.
    bundled = tomllib.loads(BUNDLED.read_text(encoding="utf-8"))
    languages = json.dumps(bundled["site"]["languages"])
    path = folder / "config.toml"
    path.write_text(
        f"""
[site]
title = "CAMI news"
base_url = "http://127.0.0.1:8080/"
languages = {languages}

[store]
url = "{store_url}"

[ingest]
interval_minutes = 600

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "news@cmsfeed.example"

[digests]
maildir = "maildir"
secret_path = "secret.key"
rate_per_second = 100000
concurrency = {CONCURRENCY}
lease_seconds = {lease_seconds}
retry_seconds = 1

[log]
format = "json"

[[sources]]
id = "seed"
kind = "listing"
path = "seed.txt"

{topics}
""",
        encoding="utf-8",
    )
    return path


def add_subscribers(store_url: str, count: int) -> list[str]:
    """`count` confirmed immediate subscribers, English and Russian, in one statement."""
    joined = datetime.now(UTC) - timedelta(hours=1)
    emails = [f"reader{n:05d}@example.org" for n in range(count)]
    store = Store.open(store_url)
    with store.engine.begin() as connection:
        connection.execute(
            insert(subscribers),
            [
                {
                    "id": subscriber_id(email),
                    "email": email,
                    "language": "ru" if n % 4 == 0 else "en",
                    "topics": "[]",
                    "frequency": "immediate",
                    "weekday": 0,
                    "send_time": "08:00",
                    "timezone": "UTC",
                    "status": "active",
                    "origin": "cli",
                    "created_at": joined,
                    "confirmed_at": joined,
                    "last_slot_at": None,
                    "covered_until": None,
                    "hard_failures": 0,
                }
                for n, email in enumerate(emails)
            ],
        )
    store.close()
    return emails


def start_worker(config: Path, n: int) -> subprocess.Popen[bytes]:
    with open(config.parent / f"worker{n}.log", "wb") as out:  # the child keeps its own copy
        return subprocess.Popen(
            [
                *CMSFEED,
                "--config",
                str(config),
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(free_port()),
            ],
            cwd=config.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "CMSFEED_SECRET": "workers-test-secret",
            },
        )


def deliveries(log: Path) -> list[tuple[str, str]]:
    if not log.exists():
        return []
    return [
        tuple(line.split(" ", 1))
        for line in log.read_text().splitlines()  # type: ignore[misc]
        if " " in line
    ]


def log_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


def run_round(
    tmp_path: Path, store_url: str, *, kill_one: bool
) -> tuple[list[str], list[tuple[str, str]], Store, float]:
    log = tmp_path / "sink.log"
    emails = add_subscribers(store_url, SUBSCRIBERS)
    with smtp_sink(log) as port:
        config = write_config(tmp_path, store_url, port, lease_seconds=10 if kill_one else 120)
        store = Store.open(store_url)
        digests = store
        started = time.monotonic()
        workers = [start_worker(config, n) for n in range(WORKERS)]

        def running(keep: list[subprocess.Popen[bytes]]) -> None:
            # A worker that stopped fails the wait at once, with its last words.
            for n, worker in enumerate(workers):
                if worker in keep and worker.poll() is not None:
                    tail = (tmp_path / f"worker{n}.log").read_text(errors="replace")[-800:]
                    raise AssertionError(f"worker {n} exited with {worker.returncode}: {tail}")

        try:
            if kill_one:
                wait_until(
                    lambda: running(workers) or len(deliveries(log)) >= SUBSCRIBERS // 4,
                    "a quarter sent",
                    timeout=ROUND_TIMEOUT,
                    interval=0.2,
                )
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait(30)
                assert len(deliveries(log)) < SUBSCRIBERS, "the round ended before the kill"

            def finished() -> bool:
                running(workers[1:] if kill_one else workers)
                counts = digests.outbox_status().counts
                return (
                    counts["sent"] >= SUBSCRIBERS
                    and counts["queued"] == 0
                    and counts["sending"] == 0
                )

            wait_until(finished, "every digest sent", timeout=ROUND_TIMEOUT, interval=0.2)
            elapsed = time.monotonic() - started
            time.sleep(1.0)  # anything sent twice would arrive now
        finally:
            stop(workers)
        for n, worker in enumerate(workers):
            text = (tmp_path / f"worker{n}.log").read_text(errors="replace")
            if not (kill_one and n == 0):
                assert worker.returncode == 0, text[-3000:]
                assert "Traceback" not in text, text[-3000:]
    return emails, deliveries(log), digests, elapsed


def test_three_workers_send_each_subscriber_exactly_one_digest(
    tmp_path: Path, postgres_url: str
) -> None:
    emails, received, digests, elapsed = run_round(tmp_path, postgres_url, kill_one=False)
    per_recipient = Counter(recipient for recipient, _ in received)
    assert sorted(per_recipient) == emails
    assert set(per_recipient.values()) == {1}, per_recipient.most_common(5)
    counts = digests.outbox_status().counts
    assert counts == {"queued": 0, "sending": 0, "sent": SUBSCRIBERS, "failed": 0, "cancelled": 0}
    # The JSON logs show the work was shared: rounds ran at once, each digest was queued by
    # exactly one worker, and every worker sent some.
    rounds = [
        event
        for n in range(WORKERS)
        for event in log_events(tmp_path / f"worker{n}.log")
        if event["event"] == "digest round"
    ]
    assert sum(event["queued"] for event in rounds) == SUBSCRIBERS
    sent_by = Counter[int]()
    for event in rounds:
        sent_by[event["pid"]] += event["sent"]
    assert sum(sent_by.values()) == SUBSCRIBERS
    print(
        f"{SUBSCRIBERS} digests by {WORKERS} workers in {elapsed:.1f} s; sent per worker: "
        f"{sorted(sent_by.values())}"
    )
    digests.close()


def test_a_worker_killed_mid_round_leaves_nobody_without_a_digest(
    tmp_path: Path, postgres_url: str
) -> None:
    emails, received, digests, elapsed = run_round(tmp_path, postgres_url, kill_one=True)
    message_ids: dict[str, list[str]] = defaultdict(list)
    for recipient, message_id in received:
        message_ids[recipient].append(message_id)
    assert sorted(message_ids) == emails  # nobody lost
    for ids in message_ids.values():
        assert len(set(ids)) == 1  # a repeat is the same message (same Message-ID)
    repeats = sum(len(ids) - 1 for ids in message_ids.values())
    assert repeats <= CONCURRENCY  # only what the killed worker had in flight
    assert digests.outbox_status().counts == {
        "queued": 0,
        "sending": 0,
        "sent": SUBSCRIBERS,
        "failed": 0,
        "cancelled": 0,
    }
    print(
        f"{SUBSCRIBERS} digests, one of {WORKERS} workers killed, in {elapsed:.1f} s; "
        f"{repeats} repeated"
    )
    digests.close()
