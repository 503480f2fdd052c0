"""Publishing: the I/O edge of `cmsfeed.feeds`. Reads the store, writes files, pings the hub.

collect   store -> FeedDocuments -> every Rendered file of the site (`render_site`)
static    write a rendered site into a directory, touching only changed files
websub    tell a WebSub hub which feeds changed, retrying what failed earlier
refresh   the one call after an ingest: render, record what changed, ping
"""

from cmsfeed.publish.collect import collect_documents, render_site
from cmsfeed.publish.refresh import RefreshResult, refresh_feeds
from cmsfeed.publish.static import BuildReport, write_site

__all__ = [
    "BuildReport",
    "RefreshResult",
    "collect_documents",
    "refresh_feeds",
    "render_site",
    "write_site",
]
