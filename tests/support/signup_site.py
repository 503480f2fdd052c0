"""The sign-up site: a real uvicorn server with the subscription pages, sending through a
real SMTP server (aiosmtpd on 127.0.0.1), on the store of the test's backend; and a sign-up
as a browser posts it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from cmsfeed.mail.smtp import SmtpSettings, SmtpTransport
from cmsfeed.web import create_app
from cmsfeed.web.subscriptions import subscription_routes
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config
from support.digest import open_stores
from support.ports import free_port
from support.smtp_server import SmtpServer
from support.waiting import wait_until

ENV = {"CMSFEED_SECRET": "web-secret"}


@pytest.fixture(name="site")
def signup_site(
    tmp_path: Path, store_url: str
) -> Iterator[tuple[str, SmtpServer, object, FixedClock]]:
    with SmtpServer() as smtp:
        config = digest_config(tmp_path, smtp.port, store_url=store_url, signups_per_hour=3)
        store, digests = open_stores(config)
        clock = FixedClock()
        web_transport = SmtpTransport(
            SmtpSettings("127.0.0.1", smtp.port, security="none"), keep_open=False
        )  # uvicorn's loop ends with the test
        delivery = build_delivery(config, digests, clock, ENV, transport=web_transport)
        routes = subscription_routes(config, delivery.composer, digests, web_transport, clock)
        app = create_app(config, store, clock, extra_routes=routes, poll=False)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, "uvicorn to start", timeout=20, interval=0.01)
        try:
            yield f"http://127.0.0.1:{port}", smtp, (config, store, digests), clock
        finally:
            server.should_exit = True
            thread.join(timeout=20)


def signup(web: httpx.Client, data: dict[str, object]) -> httpx.Response:
    """POST the sign-up form as a browser does: with the token of the form it was given."""
    form = web.get("/subscribe")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return web.post("/subscribe", data={**data, "csrf": csrf})
