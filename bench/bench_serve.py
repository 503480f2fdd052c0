"""Benchmark: serve one 50-entry feed under load, beside nginx serving the same bytes.

    apt-get install -y wrk nginx      # once
    .venv/bin/python bench/bench_serve.py [--seconds 10] [--connections 64]

Starts `cmsfeed serve` (one uvicorn process) and nginx (one worker) on 127.0.0.1, builds the
static site with `cmsfeed build` for nginx, checks both answer the same bytes, then runs wrk
for a 200 and for a 304 (If-None-Match with each server's own ETag). Figures are requests
per second as ratios to nginx in the same run, with errors and peak server memory.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cmsfeed.model import Item, make_item_id
from cmsfeed.store import Store

TOPICS = ["argali", "saiga", "bukhara-deer"]
FEED = "feeds/saiga/all.atom"
CMSFEED = Path(sys.executable).with_name("cmsfeed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, port: int) -> Path:
    topics = "".join(
        f'[[topics]]\nid = "{t}"\nname = {{ en = "{t.title()}", ru = "{t}" }}\nterms.en = ["{t}"]\n'
        for t in TOPICS
    )
    path = folder / "config.toml"
    path.write_text(
        f'[site]\nbase_url = "http://127.0.0.1:{port}/"\nlanguages = ["en", "ru"]\n'
        f'[store]\nurl = "sqlite:///{folder}/bench.db"\n'
        f"[feeds]\nentries = 50\nrefresh_seconds = 3600\n{topics}"
    )
    return path


def seed(folder: Path, count: int = 2000) -> None:
    rng = random.Random(3)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = []
    for n in range(count):
        language = "ru" if n % 3 == 0 else "en"
        published = start + timedelta(hours=n)
        items.append(
            Item(
                id=make_item_id(f"i{n}"),
                key=f"i{n}",
                source_id="bench",
                title=f"Story {n}",
                summary="".join(
                    f"<p>Paragraph {p}: {rng.randint(1, 9999)} animals counted.</p>"
                    for p in range(3)
                ),
                language=language,
                published_at=published,
                updated_at=published,
                topics=(rng.choice(TOPICS),),
                url=f"https://www.cms.int/{language}/news/{n}",
            )
        )
    store = Store.open(f"sqlite:///{folder}/bench.db")
    store.upsert_items(items, start)
    store.close()


def nginx_config(folder: Path, root: Path, port: int) -> Path:
    path = folder / "nginx.conf"
    path.write_text(f"""
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
user root;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types {{ application/atom+xml atom; application/rss+xml rss; text/html html; }}
    charset utf-8;
    charset_types application/atom+xml application/rss+xml;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
        add_header Cache-Control "public, max-age=300";
    }}
}}
""")
    return path


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}: not up after 30 s")


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = 0
    found = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if found:
        errors += sum(int(g) for g in found.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return {"rate": rate, "errors": errors}


def peak_rss_mib(pid: int) -> float:
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text()
        total += int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("needs wrk and nginx: apt-get install -y wrk nginx")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        app_port, nginx_port = free_port(), free_port()
        config = write_config(folder, app_port)
        seed(folder)
        subprocess.run(
            [str(CMSFEED), "--config", str(config), "build", str(folder / "site")],
            check=True,
            capture_output=True,
        )
        app = subprocess.Popen(
            [str(CMSFEED), "--config", str(config), "serve", "--port", str(app_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        nginx = subprocess.Popen(
            [
                "nginx",
                "-p",
                str(folder),
                "-c",
                str(nginx_config(folder, folder / "site", nginx_port)),
            ]
        )
        try:
            servers = {
                "cmsfeed": f"http://127.0.0.1:{app_port}/{FEED}",
                "nginx": f"http://127.0.0.1:{nginx_port}/{FEED}",
            }
            for url, process in zip(servers.values(), (app, nginx), strict=True):
                wait_until_up(url, process)
            bodies = {name: httpx.get(url) for name, url in servers.items()}
            assert bodies["cmsfeed"].content == bodies["nginx"].content, "different bytes"
            entries = bodies["cmsfeed"].content.count(b"<entry")
            results: dict[tuple[str, str], dict[str, float]] = {}
            for name, url in servers.items():
                etag = bodies[name].headers["etag"]
                assert httpx.get(url, headers={"if-none-match": etag}).status_code == 304
                results[(name, "200")] = wrk(url, args.seconds, args.connections, {})
                results[(name, "304")] = wrk(
                    url, args.seconds, args.connections, {"If-None-Match": etag}
                )
            memory = {"cmsfeed": peak_rss_mib(app.pid), "nginx": peak_rss_mib(nginx.pid)}
        finally:
            for process in (app, nginx):
                process.send_signal(signal.SIGTERM if process is app else signal.SIGQUIT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
    size = len(bodies["cmsfeed"].content)
    print(
        f"one feed: /{FEED}, {entries} entries, {size} bytes; wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s on 127.0.0.1; {os.cpu_count()} CPUs shared by all"
    )
    for status in ("200", "304"):
        ours, theirs = results[("cmsfeed", status)], results[("nginx", status)]
        print(
            f"  {status}: cmsfeed {ours['rate']:9.0f} req/s ({ours['errors']:.0f} errors)   "
            f"nginx {theirs['rate']:9.0f} req/s ({theirs['errors']:.0f} errors)   "
            f"ratio {ours['rate'] / theirs['rate']:.2f}x (target >= 0.30x)"
        )
    print(
        f"  peak memory: cmsfeed {memory['cmsfeed']:.1f} MiB, nginx {memory['nginx']:.1f} MiB"
        " (master + worker)"
    )


if __name__ == "__main__":
    main()
