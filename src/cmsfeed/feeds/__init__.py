"""Feeds: Atom, RSS and JSON Feed per topic and language, and pages for people. Pure: no I/O.

Items and site metadata in, bytes out. `urls` is the one definition of every public URL;
`document` decides what a feed says; `syndication`, `jsonfeed` and `pages` write it;
`site` renders every file. Reading the store and writing files is done by `cmsfeed.publish`.
"""

from cmsfeed.feeds.document import FeedDocument, SiteInfo, make_document, site_info
from cmsfeed.feeds.site import Rendered, render_feed, render_pages
from cmsfeed.feeds.urls import Selection, selection

__all__ = [
    "FeedDocument",
    "Rendered",
    "Selection",
    "SiteInfo",
    "make_document",
    "render_feed",
    "render_pages",
    "selection",
    "site_info",
]
