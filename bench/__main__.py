"""Every benchmark in one run, one table: `bench/run` (or `python -m bench` from the repository).

Runs bench_ingest, bench_feeds, bench_serve, bench_digest, bench_scale, bench_bounces and
bench_topics, each in its own processes and each beside its own baseline measured in the same
run, then prints one table (figure, baseline, ratio, peak memory) and writes it as JSON
(`--json`, default bench/results.json). `--quick` uses small sizes (a smoke run of a few
minutes); the default sizes are those of the earlier issues plus the scale row: 100,000
subscribers on PostgreSQL with 2 workers. `--only ingest,feeds` picks benchmarks. A benchmark
that cannot run here (no wrk or nginx, no PostgreSQL) is listed as skipped with the reason,
not fatal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable


@dataclass
class Row:
    benchmark: str
    case: str
    figure: float | None
    unit: str
    baseline_name: str
    baseline: float | None
    ratio: float | None  # figure / baseline, higher is better for rates
    peak_mib: str  # one or more processes, e.g. "204" or "127 / 127"
    note: str = ""


def run(args: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [PYTHON, *args],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise RuntimeError((result.stderr or result.stdout).strip().splitlines()[-1:])
    return result.stdout


def number(text: str) -> float:
    return float(text.replace(",", ""))


def bench_ingest(quick: bool) -> list[Row]:
    items, entries = (5_000, 2_500) if quick else (100_000, 25_000)
    out = run(
        [str(BENCH / "bench_ingest.py"), "--items", str(items), "--entries", str(entries)], 7200
    )
    found = json.loads(out.strip().splitlines()[-1])
    return [
        Row(
            "ingest",
            str(row["case"]),
            float(row["figure"]),
            str(row["unit"]),
            str(row["baseline_name"]),
            float(row["baseline"]),
            float(row["ratio"]),
            str(row["peak_mib"]),
        )
        for row in found
    ]


def bench_feeds(quick: bool) -> list[Row]:
    items = 10_000 if quick else 100_000
    out = run(
        [str(BENCH / "bench_feeds.py"), "--items", str(items), "--runs", "1" if quick else "3"],
        3600,
    )

    def seconds(label: str) -> float:
        found = re.search(rf"{re.escape(label)}\s+([\d.]+)s", out)
        assert found, (label, out)
        return float(found.group(1))

    peak = re.search(r"peak memory\s+([\d.]+) MiB", out)
    changed = re.search(r"one-item change: (\d+) files rewritten", out)
    mib = f"{float(peak.group(1)):.0f}" if peak else "?"
    return [
        Row(
            "feeds",
            f"render every feed, {items:,} items",
            seconds("render, feedgen"),
            "s",
            "bare lxml, same bytes",
            seconds("render, bare lxml floor"),
            seconds("render, bare lxml floor") / seconds("render, feedgen"),
            mib,
        ),
        Row(
            "feeds",
            f"full build, {items:,} items",
            seconds("full build (query+render+write)"),
            "s",
            "same queries + bare lxml",
            seconds("full build, floor"),
            seconds("full build, floor") / seconds("full build (query+render+write)"),
            mib,
            f"one-item change rewrote {changed.group(1) if changed else '?'} files",
        ),
    ]


def bench_serve(quick: bool) -> list[Row]:
    if not shutil.which("wrk") or not shutil.which("nginx"):
        return [
            Row(
                "serve",
                "one feed",
                None,
                "req/s",
                "nginx",
                None,
                None,
                "",
                "skipped: needs wrk and nginx (apt-get install -y wrk nginx)",
            )
        ]
    out = run([str(BENCH / "bench_serve.py"), "--seconds", "3" if quick else "10"], 600)
    memory = re.search(r"peak memory: cmsfeed ([\d.]+) MiB, nginx ([\d.]+) MiB", out)
    mib = f"{float(memory.group(1)):.0f} (nginx {float(memory.group(2)):.0f})" if memory else "?"
    rows = []
    for status, ours, errors, theirs in re.findall(
        r"(\d{3}): cmsfeed\s+(\d+) req/s \((\d+) errors\)\s+nginx\s+(\d+) req/s", out
    ):
        rows.append(
            Row(
                "serve",
                f"one feed, {status}",
                float(ours),
                "req/s",
                "nginx, same bytes",
                float(theirs),
                float(ours) / float(theirs),
                mib,
                f"{errors} errors" if errors != "0" else "",
            )
        )
    return rows


def bench_digest(quick: bool) -> list[Row]:
    sizes = "500" if quick else "1000,10000"
    out = run([str(BENCH / "bench_digest.py"), "--sizes", sizes], 3600)
    rows = []
    for line in out.splitlines():
        cells = line.split()
        if not cells or not cells[0].replace(",", "").isdigit():
            continue
        size, rate, bare, _ratio, _queue, total, mib, bare_mib = (number(c) for c in cells[:8])
        rows.append(
            Row(
                "digest",
                f"{int(size):,} subscribers, SQLite, 1 process",
                rate,
                "digests/s",
                "bare aiosmtplib loop",
                bare,
                rate / bare,
                f"{mib:.0f} (bare {bare_mib:.0f})",
                f"round {total:.1f} s",
            )
        )
    return rows


def bench_scale(quick: bool) -> list[Row]:
    size = 5_000 if quick else 100_000
    if not os.environ.get("CMSFEED_TEST_POSTGRES_URL"):
        return [
            Row(
                "scale",
                f"digest round, {size:,} subscribers, PostgreSQL, 2 workers",
                None,
                "digests/s",
                "bare aiosmtplib loop",
                None,
                None,
                "",
                "skipped: no PostgreSQL (run bench/run, which starts one)",
            )
        ]
    out = run([str(BENCH / "bench_scale.py"), "--subscribers", str(size)], 7200)
    found = json.loads(out.strip().splitlines()[-1])
    peaks = " / ".join(f"{mib:.0f}" for mib in found["peak_mib_per_worker"])
    return [
        Row(
            "scale",
            f"digest round, {size:,} subscribers, PostgreSQL, {found['workers']} workers",
            found["digests_per_second"],
            "digests/s",
            "bare aiosmtplib loop",
            found["bare_per_second"],
            found["ratio"],
            f"{peaks} per worker",
            f"round {found['seconds']:.0f} s, each sent once",
        )
    ]


def bench_bounces(quick: bool) -> list[Row]:
    sizes = "500" if quick else "1000,10000"
    out = run([str(BENCH / "bench_bounces.py"), "--sizes", sizes], 3600)
    rows = []
    for line in out.splitlines():
        cells = line.split()
        if not cells or not cells[0].replace(",", "").isdigit():
            continue
        size, rate, floor, _ratio, seconds, mib = (number(c) for c in cells[:6])
        rows.append(
            Row(
                "bounces",
                f"import {int(size):,} bounces and complaints, SQLite",
                rate,
                "messages/s",
                "stdlib email parse of the same files",
                floor,
                rate / floor,
                f"{mib:.0f}",
                f"import {seconds:.1f} s",
            )
        )
    return rows


def bench_topics(quick: bool) -> list[Row]:
    stories = 2_000 if quick else 20_000
    out = run([str(BENCH / "bench_topics.py"), "--stories", str(stories)], 1800)
    return [
        Row(
            "topics",
            f"tag {row['stories']:,} {row['language']} stories, 17 topics",
            float(row["rate"]),
            "stories/s",
            "word split + set lookup",
            float(row["floor_rate"]),
            float(row["rate"]) / float(row["floor_rate"]),
            f"{float(row['peak_mib']):.0f}",
            f"setup {float(row['setup_seconds']):.1f} s",
        )
        for row in json.loads(out.strip().splitlines()[-1])
    ]


BENCHMARKS = {
    "ingest": bench_ingest,
    "feeds": bench_feeds,
    "serve": bench_serve,
    "digest": bench_digest,
    "scale": bench_scale,
    "bounces": bench_bounces,
    "topics": bench_topics,
}


def show(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def print_table(rows: list[Row]) -> None:
    headers = [
        "benchmark",
        "case",
        "figure",
        "unit",
        "baseline",
        "baseline is",
        "ratio",
        "peak MiB",
        "note",
    ]
    cells = [
        [
            row.benchmark,
            row.case,
            show(row.figure, 3 if row.unit == "s" else 0),
            row.unit,
            show(row.baseline, 3 if row.unit == "s" else 0),
            row.baseline_name,
            show(row.ratio, 2) + ("x" if row.ratio is not None else ""),
            row.peak_mib,
            row.note,
        ]
        for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    right = {2, 4, 6}

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for values in cells:
        print(line(values))
    print(
        "ratio: figure / baseline for rates, baseline / figure for times (1.00x = as fast as "
        "the baseline; higher is better)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {','.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--json", type=Path, default=BENCH / "results.json", help="where to write the table as JSON"
    )
    args = parser.parse_args()
    rows: list[Row] = []
    started = time.perf_counter()
    for name in args.only.split(","):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        try:
            rows += BENCHMARKS[name](args.quick)
        except (RuntimeError, subprocess.TimeoutExpired, AssertionError) as err:
            rows.append(Row(name, "—", None, "", "", None, None, "", f"failed: {err}"))
        print(f"  {name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    print_table(rows)
    args.json.write_text(
        json.dumps(
            {
                "quick": args.quick,
                "cpus": os.cpu_count(),
                "seconds": time.perf_counter() - started,
                "rows": [asdict(row) for row in rows],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
