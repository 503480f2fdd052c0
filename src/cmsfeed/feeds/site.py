"""Every file of the site, rendered from documents. Pure: no I/O.

`render_feed` turns one `FeedDocument` into its four files (Atom, RSS, JSON Feed and the
readable HTML page); `render_pages` adds the index pages and OPML lists. Each `Rendered`
carries its path (relative to the site root, see `urls`), bytes, media type and a content
hash that serves as strong ETag and change detector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cmsfeed.feeds import urls
from cmsfeed.feeds.document import FeedDocument
from cmsfeed.feeds.jsonfeed import render_json
from cmsfeed.feeds.pages import render_feed_page, render_index, render_opml
from cmsfeed.feeds.syndication import render_atom, render_rss
from cmsfeed.feeds.urls import Format
from cmsfeed.model import FeedCounts, SiteInfo

WRITERS: dict[Format, Callable[[FeedDocument], bytes]] = {
    "atom": render_atom,
    "rss": render_rss,
    "json": render_json,
    "html": render_feed_page,
}


@dataclass(frozen=True, slots=True)
class Rendered:
    path: str
    body: bytes
    media_type: str
    content_hash: str

    @property
    def is_feed(self) -> bool:
        return self.path.rsplit(".", 1)[-1] in urls.FEED_FORMATS


def rendered(path: str, body: bytes, kind: str) -> Rendered:
    return Rendered(path, body, urls.MEDIA_TYPES[kind], hashlib.sha256(body).hexdigest()[:32])


def render_feed(
    document: FeedDocument, formats: Iterable[Format] = ("atom", "rss", "json", "html")
) -> list[Rendered]:
    return [
        rendered(urls.feed_path(document.selection, fmt), WRITERS[fmt](document), fmt)
        for fmt in formats
    ]


def render_pages(site: SiteInfo, counts: FeedCounts | None = None) -> list[Rendered]:
    files = [
        rendered(
            urls.index_path(lang, site.default_language),
            render_index(site, lang, counts),
            "html",
        )
        for lang in site.languages
    ]
    files.append(rendered(urls.opml_path(), render_opml(site), "opml"))
    files += [
        rendered(urls.opml_path(lang), render_opml(site, lang), "opml") for lang in site.languages
    ]
    # The first language's index is at / and, like every other language's, at /{lang}/ too,
    # so that an address written by hand (/en/) finds it; pages link to /.
    default = urls.index_path(site.default_language, site.default_language)
    files += [
        rendered(f"{site.default_language}/index.html", page.body, "html")
        for page in files
        if page.path == default
    ]
    return files
