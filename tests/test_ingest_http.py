"""Ingesting over real HTTP: a uvicorn server on 127.0.0.1 serving pages and feeds, and failing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cmsfeed.errors import SourceError
from cmsfeed.ingest.feed import parse_feed
from cmsfeed.ingest.fetch import USER_AGENT, http_client
from cmsfeed.ingest.run import Ingester, IngestReport, SourceReport
from support.ingest import LAST_MODIFIED, SOURCES, NewsServer, running_server

TIMEOUT = {"CMSFEED_INGEST__TIMEOUT_SECONDS": "0.5"}

HTML_SOURCE = """
[[sources]]
id = "cami-ru"
kind = "html"
url = "{url}"
date_format = "%d %B %Y"
date_locale = "ru"
timezone = "Asia/Almaty"
[sources.selectors]
item = "article.news-item"
title = "h3 a"
link = "h3 a"
summary = "div.teaser"
date = "span.date"
image = "img.thumb"
"""

FEED_SOURCE = """
[[sources]]
id = "{id}"
kind = "feed"
url = "{url}"
"""


@pytest.fixture
def server() -> Iterator[NewsServer]:
    with running_server() as running:
        yield running


def html_source(server: NewsServer) -> str:
    return HTML_SOURCE.format(url=server.url("sources/news-ru.html"))


def feed_source(source_id: str, url: str) -> str:
    return FEED_SOURCE.format(id=source_id, url=url)


def ingest(config, store, clock) -> IngestReport:
    with http_client(config.ingest.timeout_seconds, config.ingest.user_agent) as client:
        return Ingester(config, store, clock, client).ingest()


def by_source(report: IngestReport) -> dict[str, SourceReport]:
    return {source.source_id: source for source in report.sources}


def test_an_html_page_in_russian_is_read_with_its_selectors(server, make_config, store, clock):
    config = make_config(sources=html_source(server), environ=TIMEOUT)
    report = ingest(config, store, clock)
    assert report.ok, [str(p) for p in report.problems]
    assert report.counts.inserted == 3

    found = {item.title[:20]: item for item in store.list_items()}
    deer = found["Крупнейшая популяция"]
    # "24 января 2023" is midnight in Almaty (UTC+6 then), the source's time zone.
    assert deer.published_at == datetime(2023, 1, 23, 18, 0, tzinfo=UTC)
    assert deer.language == "ru"
    assert deer.topics == ("bukhara-deer",)
    # Relative links and images are made absolute against the page's address.
    assert deer.url == server.url("ru/news/bukhara-deer-population")
    assert deer.image_url == server.url("sources/images/deer.jpg")
    saiga = found["Численность сайгаков"]
    assert saiga.url == server.url("sources/news/saiga-count?year=2024")
    assert saiga.topics == ("saiga",)
    kulan = found["Куланы вернулись в с"]
    assert kulan.url == "https://www.cms.int/ru/news/kulan-return"
    assert kulan.published_at == datetime(2024, 9, 11, 19, 0, tzinfo=UTC)  # UTC+5 since March
    assert kulan.topics == ("kulan",)
    assert "<p>" in deer.summary and "тугайных лесах" in deer.summary


def test_rss_and_atom_feeds_are_stored(server, make_config, store, clock):
    sources = feed_source("acbk", server.url("sources/feed.rss")) + feed_source(
        "cms-atom", server.url("sources/feed.atom")
    )
    report = ingest(make_config(sources=sources, environ=TIMEOUT), store, clock)
    assert report.ok, [str(p) for p in report.problems]
    assert {s: r.counts.inserted for s, r in by_source(report).items()} == {
        "acbk": 2,
        "cms-atom": 1,
    }
    found = {item.title: item for item in store.list_items()}
    saiga = found["Saiga numbers reach a new high"]
    assert saiga.published_at == datetime(2024, 5, 3, 4, 30, tzinfo=UTC)
    assert saiga.url == "https://acbk.example.org/en/news/saiga-2024"
    assert saiga.topics == ("saiga",) and saiga.language == "en"
    assert saiga.key == "acbk|acbk-news-1001"
    assert found["Snow leopards caught on camera traps in the Altai"].topics == ("snow-leopard",)
    argali = found["Continued Progress on Conservation Measures for the Argali"]
    assert argali.url == server.url("en/news/argali-measures")  # relative in the feed
    assert argali.published_at == datetime(2024, 12, 2, 9, 0, tzinfo=UTC)
    assert argali.updated_at == datetime(2024, 12, 3, 7, 0, tzinfo=UTC)
    assert argali.topics == ("argali",)


def test_a_second_ingest_asks_conditionally_and_is_not_modified(server, make_config, store, clock):
    sources = html_source(server) + feed_source("acbk", server.url("sources/feed.rss"))
    config = make_config(sources=sources, environ=TIMEOUT)
    ingest(config, store, clock)
    before = store.list_items()
    first = server.seen("/sources/feed.rss")[0]
    assert "if-none-match" not in first.headers
    etag = store.source_state("acbk").etag
    assert etag is not None and store.source_state("acbk").last_modified == LAST_MODIFIED

    report = ingest(config, store, clock)
    second = server.seen("/sources/feed.rss")[1]
    assert second.headers["if-none-match"] == etag
    assert second.headers["if-modified-since"] == LAST_MODIFIED
    assert server.conditional_hits == 2
    assert all(source.not_modified for source in report.sources)
    assert report.ok and report.counts.changed == 0
    assert store.list_items() == before
    assert store.source_state("acbk").checked_at == clock.now


def test_requests_carry_cmsfeeds_user_agent(server, make_config, store, clock):
    ingest(make_config(sources=html_source(server), environ=TIMEOUT), store, clock)
    [request] = server.requests
    assert request.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("cmsfeed/")


def test_a_configured_user_agent_is_sent(server, make_config, store, clock):
    environ = {**TIMEOUT, "CMSFEED_INGEST__USER_AGENT": "cami-monitor/2 (ops@example.org)"}
    ingest(make_config(sources=html_source(server), environ=environ), store, clock)
    assert server.requests[0].headers["user-agent"] == "cami-monitor/2 (ops@example.org)"


def test_failing_sources_are_reported_and_the_others_go_in(server, make_config, store, clock):
    sources = (
        feed_source("broken", server.url("broken"))
        + feed_source("slow", server.url("slow"))
        + html_source(server)
        + feed_source("malformed", server.url("sources/malformed.xml"))
        + feed_source("acbk", server.url("sources/feed.rss"))
    )
    report = ingest(make_config(sources=sources, environ=TIMEOUT), store, clock)

    sources_by_id = by_source(report)
    assert not report.ok
    assert [s.source_id for s in report.failed_sources] == ["broken", "slow", "malformed"]
    assert (
        sources_by_id["broken"].failure == f"{server.url('broken')}: HTTP 500 Internal Server Error"
    )
    assert sources_by_id["slow"].failure == f"{server.url('slow')}: timed out (ReadTimeout)"
    assert sources_by_id["malformed"].failure.startswith("malformed feed: ")
    assert "not well-formed" in sources_by_id["malformed"].failure
    assert sources_by_id["cami-ru"].counts.inserted == 3
    assert sources_by_id["acbk"].counts.inserted == 2
    assert store.count_items() == 5
    assert store.source_state("broken").last_error == sources_by_id["broken"].failure
    assert store.source_state("acbk").last_error is None


def test_a_failed_fetch_keeps_the_validators_of_what_is_stored(server, make_config, store, clock):
    config = make_config(
        sources=feed_source("acbk", server.url("sources/feed.rss")), environ=TIMEOUT
    )
    ingest(config, store, clock)
    etag = store.source_state("acbk").etag
    moved = make_config(sources=feed_source("acbk", server.url("broken")), environ=TIMEOUT)
    report = ingest(moved, store, clock)
    assert report.failed_sources
    state = store.source_state("acbk")
    assert state.etag == etag and state.last_error is not None


def test_a_web_page_given_as_a_feed_is_a_failed_source(server, make_config, store, clock):
    report = ingest(
        make_config(
            sources=feed_source("oops", server.url("sources/news-ru.html")), environ=TIMEOUT
        ),
        store,
        clock,
    )
    [failed] = report.failed_sources
    assert failed.failure is not None and failed.failure.startswith("malformed feed: ")
    assert store.count_items() == 0


def test_a_well_formed_page_that_is_no_feed_is_a_failed_source():
    with pytest.raises(SourceError, match="not an RSS or Atom document"):
        parse_feed(b"<html><body><p>Not found</p></body></html>", "oops")


def test_a_malformed_feed_with_readable_entries_is_kept_with_a_warning():
    truncated = (SOURCES / "feed.rss").read_bytes().split(b"</item>")[0] + b"</item><item><ti"
    parsed = parse_feed(truncated, "acbk")
    assert [story.title for story in parsed.stories][:1] == ["Saiga numbers reach a new high"]
    [warning] = [problem for problem in parsed.problems if not problem.rejected]
    assert str(warning).startswith("acbk: warning: malformed feed (")


def test_a_missing_page_is_a_failed_source(server, make_config, store, clock):
    report = ingest(
        make_config(sources=feed_source("gone", server.url("sources/gone.xml")), environ=TIMEOUT),
        store,
        clock,
    )
    assert (
        report.failed_sources[0].failure == f"{server.url('sources/gone.xml')}: HTTP 404 Not Found"
    )


def test_a_refused_connection_is_a_failed_source(make_config, store, clock):
    with running_server() as stopped:
        url = stopped.url("sources/feed.rss")
    report = ingest(make_config(sources=feed_source("down", url), environ=TIMEOUT), store, clock)
    [failed] = report.failed_sources
    assert failed.failure is not None and failed.failure.startswith(url)
