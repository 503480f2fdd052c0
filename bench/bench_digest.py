"""Benchmark: one digest round for N subscribers into a local aiosmtpd sink.

    .venv/bin/python bench/bench_digest.py            # 1,000 and 10,000 subscribers
    .venv/bin/python bench/bench_digest.py --sizes 2000

Each size runs in a fresh process (so peak memory is that size's own): it fills a SQLite store
with subscribers (mixed topics, languages and time zones) and items (20 per subscriber), then
times `queue_round` + `send_outbox` end to end, as `cmsfeed digest send` runs them: claims of
`digests.concurrency` (8) rows at a time with at most two batches in hand, a lease renewed by a
heartbeat, one transaction per message marked sent. Beside it, in the same run, a bare
aiosmtplib loop sends the same number of pre-rendered messages over a pool of 8 connections:
the floor the digest machinery is compared with. The sink is a separate process that counts
messages. On a shared, noisy machine `--repeat N` runs both N times, alternating, and keeps
the best of each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cmsfeed.model import Item

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"""

ZONES = [
    "UTC",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Europe/Moscow",
    "Asia/Ulaanbaatar",
    "Asia/Dushanbe",
    "Asia/Bishkek",
    "Europe/Berlin",
]
TOPICS = ["argali", "saiga", "bukhara-deer"]
LANGUAGES = ["en", "ru"]
ITEMS_PER_SET = 20
T0 = datetime(2024, 12, 2, tzinfo=UTC)


def bench_items() -> list[Item]:
    """ITEMS_PER_SET stories for every topic and language, the same in every digest benchmark."""
    from cmsfeed.model import Item, make_item_id

    items = []
    for topic in TOPICS:
        for language in LANGUAGES:
            for k in range(ITEMS_PER_SET):
                key = f"bench:{topic}:{language}:{k}"
                published = T0 + timedelta(minutes=k)
                items.append(
                    Item(
                        id=make_item_id(key),
                        key=key,
                        source_id="bench",
                        title=f"{topic} {language} story {k} — Сайгак",
                        summary="<p>" + "Rangers counted the herd. " * 12 + "</p>",
                        language=language,
                        published_at=published,
                        updated_at=published,
                        topics=(topic,),
                        url=f"https://news.example/{key}",
                    )
                )
    return items


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_digest(size: int, port: int) -> dict[str, float]:
    from cmsfeed.config import Config
    from cmsfeed.delivery import queue_round, send_outbox
    from cmsfeed.store import Store
    from cmsfeed.subscribers import Subscriber
    from cmsfeed.wiring import build_delivery

    workdir = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    config = Config.model_validate(
        {
            # digests are sent outside a server: their links need the public address
            "site": {
                "title": "CAMI news",
                "languages": LANGUAGES,
                "base_url": "http://127.0.0.1:8080/",
            },
            "store": {"url": f"sqlite:///{workdir / 'store.db'}"},
            "topics": [
                {"id": t, "name": {"en": t.title(), "ru": t}, "terms": {"en": [t]}} for t in TOPICS
            ],
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "from_address": "news@bench.example",
            },
            "digests": {
                "rate_per_second": 1e6,
                "concurrency": 8,
                "secret_path": str(workdir / "secret"),
            },
        }
    )
    store = Store.open(config.store.url)
    digests = store
    rows = []
    for n in range(size):
        rows.append(
            Subscriber(
                f"reader{n}@example.org",
                language=LANGUAGES[n % 2],
                topics=(TOPICS[n % 3],),
                send_time=day_time(8, 0),
                timezone=ZONES[n % len(ZONES)],
                confirmed_at=T0,
                created_at=T0,
            )
        )
    from sqlalchemy import insert

    from cmsfeed.store.schema import subscribers
    from cmsfeed.store.subscriber_rows import subscriber_values

    with store.engine.begin() as connection:
        connection.execute(
            insert(subscribers),
            [
                {
                    **subscriber_values(s),
                    "status": "active",
                    "origin": "cli",
                    "created_at": T0,
                    "confirmed_at": T0,
                    "hard_failures": 0,
                }
                for s in rows
            ],
        )
    del rows
    store.upsert_items(bench_items(), T0 + timedelta(hours=1))
    now = T0 + timedelta(days=2)
    delivery = build_delivery(config, digests, lambda: now, {"CMSFEED_SECRET": "bench"})

    async def round_once() -> tuple[float, float]:
        started = time.perf_counter()
        report = queue_round(delivery, now)
        queued_at = time.perf_counter()
        await send_outbox(delivery, report)
        await delivery.transport.close()
        assert report.sent == size, report
        return queued_at - started, time.perf_counter() - started

    queue_seconds, total = asyncio.run(round_once())
    return {
        "subscribers": size,
        "seconds": total,
        "queue_seconds": queue_seconds,
        "digests_per_second": size / total,
        "peak_mib": peak_mib(),
    }


def child_bare(size: int, port: int) -> dict[str, float]:
    """The floor: the same number of pre-rendered messages, 8 pooled connections, no store."""
    import aiosmtplib

    from cmsfeed.config import Config
    from cmsfeed.digest.message import Sender, build_message, message_bytes
    from cmsfeed.digest.render import EmailRenderer, Personal, personalise
    from cmsfeed.model import Item, make_item_id
    from cmsfeed.subscribers import Subscriber

    config = Config.model_validate(
        {
            "site": {"base_url": "http://127.0.0.1:8080/"},
            "topics": [{"id": "saiga", "name": {"en": "Saiga"}, "terms": {"en": ["saiga"]}}],
        }
    )
    items = [
        Item(
            id=make_item_id(str(k)),
            key=str(k),
            source_id="b",
            title=f"story {k}",
            summary="<p>" + "Rangers counted the herd. " * 12 + "</p>",
            language="en",
            published_at=T0,
            updated_at=T0,
            topics=("saiga",),
            url="https://x.example/",
        )
        for k in range(ITEMS_PER_SET)
    ]
    rendered = personalise(
        EmailRenderer(config.site_info(), confirm_days=config.digests.confirm_days).digest(
            Subscriber("a@example.org"), items, T0
        ),
        Personal("https://x.example/u", "https://x.example/p", "why"),
    )
    raw = message_bytes(
        build_message(
            rendered,
            sender=Sender("news@bench.example", "b"),
            to="a@example.org",
            message_id="<m@x>",
            now=T0,
        )
    )
    messages = [(f"reader{n}@example.org", raw) for n in range(size)]

    async def send_all() -> float:
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        for message in messages:
            queue.put_nowait(message)
        started = time.perf_counter()

        async def worker() -> None:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
            await client.connect()
            while not queue.empty():
                to, body = queue.get_nowait()
                await client.sendmail("news@bench.example", [to], body)
            await client.quit()

        await asyncio.gather(*(worker() for _ in range(8)))
        return time.perf_counter() - started

    seconds = asyncio.run(send_all())
    return {
        "subscribers": size,
        "seconds": seconds,
        "digests_per_second": size / seconds,
        "peak_mib": peak_mib(),
    }


def run_child(kind: str, size: int, port: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--size", str(size), "--port", str(port)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(repeat: int, size: int, port: int) -> tuple[dict[str, float], dict[str, float]]:
    """The fastest digest run and the fastest bare run, alternating so both see the same load."""
    digests, bares = [], []
    for _ in range(repeat):
        digests.append(run_child("digest", size, port))
        bares.append(run_child("bare", size, port))
    fastest = max(digests, key=lambda run: run["digests_per_second"])
    return fastest, max(bares, key=lambda run: run["digests_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--child")
    parser.add_argument("--size", type=int)
    parser.add_argument("--port", type=int)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of each")
    args = parser.parse_args()
    if args.child:
        result = (child_digest if args.child == "digest" else child_bare)(args.size, args.port)
        print(json.dumps(result))
        return
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    try:
        print(
            f"{'subscribers':>11}  {'digest/s':>9}  {'bare/s':>8}  {'ratio':>5}  "
            f"{'queue s':>7}  {'total s':>7}  {'peak MiB':>8}  {'bare MiB':>8}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            digest, bare = best_of(args.repeat, size, port)
            ratio = digest["digests_per_second"] / bare["digests_per_second"]
            print(
                f"{size:>11,}  {digest['digests_per_second']:>9.0f}  "
                f"{bare['digests_per_second']:>8.0f}  {ratio:>5.2f}  "
                f"{digest['queue_seconds']:>7.2f}  {digest['seconds']:>7.2f}  "
                f"{digest['peak_mib']:>8.0f}  {bare['peak_mib']:>8.0f}",
                flush=True,
            )
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=30)


if __name__ == "__main__":
    main()
