"""Benchmark: importing a bounce Maildir of N messages for N subscribers.

    .venv/bin/python bench/bench_bounces.py            # 1,000 and 10,000 messages
    .venv/bin/python bench/bench_bounces.py --sizes 500

Each size runs in a fresh process (so peak memory is that size's own): it fills a SQLite store
with N subscribers and one sent digest each, and a Maildir with one bounce or complaint per
digest, in the real-shaped formats of tests/data/bounces/ (Postfix, Gmail, Microsoft and Exim
bounces, Yahoo complaints), half matched by VERP and half by the quoted Message-ID. It then
times `import_bounces` (parse, match, record, suspend or unsubscribe, move to cur/). Beside
it, in the same run, the floor: reading the same files and parsing each with the standard
library's `email.message_from_bytes`, nothing else. The run checks that every subscriber
ended suspended or unsubscribed.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "bounces"
FIXTURE_ID = "<digest.0123456789abcdef01234567@cmsfeed.example>"
FORMATS = {
    "postfix-hard.eml": "reader.gone@example.org",
    "gmail-hard.eml": "reader.gmail@gmail.com",
    "microsoft-hard.eml": "reader.ms@outlook.com",
    "exim-hard.eml": "reader.exim@example.net",
    "arf-yahoo.eml": "reader.yahoo@yahoo.com",
}
SECRET = b"bench-secret"
T0 = datetime(2024, 12, 2, 8, 0, tzinfo=UTC)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_size(size: int) -> dict[str, float]:
    sys.path.insert(0, str(REPO / "src"))
    from sqlalchemy import insert

    from cmsfeed.bounce_mailbox import BounceSettings, import_bounces
    from cmsfeed.bounces.verp import verp_address
    from cmsfeed.store import Store
    from cmsfeed.store.bounces import SoftBouncePolicy
    from cmsfeed.store.schema import outbox
    from cmsfeed.subscribers import Subscriber

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = Store.open(f"sqlite:///{root / 'store.db'}")
        digests = store
        readers = [f"reader{number:06d}@example{number % 7}.org" for number in range(size)]
        for email in readers:
            digests.save_subscriber(Subscriber(email), T0)
        rows = [
            {
                "id": number + 1,
                "subscriber_id": Subscriber(email).id,
                "period": "d:2024-12-02T08:00:00Z",
                "message_id": f"<digest.{number:024d}@cmsfeed.example>",
                "language": "en",
                "item_ids": "[]",
                "status": "sent",
                "created_at": T0,
                "attempts": 1,
                "next_attempt_at": T0,
            }
            for number, email in enumerate(readers)
        ]
        with store.engine.begin() as connection:
            connection.execute(insert(outbox), rows)
        maildir = root / "bounces"
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True)
        templates = {name: (DATA / name).read_text() for name in FORMATS}
        names = list(FORMATS)
        for number, email in enumerate(readers):
            name = names[number % len(names)]
            text = templates[name].replace(FORMATS[name], email)
            text = text.replace(FORMATS[name].partition("@")[0], email.partition("@")[0])
            text = text.replace(FIXTURE_ID, rows[number]["message_id"])  # type: ignore[arg-type]
            if number % 2:
                envelope = verp_address(SECRET, number + 1, "bounces@cmsfeed.example")
                text = text.replace("bounces@cmsfeed.example", envelope)
            text = text.replace("Message-Id: <", f"Message-Id: <r{number}.", 1)
            text = text.replace("Message-ID: <", f"Message-ID: <r{number}.", 1)
            (maildir / "new" / f"{number:06d}.bench").write_text(text)

        import email

        files = sorted((maildir / "new").iterdir())
        began = time.perf_counter()
        for file in files:
            email.message_from_bytes(file.read_bytes())
        floor_seconds = time.perf_counter() - began

        settings = BounceSettings(
            SECRET, "bounces@cmsfeed.example", SoftBouncePolicy(3, timedelta(days=14))
        )
        began = time.perf_counter()
        report = import_bounces(maildir, store, settings, lambda: T0)
        seconds = time.perf_counter() - began
        done = sum(
            1
            for chunk in digests.iter_subscribers(statuses=["suspended", "unsubscribed"])
            for _ in chunk
        )
        store.close()
    if report.processed != size or done != size:
        raise SystemExit(f"{size}: {report.processed} processed, {done} acted on")
    return {
        "size": size,
        "rate": size / seconds,
        "floor": size / floor_seconds,
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
    print(
        f"{'messages':>8}  {'import/s':>9}  {'floor/s':>9}  {'ratio':>6}  {'s':>6}  {'peak MiB':>8}"
    )
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
