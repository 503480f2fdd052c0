"""The jobs `cmsfeed ingest` and the scheduler of `cmsfeed run` both run. Does I/O (wiring).

An ingest that changed the store is followed by a refresh of the feeds, which records which
feeds changed (their Last-Modified) and pings the WebSub hub, when one is configured, for
exactly those. A failed ping is kept and retried after the next ingest; it is never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from cmsfeed.config import Config
from cmsfeed.ingest.run import Ingester, IngestReport, Progress
from cmsfeed.model import Clock
from cmsfeed.publish.refresh import refresh_feeds
from cmsfeed.store import Store

log = logging.getLogger(__name__)


def ingest_and_publish(
    config: Config,
    store: Store,
    clock: Clock,
    source_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
    ingester: Ingester | None = None,
    publish: Callable[[], object] | None = None,
) -> IngestReport:
    """Ingest; if that changed the store, publish: by default render and record the feeds here;
    `cmsfeed run` passes its web server's refresh instead, so the site is rendered once."""
    ingester = ingester or Ingester(config, store, clock)
    report = ingester.ingest(source_ids or None, progress)
    if report.counts.changed:
        (publish or (lambda: refresh_and_report(config, store, clock)))()
    return report


def refresh_and_report(config: Config, store: Store, clock: Clock) -> None:
    if config.site.base_url is None:
        # No public address to render links with (and no hub: config refuses hub_url without
        # base_url); the `run` or `serve` process renders on its own when it sees the change.
        return
    refreshed = refresh_feeds(config.site_info(), store, clock())
    for feed in refreshed.pings.failed:
        log.warning("websub ping failed; retried after the next ingest: %s", feed)
