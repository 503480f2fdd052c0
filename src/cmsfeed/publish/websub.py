"""Telling a WebSub hub that feeds changed. Does I/O (HTTP to the hub, the database).

A ping is `POST hub.mode=publish&hub.url=<feed URL>` (WebSub section 7 / PubSubHubbub 0.4).
A failed ping is logged and left pending in `feed_states`, so the next refresh tries it
again; it never stops an ingest, a build or the server.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx

from cmsfeed.errors import PublishError
from cmsfeed.feeds.urls import FEED_FORMATS
from cmsfeed.model import SiteInfo
from cmsfeed.store import Store

log = logging.getLogger(__name__)
ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class PingReport:
    sent: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


def ping_hub(client: httpx.Client, hub_url: str, feed_url: str) -> None:
    """Announce one changed feed; raise PublishError if the hub cannot be reached or refuses."""
    try:
        response = client.post(hub_url, data={"hub.mode": "publish", "hub.url": feed_url})
    except httpx.HTTPError as err:
        raise PublishError(hub_url, f"cannot reach the WebSub hub for {feed_url}: {err}") from err
    if not response.is_success:
        raise PublishError(
            hub_url, f"the WebSub hub answered {response.status_code} for {feed_url}"
        )


def is_feed_path(path: str) -> bool:
    return path.rsplit(".", 1)[-1] in FEED_FORMATS


def ping_pending(
    site: SiteInfo,
    store: Store,
    now: datetime,
    client: httpx.Client,
    paths: Sequence[str] | None = None,
) -> PingReport:
    """Ping the hub for every feed whose change it has not heard of (or only for `paths`)."""
    if not site.hub_url:
        return PingReport()
    pending = [path for path in store.pending_pings() if is_feed_path(path)]
    if paths is not None:
        pending = [path for path in pending if path in set(paths)]
    sent: list[str] = []
    failed: list[str] = []
    for path in pending:
        error: PublishError | None = None
        for _attempt in range(ATTEMPTS):
            try:
                ping_hub(client, site.hub_url, site.url(path))
            except PublishError as err:
                error = err
                continue
            error = None
            break
        if error is None:
            store.mark_pinged(path, now)
            sent.append(path)
        else:
            log.warning("%s (will retry after the next change check)", error)
            store.mark_pinged(path, now, error=str(error))
            failed.append(path)
    return PingReport(tuple(sent), tuple(failed))
