"""Atom 1.0 and RSS 2.0, written with feedgen. Pure: no I/O.

feedgen has traps, each guarded here:
- `add_entry` prepends unless `order="append"`: entries would come out oldest first.
- an entry's `updated` and the feed's `updated`/`lastBuildDate` default to now: always set,
  from the newest entry, so the same content gives the same bytes.
- the RSS `<link>` is the last link added: the channel's HTML page is added last, and an
  entry's own page is its only `link()`.
- feedgen 1.0 drops `rel`, `type` and `hreflang` of entry-level Atom links, so an entry's
  links (its page and its other language versions) are written by the `_Extension` below,
  as is everything feedgen
  has no words for (an entry's `xml:lang`, media thumbnails, RSS `dc:creator`, `dc:language`
  and hub link).
- a feed of all languages declares no language of its own (RSS `<language>`, Atom `xml:lang`
  on the feed): each entry carries its own.
- its default generator carries its version, which would change the bytes on an upgrade.
"""

from __future__ import annotations

from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from cmsfeed.feeds.document import Entry, FeedDocument
from cmsfeed.feeds.urls import Format

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR = "cmsfeed"


def render_atom(document: FeedDocument) -> bytes:
    return _generator(document, "atom").atom_str(pretty=True)  # type: ignore[no-any-return]


def render_rss(document: FeedDocument) -> bytes:
    return _generator(document, "rss").rss_str(pretty=True)  # type: ignore[no-any-return]


def _generator(document: FeedDocument, fmt: Format) -> FeedGenerator:
    site = document.site
    generator = FeedGenerator()
    generator.register_extension("cmsfeed", _FeedExtension, _Extension, atom=True, rss=True)
    generator.cmsfeed.hub_url = site.hub_url if fmt == "rss" else None
    generator.id(document.feed_id)
    generator.title(document.title)
    generator.subtitle(document.subtitle)
    if document.language is not None:  # a feed of all languages: each entry says its own
        generator.language(document.language)
    generator.author(
        {"name": site.author_name, **({"email": site.author_email} if site.author_email else {})}
    )
    generator.generator(GENERATOR)
    generator.updated(document.updated_at)
    if fmt == "rss":
        generator.ttl(site.ttl_minutes)
        generator.docs("https://www.rssboard.org/rss-specification")
    generator.link(href=document.url(fmt), rel="self", type=_MEDIA_TYPES[fmt])
    if site.hub_url and fmt == "atom":
        generator.link(href=site.hub_url, rel="hub")
    generator.link(href=document.html_url, rel="alternate", type="text/html")  # last: RSS <link>
    for entry in document.entries:
        _add_entry(generator, entry, site.author_name, fmt, document.language is None)
    return generator


def _add_entry(
    generator: FeedGenerator, entry: Entry, author: str, fmt: Format, mixed: bool
) -> None:
    item = generator.add_entry(order="append")
    item.guid(entry.id, permalink=False)  # also the Atom id; a tag URI, never a URL
    item.title(entry.title)
    if fmt == "rss":
        item.link(href=entry.link)  # Atom entry links are written by _Extension
    item.published(entry.published_at)
    item.updated(entry.updated_at)
    if fmt == "atom":
        item.content(entry.summary_html, type="html")
    else:
        item.description(entry.summary_html)
    for topic, name in entry.topics:
        item.category(term=topic, label=name) if fmt == "atom" else item.category(term=name)
    extension = item.cmsfeed
    extension.entry = entry
    extension.author = author
    extension.mark_language = mixed


_MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


class _FeedExtension:
    hub_url: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS, "dc": DC_NS}

    def extend_atom(self, feed: Any) -> Any:
        return feed

    def extend_rss(self, rss: Any) -> Any:
        if self.hub_url:
            channel = rss.find("channel")
            link = etree.SubElement(channel, f"{{{ATOM_NS}}}link")
            link.set("href", self.hub_url)
            link.set("rel", "hub")
        return rss


class _Extension:
    entry: Entry
    author: str
    mark_language = False  # RSS: in a feed of all languages, each item says its own

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS, "dc": DC_NS}

    def extend_atom(self, element: Any) -> Any:
        element.set(XML_LANG, self.entry.language)
        own = (self.entry.language, self.entry.link, None)
        others = [(t.language, t.url, t.title) for t in self.entry.translations]
        for language, href, title in [own, *others]:
            # feedgen writes Atom elements without a namespace and a literal xmlns attribute
            link = etree.SubElement(element, "link")
            link.set("rel", "alternate")
            link.set("type", "text/html")
            link.set("hreflang", language)
            link.set("href", href)
            if title:
                link.set("title", title)
        if others:
            # Readers disagree on which alternate link is the entry's page: Miniflux and most
            # take the first, feedparser (and what is built on it) the last. Its own page is
            # both; the bare link differs in type and hreflang, as Atom requires.
            etree.SubElement(element, "link").set("href", self.entry.link)
        self._thumbnail(element)
        return element

    def extend_rss(self, element: Any) -> Any:
        creator = etree.SubElement(element, f"{{{DC_NS}}}creator")
        creator.text = self.author
        if self.mark_language:
            etree.SubElement(element, f"{{{DC_NS}}}language").text = self.entry.language
        self._thumbnail(element)
        return element

    def _thumbnail(self, element: Any) -> None:
        if self.entry.image_url:
            etree.SubElement(element, f"{{{MEDIA_NS}}}thumbnail").set("url", self.entry.image_url)
