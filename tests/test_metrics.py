"""Observability: /metrics over real HTTP (uvicorn) counts ingests, feed builds, responses and
304s, digests and mail latency; logs are one line per event, as text or JSON."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from cmsfeed.delivery import run_round
from cmsfeed.ingest.run import Ingester
from cmsfeed.log import configure_logging, fields
from cmsfeed.metrics import REGISTRY
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from cmsfeed.web import create_app
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config
from support.feeds import running
from support.items import make_item


def value(name: str, **labels: str) -> float:
    """The current value of one sample of this process's registry (0 when absent)."""
    found = REGISTRY.get_sample_value(name, labels)
    return found or 0.0


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_endpoint_counts_ingest_builds_responses_and_304s(make_config, store, clock):
    config = make_config()
    inserted = value("cmsfeed_items_ingested_total", source="seed", outcome="inserted")
    builds = value("cmsfeed_feed_builds_total")
    ok = value("cmsfeed_http_requests_total", status="200")
    not_modified = value("cmsfeed_http_requests_total", status="304")
    report = Ingester(config, store, clock).ingest()
    assert report.counts.inserted == 9
    assert value("cmsfeed_items_ingested_total", source="seed", outcome="inserted") == inserted + 9
    app = create_app(config, store, clock, poll=False)
    with running(app) as base, httpx.Client(timeout=10) as client:
        url = f"{base}/feeds/bukhara-deer/ru.atom"
        first = client.get(url)
        assert first.status_code == 200
        for _ in range(3):
            again = client.get(url, headers={"if-none-match": first.headers["etag"]})
            assert again.status_code == 304
        assert client.get(f"{base}/feeds/no-such-topic/en.atom").status_code == 404
        response = client.get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = scraped(response.text)
    assert samples[("cmsfeed_feed_builds_total", ())] >= builds + 1  # the app's first render
    assert samples[("cmsfeed_http_requests_total", (("status", "200"),))] == ok + 1
    assert samples[("cmsfeed_http_requests_total", (("status", "304"),))] == not_modified + 3
    assert samples[("cmsfeed_http_requests_total", (("status", "404"),))] >= 1
    ratio = samples[("cmsfeed_http_not_modified_ratio", ())]
    assert 0 < ratio < 1
    assert samples[("process_resident_memory_bytes", ())] > 0


def test_a_failing_source_is_counted(make_config, store, clock, tmp_path: Path):
    config = make_config(sources='[[sources]]\nid = "gone"\nkind = "feed"\npath = "gone.xml"\n')
    before = value("cmsfeed_source_failures_total", source="gone")
    Ingester(config, store, clock).ingest()
    assert value("cmsfeed_source_failures_total", source="gone") == before + 1


def test_digests_queued_sent_and_send_latency_are_counted(tmp_path: Path, store_url: str):
    config = digest_config(tmp_path)  # no SMTP host: the Maildir transport
    store = Store.open(store_url)
    digests = store
    clock = FixedClock()
    for n in range(3):
        digests.save_subscriber(Subscriber(f"r{n}@example.org", frequency="immediate"), clock())
    clock.advance(minutes=1)
    store.upsert_items([make_item("Argali counted")], clock())
    clock.advance(minutes=5)
    queued, sent = value("cmsfeed_digests_queued_total"), value("cmsfeed_digests_sent_total")
    latency = value("cmsfeed_mail_send_seconds_count", transport="maildir")
    delivery = build_delivery(config, digests, clock, {"CMSFEED_SECRET": "s"})
    report = asyncio.run(run_round(delivery))
    assert report.sent == 3
    assert value("cmsfeed_digests_queued_total") == queued + 3
    assert value("cmsfeed_digests_sent_total") == sent + 3
    assert value("cmsfeed_mail_send_seconds_count", transport="maildir") == latency + 3
    store.close()


def test_logs_are_one_line_per_event_as_json_or_text():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        stream = io.StringIO()
        configure_logging("json", "info", stream)
        logging.getLogger("cmsfeed.run").info("digest round", extra=fields(sent=3, failed=0))
        logging.getLogger("cmsfeed.run").debug("not shown")
        (line,) = stream.getvalue().splitlines()
        event = json.loads(line)
        assert event["event"] == "digest round" and event["sent"] == 3
        assert event["level"] == "info" and event["logger"] == "cmsfeed.run"
        assert event["at"].endswith("Z") and event["pid"] > 0
        stream = io.StringIO()
        configure_logging("text", "info", stream)
        try:
            raise ValueError("two\nlines")
        except ValueError:
            logging.getLogger("cmsfeed.web").exception("refresh failed", extra=fields(path="a b"))
        (line,) = stream.getvalue().splitlines()
        assert ' ERROR cmsfeed.web refresh failed path="a b" pid=' in line
        assert "ValueError: two | lines" in line
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
