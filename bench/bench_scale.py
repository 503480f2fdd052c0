"""Benchmark: one digest round for 100,000 subscribers on PostgreSQL, shared by 2 workers.

    scripts/with-postgres .venv/bin/python bench/bench_scale.py [--subscribers 100000]

Needs CMSFEED_TEST_POSTGRES_URL (scripts/with-postgres starts a throwaway server). Fills a
fresh database with N daily subscribers (mixed topics, languages, time zones) and 120 items,
then starts WORKERS `cmsfeed digest send --now T` processes at the same moment against it and
one aiosmtpd sink process: they queue the round together (each digest once, by the outbox's
unique key) and split the sending with SKIP LOCKED leases. Beside it, in the same run, the
bare aiosmtplib loop of bench_digest.py sends N pre-rendered messages to the same sink: the
floor. Prints one JSON line: digests/s, the floor, the ratio, peak memory of each worker, and
checks every subscriber got exactly one digest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_digest import (
    LANGUAGES,
    SINK,
    T0,
    TOPICS,
    ZONES,
    bench_items,
    free_port,
    run_child,
)

# The cmsfeed of the interpreter running the benchmark, wherever its environment lives.
CMSFEED = (sys.executable, "-m", "cmsfeed")


def fresh_database(server_url: str) -> str:
    import sqlalchemy

    name = f"cmsfeed_bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def fill(url: str, size: int) -> None:
    from sqlalchemy import insert

    from cmsfeed.store import Store
    from cmsfeed.store.schema import subscribers
    from cmsfeed.subscribers import subscriber_id

    store = Store.open(url)
    for start in range(0, size, 10_000):
        with store.engine.begin() as connection:
            connection.execute(
                insert(subscribers),
                [
                    {
                        "id": subscriber_id(email),
                        "email": email,
                        "language": LANGUAGES[n % 2],
                        "topics": json.dumps([TOPICS[n % 3]]),
                        "frequency": "daily",
                        "weekday": 0,
                        "send_time": "08:00",
                        "timezone": ZONES[n % len(ZONES)],
                        "status": "active",
                        "origin": "cli",
                        "created_at": T0,
                        "confirmed_at": T0,
                        "last_slot_at": None,
                        "covered_until": None,
                        "hard_failures": 0,
                    }
                    for n in range(start, min(size, start + 10_000))
                    for email in [f"reader{n}@example.org"]
                ],
            )
    store.upsert_items(bench_items(), T0 + timedelta(hours=1))
    store.close()


def write_config(folder: Path, url: str, port: int) -> Path:
    topics = "".join(
        f'[[topics]]\nid = "{t}"\nname = {{ en = "{t.title()}", ru = "{t}" }}\n'
        f'terms.en = ["{t}"]\n\n'
        for t in TOPICS
    )
    path = folder / "config.toml"
    path.write_text(
        f"""
[site]
title = "CAMI news"
base_url = "http://127.0.0.1:8080/"
languages = ["en", "ru"]
[store]
url = "{url}"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from_address = "news@bench.example"
[digests]
rate_per_second = 1000000
concurrency = 8
lease_seconds = 600
secret_path = "secret"
{topics}""",
        encoding="utf-8",
    )
    return path


def run_workers(config: Path, workers: int) -> tuple[float, list[float], list[str]]:
    now = (T0 + timedelta(days=2)).isoformat()
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [*CMSFEED, "--config", str(config), "digest", "send", "--now", now],
            cwd=config.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "CMSFEED_SECRET": "bench"},
        )
        for _ in range(workers)
    ]
    peaks: list[float] = []
    outputs: list[str] = []
    for process in processes:
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.returncode == 0, output
        peaks.append(usage.ru_maxrss / 1024)
        outputs.append(output.strip().splitlines()[-1] if output.strip() else "")
        process.stdout.close()
    return time.perf_counter() - started, peaks, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    server = os.environ.get("CMSFEED_TEST_POSTGRES_URL")
    if not server:
        sys.exit("needs CMSFEED_TEST_POSTGRES_URL: run through scripts/with-postgres")
    url = fresh_database(server)
    started = time.perf_counter()
    fill(url, args.subscribers)
    fill_seconds = time.perf_counter() - started
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as scratch,
        subprocess.Popen(
            [sys.executable, "-c", SINK, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as sink,
    ):
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        try:
            config = write_config(Path(scratch), url, port)
            seconds, peaks, outputs = run_workers(config, args.workers)
            bare = run_child("bare", args.subscribers, port)
        finally:
            assert sink.stdin is not None
            sink.stdin.close()
            sink.wait(timeout=60)
    from cmsfeed.store import Store

    store = Store.open(url)
    counts = store.outbox_status().counts
    store.close()
    assert counts["sent"] == args.subscribers and counts["queued"] == counts["sending"] == 0, counts
    rate = args.subscribers / seconds
    print(
        json.dumps(
            {
                "subscribers": args.subscribers,
                "workers": args.workers,
                "seconds": seconds,
                "digests_per_second": rate,
                "bare_per_second": bare["digests_per_second"],
                "ratio": rate / bare["digests_per_second"],
                "peak_mib_per_worker": peaks,
                "bare_peak_mib": bare["peak_mib"],
                "fill_seconds": fill_seconds,
                "outbox": counts,
                "worker_reports": outputs,
            }
        )
    )


if __name__ == "__main__":
    main()
