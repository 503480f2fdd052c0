"""The server's feed cache follows the store, whoever recorded the change."""

from __future__ import annotations

from cmsfeed.jobs import ingest_and_publish
from cmsfeed.web.service import FeedService
from cmsfeed.wiring import build_ingester, feed_publisher


def test_the_server_picks_up_an_ingest_that_another_process_published(make_config, store, clock):
    config = make_config()
    service = FeedService(config.site_info(), store, clock)
    assert service.refresh_if_changed()
    before = service.resource("feeds/bukhara-deer/ru.atom")
    assert before is not None and b"<entry" not in before.body

    # a cron `cmsfeed ingest` (or another worker) ingests and records the changed feeds first
    report = ingest_and_publish(
        build_ingester(config, store, clock), feed_publisher(config, store, clock)
    )
    assert report.counts.inserted == 9

    assert service.refresh_if_changed()
    after = service.resource("feeds/bukhara-deer/ru.atom")
    assert after is not None and after.content_hash != before.content_hash
    assert "Крупнейшая популяция".encode() in after.body
    assert not service.refresh_if_changed()  # nothing new: nothing rendered again


def test_an_ingest_in_run_renders_the_site_once(make_config, store, clock):
    config = make_config()
    service = FeedService(config.site_info(), store, clock)
    service.refresh_if_changed()
    renders = service.renders
    ingest_and_publish(build_ingester(config, store, clock), service.refresh_if_changed)
    assert service.renders == renders + 1
    assert not service.refresh_if_changed()
    assert service.renders == renders + 1
