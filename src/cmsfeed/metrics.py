"""Prometheus metrics of one cmsfeed process, and the ASGI pieces that expose them.

Counters live in this process (`REGISTRY`); each worker serves its own at `/metrics` and
Prometheus adds them up (`sum(rate(...))`). Recording is a few attribute lookups, cheap
enough for the hot path of serving feeds. The HTTP counters see every response, also those
the cached fast path answers, because `RequestMetrics` wraps the whole application.

| metric | what |
| --- | --- |
| cmsfeed_items_ingested_total{source,outcome} | items inserted, updated or retagged |
| cmsfeed_stories_rejected_total{source} | stories an ingest refused |
| cmsfeed_source_failures_total{source} | sources that could not be fetched or read |
| cmsfeed_feed_builds_total, cmsfeed_feed_build_seconds | renderings of the whole site |
| cmsfeed_feed_files_changed_total | files whose content changed in a build |
| cmsfeed_http_requests_total{status} | HTTP responses by status code |
| cmsfeed_http_not_modified_ratio | 304s among GET/HEAD answers with 200 or 304, so far |
| cmsfeed_digests_queued_total, _sent_total, _failed_total, _retried_total | the outbox |
| cmsfeed_delivery_paused, _paused_since_seconds | a mail server at fault, as last seen here |
| cmsfeed_mail_send_seconds{transport} | time to hand one message to SMTP (or Maildir) |
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # resident memory, CPU, open files of this worker
PlatformCollector(registry=REGISTRY)

ITEMS_INGESTED = Counter(
    "cmsfeed_items_ingested",
    "Items stored by ingest, by outcome.",
    ["source", "outcome"],
    registry=REGISTRY,
)
STORIES_REJECTED = Counter(
    "cmsfeed_stories_rejected", "Stories an ingest rejected.", ["source"], registry=REGISTRY
)
SOURCE_FAILURES = Counter(
    "cmsfeed_source_failures", "Sources that failed to be read.", ["source"], registry=REGISTRY
)
FEED_BUILDS = Counter(
    "cmsfeed_feed_builds", "Renderings of every feed and page.", registry=REGISTRY
)
FEED_BUILD_SECONDS = Histogram(
    "cmsfeed_feed_build_seconds",
    "Time to render the site.",
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
FEED_FILES_CHANGED = Counter(
    "cmsfeed_feed_files_changed", "Rendered files whose content changed.", registry=REGISTRY
)
HTTP_REQUESTS = Counter(
    "cmsfeed_http_requests", "HTTP responses by status code.", ["status"], registry=REGISTRY
)
DIGESTS_QUEUED = Counter(
    "cmsfeed_digests_queued", "Digests written to the outbox.", registry=REGISTRY
)
DIGESTS_SENT = Counter(
    "cmsfeed_digests_sent", "Digests the mail server accepted.", registry=REGISTRY
)
DIGESTS_FAILED = Counter(
    "cmsfeed_digests_failed", "Digests given up on (5xx or too many attempts).", registry=REGISTRY
)
DIGESTS_RETRIED = Counter(
    "cmsfeed_digests_retried", "Digests deferred for a retry.", registry=REGISTRY
)
DELIVERY_PAUSED = Gauge(
    "cmsfeed_delivery_paused",
    "1 while digest delivery is paused because the mail server is at fault, else 0.",
    registry=REGISTRY,
)
DELIVERY_PAUSED_SINCE = Gauge(
    "cmsfeed_delivery_paused_since_seconds",
    "Unix time the current delivery pause began (0: not paused).",
    registry=REGISTRY,
)
MAIL_SEND_SECONDS = Histogram(
    "cmsfeed_mail_send_seconds",
    "Time to hand one message over.",
    ["transport"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

_by_status: dict[int, Any] = {}
_served = {200: 0, 304: 0}


def _not_modified_ratio() -> float:
    answered = _served[200] + _served[304]
    return _served[304] / answered if answered else 0.0


Gauge(
    "cmsfeed_http_not_modified_ratio",
    "Share of 304 among 200 and 304 answers so far.",
    registry=REGISTRY,
).set_function(_not_modified_ratio)


def count_response(status: int) -> None:
    counter = _by_status.get(status)
    if counter is None:
        counter = _by_status[status] = HTTP_REQUESTS.labels(str(status))
    counter.inc()
    if status in _served:
        _served[status] += 1


def record_ingest(
    source_id: str, inserted: int, updated: int, retagged: int, rejected: int, failed: bool
) -> None:
    for outcome, count in (("inserted", inserted), ("updated", updated), ("retagged", retagged)):
        if count:
            ITEMS_INGESTED.labels(source_id, outcome).inc(count)
    if rejected:
        STORIES_REJECTED.labels(source_id).inc(rejected)
    if failed:
        SOURCE_FAILURES.labels(source_id).inc()


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class RequestMetrics:
    """ASGI middleware counting every HTTP response by status."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                count_response(message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)
