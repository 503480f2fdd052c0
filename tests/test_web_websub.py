"""WebSub: a real hub (a small Starlette app on uvicorn) hears of exactly the changed feeds."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cmsfeed.publish import refresh_feeds
from support.feeds import running, sample_items
from support.items import make_item


class Hub:
    def __init__(self) -> None:
        self.pings: list[str] = []
        self.failing = False

    def app(self) -> Starlette:
        async def publish(request: Request) -> Response:
            form = parse_qs((await request.body()).decode())
            assert form["hub.mode"] == ["publish"]
            if self.failing:
                return Response(status_code=503)
            self.pings += form["hub.url"]
            return Response(status_code=204)

        return Starlette(routes=[Route("/hub", publish, methods=["POST"])])


@pytest.fixture
def hub() -> Iterator[tuple[Hub, str]]:
    recorder = Hub()
    with running(recorder.app()) as base:
        yield recorder, f"{base}/hub"


def test_changed_feeds_and_only_those_are_pinged(make_config, store, clock, hub):
    recorder, hub_url = hub
    site = make_config(environ={"CMSFEED_FEEDS__HUB_URL": hub_url}).site_info()
    store.upsert_items(sample_items(), clock())
    with httpx.Client(timeout=5) as client:
        first = refresh_feeds(site, store, clock(), client=client)
        feeds = sorted(p for p in first.changed if p.endswith((".atom", ".rss", ".json")))
        assert sorted(recorder.pings) == sorted(site.url(path) for path in feeds)
        recorder.pings.clear()
        assert refresh_feeds(site, store, clock(), client=client).changed == ()
        assert recorder.pings == []
        clock.now += timedelta(minutes=5)
        store.upsert_items(
            [
                make_item(
                    "Saiga calving",
                    key="saiga-new",
                    language="ru",
                    topics=("saiga",),
                    url="https://www.cms.int/ru/calving",
                    published_at=clock.now - timedelta(hours=1),
                    summary="<p>Text.</p>",
                )
            ],
            clock(),
        )
        refresh_feeds(site, store, clock(), client=client)
    expected = {
        f"feeds/{topic}/{language}.{fmt}"
        for topic in ("saiga", "all")
        for language in ("ru", "all")
        for fmt in ("atom", "rss", "json")
    }
    assert sorted(recorder.pings) == sorted(site.url(path) for path in expected)


def test_a_failed_ping_is_logged_and_retried_never_fatal(make_config, store, clock, hub, caplog):
    recorder, hub_url = hub
    site = make_config(environ={"CMSFEED_FEEDS__HUB_URL": hub_url}).site_info()
    store.upsert_items(sample_items()[:2], clock())
    recorder.failing = True
    with httpx.Client(timeout=5) as client, caplog.at_level(logging.WARNING):
        result = refresh_feeds(site, store, clock(), client=client)
        assert result.pings.failed and not result.pings.sent
        assert "the WebSub hub answered 503" in caplog.text
        owed = [path for path in store.pending_pings() if path.endswith(".atom")]
        assert owed
        recorder.failing = False
        retried = refresh_feeds(site, store, clock(), client=client)
    assert retried.changed == ()
    assert set(retried.pings.sent) == set(result.pings.failed)
    assert [p for p in store.pending_pings() if p.endswith((".atom", ".rss", ".json"))] == []


def test_an_unreachable_hub_is_not_fatal(make_config, store, clock):
    site = make_config(environ={"CMSFEED_FEEDS__HUB_URL": "http://127.0.0.1:9/hub"}).site_info()
    store.upsert_items(sample_items()[:1], clock())
    with httpx.Client(timeout=2) as client:
        result = refresh_feeds(site, store, clock(), client=client)
    assert result.pings.failed and result.files


def test_feeds_carry_hub_and_self_links(make_config, store, clock, hub):
    _recorder, hub_url = hub
    site = make_config(environ={"CMSFEED_FEEDS__HUB_URL": hub_url}).site_info()
    with httpx.Client(timeout=5) as client:
        files = {f.path: f.body for f in refresh_feeds(site, store, clock(), client=client).files}
    assert f'<link href="{hub_url}" rel="hub"/>'.encode() in files["feeds/all/ru.atom"]
    assert f'<atom:link href="{hub_url}" rel="hub"/>'.encode() in files["feeds/all/ru.rss"]
    assert b'"type": "WebSub"' in files["feeds/all/ru.json"]
