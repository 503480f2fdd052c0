"""The URL scheme of every feed, page and id cmsfeed publishes, in one place. Pure: no I/O.

Paths are relative to the site root (`site.base_url`) and are also the file names that
`cmsfeed build` writes, so a static server and `cmsfeed serve` answer the same URLs:

    feeds/{topic}/{lang}.atom|.rss|.json|.html   one topic, one language
    feeds/all/{lang}.atom                        every topic
    feeds/{topic}/all.atom                       every language
    feeds/custom.atom?topics=a,b&lang=ru         any set of topics (served, never built)
    index.html, {lang}/index.html                the index page per interface language
    feeds.opml, feeds.{lang}.opml                every feed, or the feeds of one language

Entry ids are tag URIs built from the item id alone (`tag:{authority},2024:item:{id}`), so
they never change when a story is edited and differ between its language versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

ALL = "all"
CUSTOM = "custom"
TAG_DATE = "2024"

Format = Literal["atom", "rss", "json", "html"]
FEED_FORMATS: tuple[Format, ...] = ("atom", "rss", "json")
MEDIA_TYPES: dict[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
}


@dataclass(frozen=True, slots=True, order=True)
class Selection:
    """Which items a feed holds: any of `topics` (empty: every topic) in `language` (None: all).

    `topics` is sorted and without duplicates; build one with `selection()`.
    """

    topics: tuple[str, ...] = ()
    language: str | None = None

    @property
    def is_custom(self) -> bool:
        return len(self.topics) > 1

    @property
    def topic_segment(self) -> str:
        return self.topics[0] if len(self.topics) == 1 else ALL

    @property
    def language_segment(self) -> str:
        return self.language or ALL


def selection(topics: tuple[str, ...] | list[str] = (), language: str | None = None) -> Selection:
    """The canonical selection: topics sorted and deduplicated, "all" spelled as None/empty."""
    unique = tuple(sorted({topic for topic in topics if topic and topic != ALL}))
    return Selection(unique, None if language in (None, "", ALL) else language)


def feed_path(chosen: Selection, fmt: Format) -> str:
    """The path (and, for a set of topics, the canonical query) of a feed, without the base URL."""
    if chosen.is_custom:
        query = urlencode(
            {"topics": ",".join(chosen.topics), "lang": chosen.language_segment}, safe=","
        )
        return f"feeds/{CUSTOM}.{fmt}?{query}"
    return f"feeds/{chosen.topic_segment}/{chosen.language_segment}.{fmt}"


def feed_url(base_url: str, chosen: Selection, fmt: Format) -> str:
    return base_url + feed_path(chosen, fmt)


def item_anchor(item_id: str) -> str:
    return f"item-{item_id}"


def item_page_url(base_url: str, item_id: str, language: str) -> str:
    """Where a story without a page of its own is read: its entry on the all-topics page of
    its language (what digests link to; feeds link to the entry on their own page)."""
    return f"{feed_url(base_url, Selection((), language), 'html')}#{item_anchor(item_id)}"


def index_path(language: str, default_language: str) -> str:
    """The file of the index page in an interface language."""
    return "index.html" if language == default_language else f"{language}/index.html"


def index_url(base_url: str, language: str, default_language: str) -> str:
    return base_url if language == default_language else f"{base_url}{language}/"


def opml_path(language: str | None = None) -> str:
    return "feeds.opml" if language is None else f"feeds.{language}.opml"


def tag_authority(base_url: str, configured: str | None) -> str:
    """The authority of tag URIs: configured, or the host of the base URL (no port, lowercase)."""
    if configured:
        return configured
    host = base_url.split("://", 1)[1].split("/", 1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return "localhost"
    return host.split(":", 1)[0].lower() or "localhost"


def entry_id(authority: str, item_id: str) -> str:
    return f"tag:{authority},{TAG_DATE}:item:{item_id}"


def feed_id(authority: str, chosen: Selection) -> str:
    topics = "+".join(chosen.topics) if chosen.topics else ALL
    return f"tag:{authority},{TAG_DATE}:feed:{topics}/{chosen.language_segment}"


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """A request path read back into what it asks for."""

    selection: Selection
    format: Format


class UnknownPathError(ValueError):
    """The path is not one of the scheme's; the message says what would be."""


def parse_feed_path(
    path: str, query_topics: str | None = None, query_language: str | None = None
) -> FeedRequest:
    """Read `feeds/{topic}/{lang}.{ext}` or `feeds/custom.{ext}` (with its query) back.

    Topics and languages are not checked against the configuration here; the caller knows it.
    """
    parts = path.strip("/").split("/")
    if not parts or parts[0] != "feeds" or len(parts) not in (2, 3):
        raise UnknownPathError("feeds live at /feeds/{topic}/{lang}.atom|.rss|.json|.html")
    name, dot, extension = parts[-1].rpartition(".")
    if not dot or extension not in ("atom", "rss", "json", "html"):
        raise UnknownPathError("a feed ends in .atom, .rss, .json or .html")
    fmt: Format = extension  # type: ignore[assignment]
    if len(parts) == 2:
        if name != CUSTOM:
            raise UnknownPathError(
                "a feed for several topics is /feeds/custom.atom?topics=a,b&lang=ru"
            )
        topics = [t.strip() for t in (query_topics or "").split(",") if t.strip()]
        if not topics:
            raise UnknownPathError("/feeds/custom needs ?topics=a,b (and optionally &lang=xx)")
        return FeedRequest(selection(topics, query_language), fmt)
    topic = parts[1]
    return FeedRequest(selection([topic] if topic != ALL else [], name), fmt)
