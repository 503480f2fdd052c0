"""The feed renderers are pure: no database, network, server or scheduler library."""

from __future__ import annotations

from test_purity import LIBRARIES, STANDARD_CLIENTS, among, imported_by

FEED_MODULES = [
    "cmsfeed.feeds",
    "cmsfeed.feeds.urls",
    "cmsfeed.feeds.document",
    "cmsfeed.feeds.syndication",
    "cmsfeed.feeds.jsonfeed",
    "cmsfeed.feeds.pages",
    "cmsfeed.feeds.site",
]


def test_feed_modules_import_no_database_network_or_scheduler_library():
    loaded = imported_by(FEED_MODULES)
    assert set(FEED_MODULES) <= loaded
    assert among(loaded, LIBRARIES + STANDARD_CLIENTS + ["cmsfeed.publish", "cmsfeed.web"]) == []
