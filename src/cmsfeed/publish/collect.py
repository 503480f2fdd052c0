"""From the store to documents and rendered files. Does I/O (reads the database)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cmsfeed.feeds.document import FeedDocument, make_document, standard_selections
from cmsfeed.feeds.site import Rendered, render_feed, render_pages
from cmsfeed.feeds.urls import Selection
from cmsfeed.model import Item, SiteInfo
from cmsfeed.store import Store

Progress = Callable[[int], None]


def collect_documents(
    site: SiteInfo, store: Store, selections: Sequence[Selection] | None = None
) -> list[FeedDocument]:
    """One document per selection (default: every standard feed), newest entries first."""
    chosen = list(standard_selections(site) if selections is None else selections)
    found: dict[Selection, list[Item]] = {}
    for selection in chosen:
        if selection not in found:
            found[selection] = store.list_items(
                topics=list(selection.topics) or None,
                language=selection.language,
                limit=site.entries,
            )
    known = {item.id: item for listed in found.values() for item in listed}
    wanted = {
        sibling for listed in found.values() for item in listed for sibling in item.translations
    } - set(known)
    if wanted:
        known.update({item.id: item for item in store.list_items(ids=sorted(wanted))})
    return [make_document(site, selection, found[selection], known) for selection in chosen]


def render_site(site: SiteInfo, store: Store, progress: Progress | None = None) -> list[Rendered]:
    """Every file of the site: four per standard feed, the index pages and the OPML lists."""
    files: list[Rendered] = []
    for document in collect_documents(site, store):
        files += render_feed(document)
        if progress is not None:
            progress(1)
    return files + render_pages(site, store.feed_counts())
