"""Ingest benchmark: N realistic items (English and Russian, species names inflected) parsed,
tagged and stored in SQLite, beside a bare sqlite3 insert of the same rows in the same run.

    .venv/bin/python bench/bench_ingest.py [--items 100000]

Prints items per second for cmsfeed and for the floor, their ratio, and peak memory (the peak
resident set of a fresh process for each run) at a tenth of N and at N, to show memory does
not grow with the number of items.
Not a test: the machine is shared and noisy, so read the ratio, not the absolute rate.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cmsfeed.config import load_config
from cmsfeed.ingest.json_items import story_from_object
from cmsfeed.ingest.run import Ingester, SourceReport
from cmsfeed.model import Story
from cmsfeed.store import Store

REPO = Path(__file__).resolve().parent.parent

EN_SUBJECTS = [
    "Bukhara deer",
    "Bukhara deer populations",
    "argali",
    "the Marco Polo sheep",
    "saigas",
    "the saiga antelope",
    "snow leopards",
    "kulans",
    "goitered gazelles",
    "Mongolian gazelles",
    "wild Bactrian camels",
    "migratory mammals",
]
RU_SUBJECTS = [
    "бухарских оленей",
    "бухарского оленя",
    "архаров",
    "аргали",
    "сайгаков",
    "сайги",
    "снежного барса",
    "ирбисов",
    "куланов",
    "джейранов",
    "дзеренов",
    "хавтагаев",
    "мигрирующих млекопитающих",
]
EN_TEMPLATES = [
    "Rangers in the {place} counted {n} {s} this spring, a record since monitoring began.",
    "A new action plan for {s} was agreed by range states meeting in {place}.",
    "Experts warn that fences and roads in {place} cut the migration routes of {s}.",
    "Camera traps in {place} recorded {s} for the first time in {n} years.",
]
RU_TEMPLATES = [
    "Инспекторы в {place} насчитали {n} {s} этой весной — рекорд за время наблюдений.",
    "Страны ареала, встретившиеся в {place}, согласовали новый план действий для {s}.",
    "Эксперты предупреждают, что заборы и дороги в {place} перекрывают пути миграции {s}.",
    "Фотоловушки в {place} впервые за {n} лет зафиксировали {s}.",
]
PLACES_EN = ["Almaty", "Bukhara region", "the Altai", "Karakalpakstan", "the Gobi", "Ustyurt"]
PLACES_RU = ["Алматы", "Бухарской области", "Алтае", "Каракалпакстане", "Гоби", "Устюрте"]


def generate(count: int, seed: int = 7) -> Iterator[str]:
    """JSON Lines of realistic items, made on the fly so the generator holds nothing."""
    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    for number in range(count):
        russian = number % 2 == 1
        subjects, templates, places = (
            (RU_SUBJECTS, RU_TEMPLATES, PLACES_RU)
            if russian
            else (EN_SUBJECTS, EN_TEMPLATES, PLACES_EN)
        )
        sentences = [
            rng.choice(templates).format(
                s=rng.choice(subjects), place=rng.choice(places), n=rng.randint(2, 900)
            )
            for _ in range(4)
        ]
        yield json.dumps(
            {
                "id": f"bench-{number}",
                "title": sentences[0][:90],
                "summary": "".join(f"<p>{s}</p>" for s in sentences[1:]),
                "url": f"https://news.example.org/{number}",
                "published": (start + timedelta(minutes=37 * number)).isoformat(),
            },
            ensure_ascii=False,
        )


def stories(count: int) -> Iterator[Story]:
    for number, line in enumerate(generate(count), start=1):
        yield story_from_object(json.loads(line), f"line {number}")


def bench_cmsfeed(count: int, folder: Path, workers: int) -> float:
    config_path = folder / "config.toml"
    config_path.write_text(
        (REPO / "config.toml")
        .read_text(encoding="utf-8")
        .replace('url = "sqlite:///var/cmsfeed.db"', f'url = "sqlite:///{folder / "bench.db"}"')
        .replace("[ingest]\n", f"[ingest]\nworkers = {workers}\n"),
        encoding="utf-8",
    )
    config = load_config(config_path, {})
    store = Store.open(config.store.url)
    ingester = Ingester(config, store, lambda: datetime.now(UTC))
    ingester.identifier, ingester.matcher  # noqa: B018  (load models outside the timing)
    report = SourceReport("bench")
    began = time.perf_counter()
    ingester.store_story_stream("bench", stories(count), report)
    elapsed = time.perf_counter() - began
    assert report.counts.inserted == count, report.counts
    assert not report.problems, report.problems[:3]
    store.close()
    return count / elapsed


def bench_floor(count: int, folder: Path) -> float:
    """The same rows through bare sqlite3 executemany: no parsing, tagging or SQLAlchemy."""
    connection = sqlite3.connect(folder / "floor.db")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE items (id TEXT PRIMARY KEY, key TEXT UNIQUE, title TEXT, "
        "summary TEXT, url TEXT, published TEXT)"
    )
    began = time.perf_counter()
    batch: list[tuple[str, ...]] = []
    for line in generate(count):
        value = json.loads(line)
        batch.append(
            (
                value["id"],
                value["id"],
                value["title"],
                value["summary"],
                value["url"],
                value["published"],
            )
        )
        if len(batch) == 500:
            with connection:
                connection.executemany("INSERT INTO items VALUES (?,?,?,?,?,?)", batch)
            batch = []
    with connection:
        connection.executemany("INSERT INTO items VALUES (?,?,?,?,?,?)", batch)
    elapsed = time.perf_counter() - began
    connection.close()
    return count / elapsed


def run_one(kind: str, count: int) -> dict[str, float]:
    """One measurement in this (fresh) process: rate and peak resident memory (of this process;
    worker processes, when there are any, each hold about as much again)."""
    with tempfile.TemporaryDirectory() as folder:
        if kind == "floor":
            rate = bench_floor(count, Path(folder))
        else:
            rate = bench_cmsfeed(count, Path(folder), workers=int(kind.split("-")[1]))
    return {"rate": rate, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="ingest.workers for the 2nd run")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]))))
        return

    def measure(kind: str, count: int) -> dict[str, float]:
        output = subprocess.run(
            [sys.executable, __file__, "--one", kind, str(count)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return dict(json.loads(output.splitlines()[-1]))

    kinds = ["floor", "cmsfeed-1", f"cmsfeed-{args.workers}"]
    print(
        f"{'items':>8} "
        + " ".join(f"{kind + ' items/s':>20} {'peak MiB':>9}" for kind in kinds)
        + f" {'ratio 1':>8} {'ratio ' + str(args.workers):>8}"
    )
    for count in (args.items // 10, args.items):
        found = {kind: measure(kind, count) for kind in kinds}
        floor = found["floor"]["rate"]
        print(
            f"{count:>8} "
            + " ".join(f"{found[k]['rate']:>20,.0f} {found[k]['peak_mib']:>9.1f}" for k in kinds)
            + f" {found[kinds[1]]['rate'] / floor:>8.3f} {found[kinds[2]]['rate'] / floor:>8.3f}",
            flush=True,
        )
    print("target: >= 2,000 items/s for cmsfeed; peak memory flat from N/10 to N")


if __name__ == "__main__":
    main()
