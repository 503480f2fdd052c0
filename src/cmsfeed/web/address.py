"""The public address links are built on, for what `cmsfeed run` and `serve` answer.

`site.base_url` when it is configured. Otherwise the address the server listens on, or, for a
request that comes from one of `web.trusted_proxies`, the address the proxy says the reader
used (`X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Forwarded-Port`, else `Host`). From anyone
else those headers are ignored: a client cannot make the server write links to another host.

The functions are pure; `PublicAddress` is the ASGI middleware that puts the proxy's address
in the request scope, and `FeedServices` keeps one rendered site per public address (a proxy
sends one or two; a bounded number are kept, past it the listening address is used).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from cmsfeed.web.service import FeedService

log = logging.getLogger(__name__)
SCOPE_KEY = "cmsfeed.public_base"
ADDRESSES_KEPT = 8
_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")


def listening_base(host: str, port: int) -> str:
    """The address a server bound to `host`:`port` is reached at, as a base URL."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()  # every interface: the machine's name, not 0.0.0.0
    if ":" in host and not host.startswith("["):
        host = f"[{ipaddress.ip_address(host)}]"
    return f"http://{host}:{port}/"


def mismatch_warning(configured: str | None, served: str) -> str | None:
    """One line when the configured public address is not the one being served."""
    if configured is None or configured == served:
        return None
    return (
        f"warning: site.base_url is {configured} but this serves {served}; links in pages, "
        f"feeds and emails follow site.base_url"
    )


def proxied_emails_warning(
    configured: str | None, trusted_proxies: list[str], served: str
) -> str | None:
    """One line when pages follow a proxy's address but emails cannot: a digest is sent by
    the scheduler, with no request to take an address from."""
    if configured is not None or not trusted_proxies:
        return None
    return (
        f"warning: links in emails lead to {served} (site.base_url is not set); set it to the "
        f"address readers use through the proxy"
    )


def forwarded_base(headers: Mapping[str, str]) -> str | None:
    """The base URL a proxy says the reader used; None when it says nothing usable."""
    proto = _first(headers.get("x-forwarded-proto")) or "http"
    host = _first(headers.get("x-forwarded-host")) or headers.get("host", "")
    port = _first(headers.get("x-forwarded-port"))
    if proto not in ("http", "https") or not _HOST.match(host):
        return None
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            return None
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if (proto, port) not in (("http", "80"), ("https", "443")):
            host = f"{host}:{port}"
    return f"{proto}://{host.lower()}/"


def _first(value: str | None) -> str | None:
    """The first of a comma-separated header (the hop nearest the reader)."""
    return value.split(",", 1)[0].strip() if value else None


class PublicAddress:
    """Marks a request from a trusted proxy with the public address it names."""

    def __init__(self, app: Any, is_trusted: Callable[[str | None], bool]) -> None:
        self.app = app
        self.is_trusted = is_trusted

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            if client and self.is_trusted(client[0]):
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
                base = forwarded_base(headers)
                if base is not None:
                    scope[SCOPE_KEY] = base
        await self.app(scope, receive, send)


class FeedServices:
    """The rendered site for each public address: the listening one, and those proxies name."""

    def __init__(self, default: FeedService, make: Callable[[str], FeedService]) -> None:
        self.default = default
        self._make = make
        self._others: dict[str, FeedService] = {}
        self._lock = threading.Lock()

    def all(self) -> list[FeedService]:
        return [self.default, *self._others.values()]

    async def for_scope(self, scope: Mapping[str, Any]) -> FeedService:
        base = scope.get(SCOPE_KEY)
        if base is None or base == self.default.site.base_url:
            return self.default
        found = self._others.get(base)
        if found is None:
            with self._lock:
                if base not in self._others and len(self._others) >= ADDRESSES_KEPT:
                    log.warning(
                        "more than %d public addresses; %s is not kept", ADDRESSES_KEPT, base
                    )
                    return self.default
                found = self._others.setdefault(base, self._make(base))
        if found.snapshot is None:  # rendered on its first request (refreshes share a lock)
            await asyncio.to_thread(found.refresh_if_changed)
        return found
