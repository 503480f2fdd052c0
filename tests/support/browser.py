"""Helpers for the browser tests: a real `cmsfeed run` in a subprocess (the bundled sample,
its three example subscribers, SMTP to a real aiosmtpd server on 127.0.0.1) and headless
Chromium from Debian's packages driven by Playwright (no browser download).

Screenshots go to the folder named by CMSFEED_TEST_ARTIFACTS, else to a pytest temporary
folder (printed in the test output).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from support.ports import free_port
from support.smtp_server import Received, SmtpServer
from support.waiting import wait_until

CHROMIUM = os.environ.get("CMSFEED_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET = "browser-test-secret"
WIDTHS = (375, 1280)


@dataclass
class Site:
    """A running `cmsfeed run` and what it talks to."""

    base: str  # http://127.0.0.1:PORT (no base_url: links in pages and emails follow it)
    folder: Path
    smtp: SmtpServer
    process: subprocess.Popen[bytes]
    log: Path
    stores: tuple[Store, Store] | None = field(default=None, repr=False)

    def subscriber(self, email: str) -> Subscriber | None:
        if self.stores is None:
            store = Store.open(f"sqlite:///{self.folder / 'var' / 'cmsfeed.db'}")
            self.stores = (store, store)
        return self.stores[1].get_subscriber(email)

    def mail_to(self, address: str, count: int = 1, timeout: float = 30) -> list[Received]:
        """The messages `address` received, waiting until there are at least `count`."""

        def arrived() -> list[Received]:
            assert self.process.poll() is None, self.log.read_text()
            found = self.smtp.handler.to(address)
            return found if len(found) >= count else []

        return wait_until(
            arrived,
            lambda: f"{count} message(s) to {address}: got {len(self.smtp.handler.to(address))}",
            timeout=timeout,
            interval=0.05,
        )

    def local(self, url: str) -> str:
        assert url.startswith(self.base + "/"), url
        return url


def start_site(folder: Path, smtp: SmtpServer) -> Iterator[Site]:
    """`cmsfeed init` then `cmsfeed run` on a free port; stopped with SIGTERM afterwards."""
    cmsfeed = [sys.executable, "-m", "cmsfeed"]
    subprocess.run([*cmsfeed, "init", str(folder)], check=True, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {
        **os.environ,
        "CMSFEED_SECRET": SECRET,
        # no base_url, as shipped: links, the sign-up form and emails follow --host/--port
        "CMSFEED_SMTP__HOST": "127.0.0.1",
        "CMSFEED_SMTP__PORT": str(smtp.port),
        "CMSFEED_SMTP__SECURITY": "none",
        "CMSFEED_DIGESTS__SIGNUPS_PER_HOUR": "100",
        "COLUMNS": "120",
    }
    log = folder / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*cmsfeed, "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder,
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    site = Site(base, folder, smtp, process, log)
    try:
        _wait_until_up(site)
        yield site
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if site.stores is not None:
            site.stores[0].close()


def _wait_until_up(site: Site) -> None:
    def answers() -> bool:
        if site.process.poll() is not None:
            raise AssertionError(
                f"cmsfeed run exited {site.process.returncode}:\n{site.log.read_text()}"
            )
        try:
            return httpx.get(f"{site.base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(
        answers,
        lambda: f"cmsfeed run to answer:\n{site.log.read_text()}",
        timeout=90,
        interval=0.1,
    )


def artifacts_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("CMSFEED_TEST_ARTIFACTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("browser-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def launch_browser(playwright: Any) -> Iterator[Any]:
    """A Chromium context with a fresh user-data directory, removed afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (./scripts/test does)")
    with tempfile.TemporaryDirectory(prefix="cmsfeed-chromium.") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and self.errors.append(f"console: {message.text} ({message.location.get('url')})")
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"exception: {error}"))

    def layout_problems(self) -> list[str]:
        """No horizontal scrolling: nothing wider than the window."""
        widths = self.page.evaluate("""() => ({
            window: window.innerWidth,
            document: document.documentElement.scrollWidth,
            body: document.body.scrollWidth,
            wide: [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className)})""")
        if max(widths["document"], widths["body"]) > widths["window"]:
            return [f"scrolls sideways: {widths}"]
        return []


def text_part(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def html_part(message: EmailMessage) -> str:
    return str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]


def link_in(message: EmailMessage, path: str) -> str:
    found = re.search(rf"http://\S+/{path}\?token=[^\s\"<>]+", text_part(message))
    assert found, f"no /{path} link in:\n{text_part(message)}"
    return found.group(0)
