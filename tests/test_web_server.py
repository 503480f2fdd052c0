"""The feed server, over real HTTP: uvicorn on 127.0.0.1, httpx as the client."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import feedparser
import httpx
import pytest

from cmsfeed.web import create_app
from support.feeds import CHECKS, parse_back, running, sample_items
from support.items import make_item

ENVIRON = {"CMSFEED_FEEDS__MAX_AGE_SECONDS": "120", "CMSFEED_FEEDS__TTL_MINUTES": "45"}


@pytest.fixture
def server(make_config, store, clock) -> Iterator[tuple[str, object]]:
    config = make_config(environ=ENVIRON)
    store.upsert_items(sample_items(), clock())
    app = create_app(config, store, clock, poll=False)
    with running(app) as base:
        yield base, app


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


FEEDS = [
    ("feeds/bukhara-deer/ru.atom", "application/atom+xml; charset=utf-8"),
    ("feeds/all/all.rss", "application/rss+xml; charset=utf-8"),
    ("feeds/saiga/en.json", "application/feed+json; charset=utf-8"),
]


@pytest.mark.parametrize(("path", "media_type"), FEEDS)
def test_feed_is_served_with_validators_and_caching_headers(server, client, path, media_type):
    base, _app = server
    response = client.get(f"{base}/{path}", headers={"accept-encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 34
    assert parsedate_to_datetime(response.headers["last-modified"])
    assert response.headers["cache-control"] == "public, max-age=120"
    assert response.headers["vary"] == "Accept-Encoding"
    fmt = path.rsplit(".", 1)[1]
    language = path.rsplit("/", 1)[1].split(".")[0]
    self_url = "http://127.0.0.1:8080/" + path
    assert CHECKS[fmt](response.content, self_url, None if language == "all" else language) == []


def test_if_none_match_gives_304(server, client):
    base, _app = server
    url = f"{base}/feeds/bukhara-deer/all.atom"
    first = client.get(url)
    again = client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    other = client.get(url, headers={"if-none-match": '"0123"'})
    assert other.status_code == 200


def test_if_modified_since_gives_304(server, client):
    base, _app = server
    url = f"{base}/feeds/all/en.rss"
    first = client.get(url)
    modified = first.headers["last-modified"]
    assert client.get(url, headers={"if-modified-since": modified}).status_code == 304
    earlier = parsedate_to_datetime(modified) - timedelta(seconds=1)
    assert (
        client.get(
            url, headers={"if-modified-since": format_datetime(earlier, usegmt=True)}
        ).status_code
        == 200
    )
    assert client.get(url, headers={"if-modified-since": "not a date"}).status_code == 200


def test_head_has_the_headers_and_no_body(server, client):
    base, _app = server
    url = f"{base}/feeds/saiga/all.atom"
    get = client.get(url, headers={"accept-encoding": "identity"})
    head = client.head(url, headers={"accept-encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["etag"] == get.headers["etag"]


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compressed_when_asked(server, client, encoding):
    base, _app = server
    url = f"{base}/feeds/all/all.atom"
    plain = client.get(url, headers={"accept-encoding": "identity"})
    packed = client.get(url, headers={"accept-encoding": encoding})
    assert packed.headers["content-encoding"] == encoding
    assert packed.content == plain.content  # httpx decodes
    assert int(packed.headers["content-length"]) < len(plain.content)
    assert packed.headers["etag"] != plain.headers["etag"]
    # the compressed representation's validator also gives a 304
    assert (
        client.get(
            url, headers={"accept-encoding": encoding, "if-none-match": packed.headers["etag"]}
        ).status_code
        == 304
    )
    if encoding == "gzip":
        with client.stream("GET", url, headers={"accept-encoding": "gzip"}) as raw:
            assert gzip.decompress(b"".join(raw.iter_raw())) == plain.content


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("feeds/wolves/en.atom", "unknown topic 'wolves'"),
        ("feeds/saiga/de.atom", "unknown language 'de'"),
        ("feeds/saiga/en.xml", "a feed ends in .atom, .rss, .json or .html"),
        ("nothing-here", "no such page"),
        ("feeds/custom.atom?topics=saiga,wolves&lang=ru", "unknown topic 'wolves'"),
    ],
)
def test_unknown_feeds_get_a_helpful_404(server, client, path, says):
    base, _app = server
    response = client.get(f"{base}/{path}")
    assert response.status_code == 404
    assert says in response.text
    assert "Topics: all, bukhara-deer, argali, saiga" in response.text
    assert "feeds/{topic}/{language}.{format}" in response.text


def test_custom_feed_for_several_topics_has_one_canonical_url(server, client):
    base, _app = server
    unsorted = client.get(f"{base}/feeds/custom.atom?topics=saiga,argali,saiga&lang=ru")
    assert unsorted.status_code == 301
    canonical = "http://127.0.0.1:8080/feeds/custom.atom?topics=argali,saiga&lang=ru"
    assert unsorted.headers["location"] == canonical
    response = client.get(f"{base}/feeds/custom.atom?topics=argali,saiga&lang=ru")
    assert response.status_code == 200
    parsed = parse_back(response.content)
    assert {e.title for e in parsed.entries} == {
        "Численность сайгаков растёт",
        "Аргали в Таджикистане",
    }
    assert CHECKS["atom"](response.content, canonical, "ru") == []
    again = client.get(
        f"{base}/feeds/custom.atom?topics=argali,saiga&lang=ru",
        headers={"if-none-match": response.headers["etag"]},
    )
    assert again.status_code == 304
    single = client.get(f"{base}/feeds/custom.rss?topics=saiga")
    assert single.headers["location"] == "http://127.0.0.1:8080/feeds/saiga/all.rss"


def test_a_reader_gets_every_story_once_and_then_a_304(server, client):
    base, _app = server
    url = f"{base}/feeds/all/all.atom"
    first = client.get(url)
    parsed = feedparser.parse(first.content)
    assert parsed.bozo == 0
    ids = [entry.id for entry in parsed.entries]
    # a story told in two languages is one entry of a feed of all languages, linking the other
    stories = {item.translation_group or item.id for item in sample_items()}
    assert len(ids) == len(set(ids)) == len(stories) == len(sample_items()) - 1
    second = client.get(
        url,
        headers={
            "if-none-match": first.headers["etag"],
            "if-modified-since": first.headers["last-modified"],
        },
    )
    assert second.status_code == 304


def test_feeds_are_rendered_once_per_change(server, client, store, clock):
    base, app = server
    service = app.state.feeds
    url = f"{base}/feeds/argali/en.atom"
    before = client.get(url)
    for _ in range(5):
        client.get(url)
    assert service.renders == 1
    assert service.refresh_if_changed() is False
    clock.now += timedelta(minutes=1)
    store.upsert_items(
        [
            make_item(
                "New argali census",
                key="argali-new",
                url="https://www.cms.int/en/news/census",
                published_at=clock.now - timedelta(hours=1),
                summary="<p>Text.</p>",
            )
        ],
        clock(),
    )
    assert service.refresh_if_changed() is True
    after = client.get(url)
    assert after.headers["etag"] != before.headers["etag"]
    assert parse_back(after.content).entries[0].title == "New argali census"
    assert parsedate_to_datetime(after.headers["last-modified"]) == clock.now.replace(microsecond=0)
    untouched = client.get(f"{base}/feeds/saiga/en.atom")
    assert parsedate_to_datetime(untouched.headers["last-modified"]) < clock.now
    assert client.get(url, headers={"if-none-match": before.headers["etag"]}).status_code == 200


def test_pages_opml_and_health(server, client):
    base, _app = server
    index = client.get(f"{base}/")
    assert index.status_code == 200
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert 'type="application/atom+xml"' in index.text
    russian = client.get(f"{base}/ru/")
    assert '<html lang="ru">' in russian.text
    page = client.get(f"{base}/feeds/bukhara-deer/en.html")
    assert "A new Work Programme for the Bukhara Deer" in page.text
    opml = client.get(f"{base}/feeds.opml")
    assert opml.headers["content-type"] == "text/x-opml; charset=utf-8"
    assert client.get(f"{base}/feeds.ru.opml").status_code == 200
    health = client.get(f"{base}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_extra_routes_come_before_the_feeds(make_config, store, clock, client):
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def subscribe(_request):
        return PlainTextResponse("form")

    app = create_app(
        make_config(), store, clock, poll=False, extra_routes=[Route("/subscribe", subscribe)]
    )
    with running(app) as base:
        assert client.get(f"{base}/subscribe").text == "form"
        assert client.get(f"{base}/feeds/all/all.atom").status_code == 200
