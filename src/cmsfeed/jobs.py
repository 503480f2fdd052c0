"""The jobs `cmsfeed ingest` and the scheduler of `cmsfeed run` both run. Does I/O through what
it is given (an ingester, the store, the clock); cmsfeed.wiring builds those from config.toml.

An ingest that changed the store is followed by a refresh of the feeds, which records which
feeds changed (their Last-Modified) and pings the WebSub hub, when one is configured, for
exactly those. A failed ping is kept and retried after the next ingest; it is never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from cmsfeed.ingest.run import Ingester, IngestReport, Progress
from cmsfeed.model import Clock, SiteInfo
from cmsfeed.publish.refresh import refresh_feeds
from cmsfeed.store import Store

log = logging.getLogger(__name__)


def ingest_and_publish(
    ingester: Ingester,
    publish: Callable[[], object],
    source_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest; if that changed the store, publish: `cmsfeed ingest` renders and records the
    feeds (`publish_feeds`), `cmsfeed run` passes its web server's refresh instead, so the site
    is rendered once."""
    report = ingester.ingest(source_ids or None, progress)
    if report.counts.changed:
        publish()
    return report


def publish_feeds(site: SiteInfo | None, store: Store, clock: Clock) -> None:
    """Render the feeds, record which changed and ping the hub for those.

    `site` is None when there is no public address to render links with (and then no hub:
    config refuses hub_url without base_url); the `run` or `serve` process renders on its own
    when it sees the change."""
    if site is None:
        return
    refreshed = refresh_feeds(site, store, clock())
    for feed in refreshed.pings.failed:
        log.warning("websub ping failed; retried after the next ingest: %s", feed)
