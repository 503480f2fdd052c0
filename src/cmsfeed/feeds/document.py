"""What one feed says, independent of its format. Pure: no I/O.

`FeedDocument` is built from items and the site's metadata by `make_document`; the format
writers (`atom`, `rss`, `jsonfeed`, `pages`) only turn it into bytes. Everything that must be
the same in every format is decided here once: entry ids, absolute links, the links to other
language versions, the feed's `updated` time (the newest entry's, never the build time),
and the cleaning of titles and summaries (again, even though the store keeps them clean:
a feed must be safe whatever got into the database).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cmsfeed.feeds import urls
from cmsfeed.feeds.urls import Format, Selection
from cmsfeed.i18n import translations
from cmsfeed.model import Item, SiteInfo
from cmsfeed.sanitize import clean_html, plain_text, remove_xml_forbidden

# The `updated` of a feed with no entries: fixed, so an empty feed has stable bytes too.
EMPTY_FEED_UPDATED_AT = datetime(2024, 1, 1, tzinfo=UTC)


def standard_selections(site: SiteInfo) -> list[Selection]:
    """Every standard feed: each topic and all topics, in each language and all languages."""
    topics: list[tuple[str, ...]] = [()] + [(topic,) for topic in site.topic_ids]
    languages: list[str | None] = [None, *site.languages]
    return [Selection(chosen, language) for chosen in topics for language in languages]


@dataclass(frozen=True, slots=True)
class Translation:
    language: str
    url: str
    title: str
    id: str


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    item_id: str
    title: str
    link: str
    summary_html: str
    language: str
    published_at: datetime
    updated_at: datetime
    topics: tuple[tuple[str, str], ...]  # (topic id, name in the entry's language)
    image_url: str | None = None
    translations: tuple[Translation, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedDocument:
    selection: Selection
    feed_id: str
    title: str
    subtitle: str
    # The feed's language; None for a feed of all languages, whose entries each say theirs
    # (its title and subtitle are in the site's default language).
    language: str | None
    site: SiteInfo
    entries: tuple[Entry, ...] = ()
    updated_at: datetime = EMPTY_FEED_UPDATED_AT

    def url(self, fmt: Format) -> str:
        return urls.feed_url(self.site.base_url, self.selection, fmt)

    @property
    def html_url(self) -> str:
        return self.url("html")


def feed_title(site: SiteInfo, chosen: Selection, interface_language: str) -> str:
    names = [site.topic_name(topic, interface_language) for topic in chosen.topics]
    _ = translations(interface_language, site.locale_dir)
    subject = ", ".join(names) if names else _.gettext("All topics")
    title = site.title_in(interface_language)
    if chosen.language is None:
        return f"{title}: {subject}"
    return f"{title}: {subject} ({chosen.language})"


def make_document(
    site: SiteInfo, chosen: Selection, items: Sequence[Item], siblings: Mapping[str, Item]
) -> FeedDocument:
    """The feed for `chosen` holding `items` (newest first); `siblings` maps translation ids."""
    language = chosen.language or site.default_language
    html_url = urls.feed_url(site.base_url, chosen, "html")
    if chosen.language is None:
        items = one_version_per_story(site, items)
    entries = tuple(_entry(site, item, html_url, siblings) for item in items[: site.entries])
    newest = max((entry.updated_at for entry in entries), default=EMPTY_FEED_UPDATED_AT)
    title = feed_title(site, chosen, language)
    return FeedDocument(
        selection=chosen,
        feed_id=urls.feed_id(site.authority, chosen),
        title=title,
        subtitle=site.description_in(language).strip() or site.title_in(language),
        language=chosen.language,
        site=site,
        entries=entries,
        updated_at=newest,
    )


def one_version_per_story(site: SiteInfo, items: Sequence[Item]) -> list[Item]:
    """The items of a feed of all languages: a story told in several languages is one entry.

    The versions of one story (linked as translations by ingest, never guessed here) share
    their dates; as separate entries they would be the same story twice, with the same
    `updated`. The entry is the version in the earliest of `site.languages` that this feed
    holds; every other version stays reachable from it (an alternate link with its language
    and title in Atom, `_cmsfeed.translations` in JSON Feed, "Also in" on the page) and has
    its own entry in its language's feed. A version whose sibling is not in this feed (tagged
    with other topics) keeps its entry.
    """
    held = {item.id: item for item in items}

    def rank(item: Item) -> tuple[int, str]:
        order = site.languages.index(item.language) if item.language in site.languages else 99
        return (order, item.id)

    kept = []
    for item in items:
        versions = [held[other] for other in item.translations if other in held]
        if all(rank(item) < rank(other) for other in versions if other.language != item.language):
            kept.append(item)
    return kept


def _entry(site: SiteInfo, item: Item, html_url: str, siblings: Mapping[str, Item]) -> Entry:
    link = absolute_http_url(item.url) or f"{html_url}#{urls.item_anchor(item.id)}"
    translations = []
    for sibling_id in item.translations:
        sibling = siblings.get(sibling_id)
        if sibling is None or sibling.language == item.language:
            continue
        # A version in a language outside the site's is on the all-languages page only.
        shown_in = sibling.language if sibling.language in site.languages else None
        sibling_page = urls.feed_url(site.base_url, Selection((), shown_in), "html")
        translations.append(
            Translation(
                language=sibling.language,
                url=absolute_http_url(sibling.url)
                or f"{sibling_page}#{urls.item_anchor(sibling.id)}",
                title=clean_title(sibling.title),
                id=urls.entry_id(site.authority, sibling.id),
            )
        )
    published = _seconds(item.published_at)
    return Entry(
        id=urls.entry_id(site.authority, item.id),
        item_id=item.id,
        title=clean_title(item.title),
        link=link,
        summary_html=clean_summary(item.summary, link),
        language=item.language,
        published_at=published,
        updated_at=max(published, _seconds(item.updated_at)),
        topics=tuple(
            (topic, site.topic_name(topic, item.language))
            for topic in item.topics
            if topic in site.topic_names
        ),
        image_url=absolute_http_url(item.image_url),
        translations=tuple(sorted(translations, key=lambda t: (t.language, t.id))),
    )


def clean_title(title: str) -> str:
    """Plain text on one line: a title never carries markup, whatever the store holds."""
    text = plain_text(title) if "<" in title or "&" in title else " ".join(title.split())
    return remove_xml_forbidden(text)[0] or "(untitled)"


def clean_summary(summary: str, base_url: str) -> str:
    return remove_xml_forbidden(clean_html(summary, base_url))[0]


def absolute_http_url(url: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return None
    return url


def _seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)
