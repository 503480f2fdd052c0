"""Helpers for the sign-up tests: the site's web application with its sign-up routes on a real
uvicorn server in a thread (started as `cmsfeed run` starts it: uvicorn's own proxy headers
off, so only `web.trusted_proxies` are believed), and a sign-up posted as a browser does."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from cmsfeed.config import Config
from cmsfeed.mail.smtp import SmtpSettings, SmtpTransport
from cmsfeed.store import Store
from cmsfeed.web import create_app
from cmsfeed.web.subscriptions import subscription_routes
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.ports import free_port
from support.waiting import wait_until

ENV = {"CMSFEED_SECRET": "signup-secret"}


def signup_app(config: Config, store: Store, clock: FixedClock, smtp_port: int) -> Any:
    """The application `cmsfeed run` serves, mailing through the SMTP server on `smtp_port`."""
    transport = SmtpTransport(
        SmtpSettings("127.0.0.1", smtp_port, security="none"), keep_open=False
    )  # a connection per message: uvicorn's loop ends with the test
    delivery = build_delivery(config, store, clock, ENV, transport=transport)
    routes = subscription_routes(config, delivery.composer, store, transport, clock)
    return create_app(config, store, clock, extra_routes=routes, poll=False)


@contextmanager
def serving(app: Any, port: int | None = None) -> Iterator[str]:
    """`app` on a real uvicorn server on 127.0.0.1; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(
        lambda: server.started or not thread.is_alive(),
        "uvicorn to start",
        timeout=20,
        interval=0.01,
    )
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def signup(
    web: httpx.Client, data: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST the sign-up form as a browser does: with the token of the form it was given."""
    csrf = csrf_of(web.get("/subscribe", headers=headers))
    return web.post("/subscribe", data={**data, "csrf": csrf}, headers=headers)
