"""Benchmark: tagging stories with the bundled topics, per language.

    .venv/bin/python bench/bench_topics.py                 # 20,000 stories per language
    .venv/bin/python bench/bench_topics.py --stories 2000 --languages fr,es

Each language runs in a fresh process, so its peak memory is its own (the Russian morphology
of pymorphy3, simplemma's French or Spanish dictionary). The stories are the labelled items of
that language (tests/data/topics/labelled.json), each made distinct by a place and a count,
so that most words are seen before and a few are new, as in a real ingest. The figure is
`TopicMatcher.match` over them after one warm-up story; beside it, in the same process, the
floor: the same texts split into words and looked up in a set of the terms' words, which is
what any matcher must at least do. Setting the matcher up (it reduces every term of every
language, loading pymorphy3's and simplemma's dictionaries) is timed apart. Prints a table
and, last, one JSON line of rows.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LABELLED = REPO / "tests" / "data" / "topics" / "labelled.json"
BUNDLED = REPO / "src" / "cmsfeed" / "data" / "config.toml"
PLACES = ["Ustyurt", "Betpak-Dala", "Altyn-Emel", "Kopetdag", "Pamir", "Gobi", "Naryn", "Tian Shan"]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_language(language: str, count: int) -> dict[str, object]:
    sys.path.insert(0, str(REPO / "src"))
    from cmsfeed.classify import TopicMatcher
    from cmsfeed.config import load_config

    config = load_config(BUNDLED, {})
    definitions = [topic.definition() for topic in config.topics]
    base = [
        item["text"]
        for item in json.loads(LABELLED.read_text(encoding="utf-8"))
        if item["language"] == language
    ]
    texts = [f"{base[n % len(base)]} ({PLACES[n % len(PLACES)]}, {n})" for n in range(count)]
    started = time.perf_counter()
    matcher = TopicMatcher(definitions)  # reduces every term: loads every language's dictionaries
    matcher.match(texts[0], language)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    tagged = sum(1 for text in texts if matcher.match(text, language))
    seconds = time.perf_counter() - started

    term_words = {
        word
        for topic in definitions
        for terms in topic.terms.values()
        for term in terms
        for word in re.findall(r"\w+", term.lower())
    }
    word = re.compile(r"\w+")
    started = time.perf_counter()
    floor_hits = sum(1 for text in texts if not term_words.isdisjoint(word.findall(text.lower())))
    floor = time.perf_counter() - started
    return {
        "language": language,
        "stories": count,
        "tagged": tagged,
        "floor_hits": floor_hits,
        "rate": count / seconds,
        "floor_rate": count / floor,
        "setup_seconds": setup,
        "peak_mib": peak_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=20_000)
    parser.add_argument("--languages", default="en,fr,es,ru")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process's language
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_language(args.one, args.stories)))
        return
    rows = []
    for language in args.languages.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--one", language, "--stories", str(args.stories)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"{'lang':<5} {'stories':>8} {'tagged':>7} {'stories/s':>10} {'floor/s':>10} "
        f"{'ratio':>6} {'setup s':>8} {'peak MiB':>9}"
    )
    for row in rows:
        ratio = row["rate"] / row["floor_rate"]
        print(
            f"{row['language']:<5} {row['stories']:>8,} {row['tagged']:>7,} "
            f"{row['rate']:>10,.0f} {row['floor_rate']:>10,.0f} {ratio:>6.3f} "
            f"{row['setup_seconds']:>8.2f} {row['peak_mib']:>9.0f}"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
