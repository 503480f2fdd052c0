"""The one call after an ingest: render every file, record what changed, ping the hub.

Does I/O (the database, HTTP to the hub). `cmsfeed serve` calls it when the store changed,
`cmsfeed build` before writing files, and `cmsfeed run` should call it after each ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from cmsfeed import metrics
from cmsfeed.feeds.site import Rendered
from cmsfeed.model import SiteInfo
from cmsfeed.publish.collect import render_site
from cmsfeed.publish.websub import PingReport, ping_pending
from cmsfeed.store import Store

HUB_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class RefreshResult:
    files: list[Rendered]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    changed_at: Mapping[str, datetime] = field(default_factory=dict)
    pings: PingReport = field(default_factory=PingReport)


def refresh_feeds(
    site: SiteInfo,
    store: Store,
    now: datetime,
    *,
    client: httpx.Client | None = None,
    progress: Callable[[int], None] | None = None,
) -> RefreshResult:
    with metrics.FEED_BUILD_SECONDS.time():
        files = render_site(site, store, progress)
    metrics.FEED_BUILDS.inc()
    recorded = store.record_hashes(
        {file.path: file.content_hash for file in files}, now, complete=True
    )
    metrics.FEED_FILES_CHANGED.inc(len(recorded.changed))
    pings = PingReport()
    if site.hub_url:
        if client is None:
            with httpx.Client(timeout=HUB_TIMEOUT_SECONDS) as own_client:
                pings = ping_pending(site, store, now, own_client)
        else:
            pings = ping_pending(site, store, now, client)
    return RefreshResult(files, recorded.changed, recorded.removed, recorded.changed_at, pings)
