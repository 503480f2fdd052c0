"""Benchmark: `subscribers import` of a CSV file of N rows into a fresh SQLite store.

    .venv/bin/python bench/bench_subscribers_import.py            # 1,000 and 10,000 rows
    .venv/bin/python bench/bench_subscribers_import.py --sizes 500

Each size runs in a fresh process (so peak memory is that size's own). It writes a CSV file of
N distinct addresses with every column filled (mixed languages, topics, schedules and time
zones) and times `import_subscribers`: read, check every row, plan, and write the subscribers
with one history event each in one transaction. Beside it, in the same run, the floor: the
same rows as already-made tuples through bare `sqlite3.executemany` into a table of the same
columns, nothing checked. The run checks that N subscribers are in the store afterwards.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ZONES = ["UTC", "Asia/Almaty", "Asia/Tashkent", "Europe/Moscow", "Asia/Bishkek"]
TOPICS = ["argali", "saiga", "snow-leopard", "bukhara-deer"]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def csv_rows(size: int) -> list[list[str]]:
    return [
        [
            f"reader{n}@example.org",
            "ru" if n % 3 == 0 else "en",
            " ".join(TOPICS[: 1 + n % len(TOPICS)]),
            ("daily", "weekly", "immediate")[n % 3],
            ("mon", "wed", "fri")[n % 3],
            f"{n % 24}:{n % 60:02d}",
            ZONES[n % len(ZONES)],
        ]
        for n in range(size)
    ]


def floor_seconds(rows: list[list[str]], folder: Path) -> float:
    connection = sqlite3.connect(folder / "floor.db")
    connection.execute(
        "CREATE TABLE subscribers (email TEXT UNIQUE, language TEXT, topics TEXT, "
        "frequency TEXT, weekday TEXT, send_time TEXT, timezone TEXT)"
    )
    began = time.perf_counter()
    with connection:
        connection.executemany("INSERT INTO subscribers VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    seconds = time.perf_counter() - began
    connection.close()
    return seconds


def one_size(size: int) -> dict[str, float]:
    sys.path.insert(0, str(REPO / "src"))
    from cmsfeed.store import Store
    from cmsfeed.subscriptions.admin import import_subscribers
    from cmsfeed.subscriptions.options import COLUMNS, Offered

    rows = csv_rows(size)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    text = out.getvalue()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        floor = floor_seconds(rows, folder)
        store = Store.open(f"sqlite:///{folder / 'store.db'}")
        digests = store
        began = time.perf_counter()
        report = import_subscribers(digests, text, Offered(("en", "ru"), tuple(TOPICS)), T0)
        seconds = time.perf_counter() - began
        stored = sum(len(chunk) for chunk in digests.iter_subscribers())
        store.close()
    if report.added != size or stored != size or report.plan.problems:
        raise SystemExit(f"{size}: {report.added} added, {stored} stored")
    return {
        "size": size,
        "rate": size / seconds,
        "floor": size / floor,
        "seconds": seconds,
        "peak_mib": peak_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one)))
        return
    print(f"{'rows':>8}  {'import/s':>9}  {'floor/s':>9}  {'ratio':>6}  {'s':>6}  {'peak MiB':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found = json.loads(out.strip().splitlines()[-1])
        print(
            f"{found['size']:>8,}  {found['rate']:>9,.0f}  {found['floor']:>9,.0f}  "
            f"{found['rate'] / found['floor']:>6.3f}  {found['seconds']:>6.1f}  "
            f"{found['peak_mib']:>8.0f}"
        )


if __name__ == "__main__":
    main()
