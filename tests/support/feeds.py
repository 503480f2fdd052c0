"""Helpers for the feed, web and build tests: sites, items, a real uvicorn server, and the
W3C Feed Validation Service's rules checked directly on the bytes (there is no network)."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import uvicorn
from lxml import etree

from cmsfeed.model import Item, SiteInfo, make_item_id
from support.items import make_item
from support.ports import free_port
from support.waiting import wait_until

BASE_URL = "http://news.example.org/cms/"
PUBLISHED = datetime(2024, 12, 2, 9, 30, tzinfo=UTC)
TAG = re.compile(r"^tag:[a-z0-9.-]+,\d{4}(-\d{2}(-\d{2})?)?:[\w;/?:@&=+$.!~*'()%,-]+$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
    r"|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
UNSAFE = re.compile(
    r"<\s*(script|iframe|object|embed|style|form)\b|\son[a-z]+\s*=|javascript:", re.IGNORECASE
)
ATOM = "{http://www.w3.org/2005/Atom}"


def make_site(**overrides: Any) -> SiteInfo:
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "languages": ("en", "ru"),
        "author_name": "CMS CAMI",
        "author_email": None,
        "topic_names": {
            "argali": {"en": "Argali", "ru": "Аргали"},
            "bukhara-deer": {"en": "Bukhara deer", "ru": "Бухарский олень"},
            "saiga": {"en": "Saiga antelope", "ru": "Сайгак"},
        },
        "authority": "news.example.org",
        "entries": 50,
        "ttl_minutes": 60,
        "hub_url": None,
        "signup_url": BASE_URL + "subscribe",  # as `cmsfeed run` serves it
    }
    values.update(overrides)
    # The site's name differs by language, so a page or feed that shows the wrong one fails.
    titles = {"en": "CAMI news", "ru": "Новости CAMI"}
    descriptions = {"en": "News of Central Asian mammals.", "ru": "Новости о млекопитающих."}
    values.setdefault(
        "titles", {lang: titles.get(lang, titles["en"]) for lang in values["languages"]}
    )
    values.setdefault(
        "descriptions",
        {lang: descriptions.get(lang, descriptions["en"]) for lang in values["languages"]},
    )
    return SiteInfo(**values)


def sample_items() -> list[Item]:
    """Eight stories: two languages of one story, an image, a story without URL, three topics."""
    group = make_item_id("deer-2024")[:16]
    day = timedelta(days=1)
    return [
        make_item(
            "A new Work Programme for the Bukhara Deer",
            key="deer-2024-en",
            summary="<p>Signatories met in <a href='/almaty'>Almaty</a>.</p>",
            topics=("bukhara-deer",),
            url="https://www.cms.int/en/news/deer-2024",
            translation_group=group,
            published_at=PUBLISHED,
        ),
        make_item(
            "Новая программа работ по бухарскому оленю",
            key="deer-2024-ru",
            summary="<p>Страны-подписанты встретились в Алматы.</p>",
            language="ru",
            topics=("bukhara-deer",),
            url="https://www.cms.int/ru/news/deer-2024",
            translation_group=group,
            published_at=PUBLISHED,
        ),
        make_item(
            "Argali & Bukhara deer measures agreed",
            key="argali-plan",
            topics=("argali", "bukhara-deer"),
            url="https://www.cms.int/en/news/argali",
            image_url="https://www.cms.int/images/argali.jpg",
            published_at=PUBLISHED - day,
            summary="<p>Text.</p>",
        ),
        make_item(
            "Saiga numbers rise",
            key="saiga-count",
            topics=("saiga",),
            url=None,
            published_at=PUBLISHED - 2 * day,
            summary="<p>Text.</p>",
        ),
        make_item(
            "Численность сайгаков растёт",
            key="saiga-ru",
            language="ru",
            topics=("saiga",),
            url="https://www.cms.int/ru/news/saiga",
            published_at=PUBLISHED - 3 * day,
            updated_at=PUBLISHED - 2 * day,
            summary="<p>Text.</p>",
        ),
        make_item(
            "Аргали в Таджикистане",
            key="argali-ru",
            language="ru",
            topics=("argali",),
            url="https://www.cms.int/ru/news/argali",
            published_at=PUBLISHED - 4 * day,
            summary="<p>Text.</p>",
        ),
        make_item(
            "World's Largest Bukhara Deer Population Needs Help",
            key="deer-old",
            topics=("bukhara-deer",),
            url="https://www.cms.int/en/news/deer-old",
            published_at=PUBLISHED - 400 * day,
            summary="<p>Text.</p>",
        ),
        make_item(
            "CMS news in general",
            key="untagged",
            topics=(),
            url="https://www.cms.int/en/news/general",
            published_at=PUBLISHED - 5 * day,
            summary="<p>Text.</p>",
        ),
    ]


def with_translations(items: Sequence[Item]) -> list[Item]:
    """Items as the store returns them: `translations` filled from translation groups."""
    groups: dict[str, list[str]] = {}
    for item in items:
        if item.translation_group:
            groups.setdefault(item.translation_group, []).append(item.id)
    out = []
    for item in items:
        siblings = tuple(
            sorted(i for i in groups.get(item.translation_group or "", []) if i != item.id)
        )
        out.append(
            Item(
                **{
                    **{f: getattr(item, f) for f in item.__dataclass_fields__},
                    "translations": siblings,
                }
            )
        )
    return out


HOSTILE_TITLE = 'Saiga <script>alert("t")</script><b onmouseover="x()">bold</b> & more'
HOSTILE_SUMMARY = (
    '<p onclick="steal()">Hello <script>alert(1)</script><iframe src="https://evil.example/">'
    '</iframe><a href="javascript:alert(2)">click</a><img src="/x.png" onerror="boom()">'
    "<style>body{display:none}</style>]]></content>&lt;script&gt;</p>\x00\x0b"
)


# -- the W3C Feed Validation Service's rules ----------------------------------------------


def check_atom(body: bytes, self_url: str, language: str | None) -> list[str]:
    problems: list[str] = []
    root = etree.fromstring(body)
    if root.tag != f"{ATOM}feed":
        return [f"root is {root.tag}"]
    _check_lang(root.get("{http://www.w3.org/XML/1998/namespace}lang"), language, problems)
    selfs = [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    if selfs != [self_url]:
        problems.append(f"self link {selfs} is not [{self_url}]")
    for required in ("id", "title", "updated"):
        if root.find(f"{ATOM}{required}") is None:
            problems.append(f"feed has no {required}")
    if root.find(f"{ATOM}author/{ATOM}name") is None:
        problems.append("feed has no author")
    ids = []
    for entry in root.findall(f"{ATOM}entry"):
        entry_id = entry.findtext(f"{ATOM}id") or ""
        ids.append(entry_id)
        _check_entry_lang(
            entry.get("{http://www.w3.org/XML/1998/namespace}lang")
            or root.get("{http://www.w3.org/XML/1998/namespace}lang"),
            entry_id,
            problems,
        )
        if not TAG.match(entry_id):
            problems.append(f"entry id {entry_id!r} is not a tag URI")
        for name in ("updated", "published"):
            if not RFC3339.match(entry.findtext(f"{ATOM}{name}") or ""):
                problems.append(f"{entry_id}: {name} is not RFC 3339")
        title = entry.find(f"{ATOM}title")
        if title is None or title.get("type", "text") != "text" or "<" in (title.text or ""):
            problems.append(f"{entry_id}: title is not plain text")
        content = entry.find(f"{ATOM}content")
        if content is None or content.get("type") != "html":
            problems.append(f"{entry_id}: content is not declared as html")
        elif UNSAFE.search(content.text or ""):
            problems.append(f"{entry_id}: content carries script")
        _check_html_urls(content.text if content is not None else "", entry_id, problems)
        combinations = set()
        for link in entry.findall(f"{ATOM}link"):
            key = (link.get("rel", "alternate"), link.get("type"), link.get("hreflang"))
            if key in combinations:
                problems.append(f"{entry_id}: two links with rel/type/hreflang {key}")
            combinations.add(key)
            _check_absolute(link.get("href"), f"{entry_id} link", problems)
        for thumbnail in entry.iter("{http://search.yahoo.com/mrss/}thumbnail"):
            _check_absolute(thumbnail.get("url"), f"{entry_id} thumbnail", problems)
    if len(set(ids)) != len(ids):
        problems.append("duplicate entry ids")
    for link in root.findall(f"{ATOM}link"):
        _check_absolute(link.get("href"), "feed link", problems)
    return problems


def check_rss(body: bytes, self_url: str, language: str | None) -> list[str]:
    problems: list[str] = []
    root = etree.fromstring(body)
    channel = root.find("channel")
    if root.tag != "rss" or root.get("version") != "2.0" or channel is None:
        return ["not RSS 2.0"]
    _check_lang(channel.findtext("language"), language, problems)
    selfs = [
        link.get("href") for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"
    ]
    if selfs != [self_url]:
        problems.append(f"atom:link self {selfs} is not [{self_url}]")
    for required in ("title", "link", "description"):
        if not (channel.findtext(required) or "").strip():
            problems.append(f"channel has no {required}")
    _check_absolute(channel.findtext("link"), "channel link", problems)
    if channel.findtext("link") == self_url:
        problems.append("channel <link> is the feed itself, not its web page")
    last_build = channel.findtext("lastBuildDate")
    if last_build is not None and not RFC822.match(last_build):
        problems.append(f"lastBuildDate {last_build!r} is not RFC 822")
    guids = []
    for item in channel.findall("item"):
        guid = item.find("guid")
        if guid is None:
            problems.append("item without guid")
            continue
        guids.append(guid.text)
        if language is None:  # no channel language: each item says its own
            _check_entry_lang(
                item.findtext("{http://purl.org/dc/elements/1.1/}language"),
                guid.text or "",
                problems,
            )
        if (
            not (guid.text or "").startswith(("http://", "https://"))
            and guid.get("isPermaLink") != "false"
        ):
            problems.append(f"{guid.text}: non-URL guid without isPermaLink=false")
        if not RFC822.match(item.findtext("pubDate") or ""):
            problems.append(f"{guid.text}: pubDate is not RFC 822")
        title = item.findtext("title") or ""
        if re.search(r"<[a-zA-Z/]", title):
            problems.append(f"{guid.text}: HTML in title")
        description = item.findtext("description") or ""
        if UNSAFE.search(description):
            problems.append(f"{guid.text}: description carries script")
        _check_html_urls(description, guid.text or "", problems)
        _check_absolute(item.findtext("link"), f"{guid.text} link", problems)
        if (
            item.findtext("author") is None
            and item.findtext("{http://purl.org/dc/elements/1.1/}creator") is None
        ):
            problems.append(f"{guid.text}: no author")
    if len(set(guids)) != len(guids):
        problems.append("duplicate guids")
    return problems


def check_json(body: bytes, self_url: str, language: str | None) -> list[str]:
    problems: list[str] = []
    feed = json.loads(body)
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append("not JSON Feed 1.1")
    if feed.get("feed_url") != self_url:
        problems.append(f"feed_url {feed.get('feed_url')} is not {self_url}")
    _check_lang(feed.get("language"), language, problems)
    if not feed.get("authors"):
        problems.append("no authors")
    ids = [item["id"] for item in feed.get("items", [])]
    if len(set(ids)) != len(ids):
        problems.append("duplicate ids")
    for item in feed.get("items", []):
        if not TAG.match(item["id"]):
            problems.append(f"{item['id']} is not a tag URI")
        for key in ("date_published", "date_modified"):
            if not RFC3339.match(item.get(key, "")):
                problems.append(f"{item['id']}: {key} is not RFC 3339")
        if UNSAFE.search(item.get("content_html", "")):
            problems.append(f"{item['id']}: content_html carries script")
        if "<" in item.get("title", ""):
            problems.append(f"{item['id']}: HTML in title")
        _check_absolute(item.get("url"), f"{item['id']} url", problems)
        if "image" in item:
            _check_absolute(item["image"], f"{item['id']} image", problems)
        _check_entry_lang(item.get("language"), item["id"], problems)
    return problems


CHECKS = {"atom": check_atom, "rss": check_rss, "json": check_json}


def _check_lang(found: str | None, expected: str | None, problems: list[str]) -> None:
    """A feed in one language declares it; a feed of all languages declares none (each
    entry says its own, checked by `_check_entry_lang`)."""
    if expected is None:
        if found is not None:
            problems.append(f"a feed of all languages declares the language {found!r}")
    elif not found or not re.match(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$", found):
        problems.append(f"language {found!r} missing or not a language code")
    elif found != expected:
        problems.append(f"language {found!r} is not {expected!r}")


def _check_entry_lang(found: str | None, entry_id: str, problems: list[str]) -> None:
    if not found or not re.match(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$", found):
        problems.append(f"{entry_id}: language {found!r} missing or not a language code")


def _check_absolute(url: str | None, what: str, problems: list[str]) -> None:
    if not url or not re.match(r"^https?://[^/\s]+", url) or any(c.isspace() for c in url):
        problems.append(f"{what}: {url!r} is not an absolute URL")


def _check_html_urls(fragment: str | None, what: str, problems: list[str]) -> None:
    for url in re.findall(r'(?:href|src)="([^"]*)"', fragment or ""):
        _check_absolute(url, f"{what} (in HTML)", problems)


def parse_back(body: bytes) -> Any:
    """Parse with feedparser and insist it found nothing wrong."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def rfc822(text: str) -> datetime:
    return parsedate_to_datetime(text)


# -- a real server ---------------------------------------------------------------------------


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def started() -> bool:
        assert thread.is_alive(), "uvicorn stopped before it started"
        return bool(server.started)

    wait_until(started, "uvicorn to start", timeout=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
