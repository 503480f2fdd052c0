"""The feeds the server holds: rendered once per change, served from memory.

Does I/O (reads the store, pings the hub). `refresh_if_changed` compares a cheap marker of
the store (`content_marker`) with the last one and re-renders only when it moved, or when
`full_refresh_seconds` passed (a safety net for changes the marker cannot see). Feeds for a
set of topics are rendered on first request and kept until the next change.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import httpx

from cmsfeed.feeds.site import render_feed
from cmsfeed.feeds.urls import Format, Selection, feed_path
from cmsfeed.model import Clock, SiteInfo
from cmsfeed.publish.collect import collect_documents
from cmsfeed.publish.refresh import refresh_feeds
from cmsfeed.store import Store
from cmsfeed.web.resources import Resource

log = logging.getLogger(__name__)
CUSTOM_FEEDS_KEPT = 256


@dataclass(frozen=True, slots=True)
class Snapshot:
    resources: dict[str, Resource]
    changed_at: datetime  # when a refresh last found any change
    refreshed_at: datetime


class FeedService:
    def __init__(
        self,
        site: SiteInfo,
        store: Store,
        clock: Clock,
        *,
        hub_client: httpx.Client | None = None,
        full_refresh_seconds: float = 600.0,
    ) -> None:
        self.site = site
        self.store = store
        self.clock = clock
        self.hub_client = hub_client
        self.full_refresh_seconds = full_refresh_seconds
        self.snapshot: Snapshot | None = None
        self.renders = 0  # how many times the whole site was rendered (for tests and /healthz)
        self._marker: tuple[object, ...] | None = None
        self._lock = threading.Lock()
        self._custom: OrderedDict[str, Resource] = OrderedDict()
        self._custom_lock = threading.Lock()

    def refresh_if_changed(self) -> bool:
        """Re-render if the store changed; return whether any file's content changed."""
        with self._lock:
            marker = self.store.content_marker()
            now = self.clock()
            due = (
                self.snapshot is None
                or marker != self._marker
                or ((now - self.snapshot.refreshed_at).total_seconds() >= self.full_refresh_seconds)
            )
            if not due:
                return False
            result = refresh_feeds(self.site, self.store, now, client=self.hub_client)
            self.renders += 1
            previous = self.snapshot
            # Compared with what this server holds, not with `result.changed`: another process
            # (a cron `cmsfeed ingest`, another worker) may have recorded the change already.
            if (
                previous is not None
                and previous.resources.keys() == {file.path for file in result.files}
                and all(
                    previous.resources[file.path].content_hash == file.content_hash
                    for file in result.files
                )
            ):
                self.snapshot = Snapshot(previous.resources, previous.changed_at, now)
                self._marker = marker
                return False
            resources = {}
            for file in result.files:
                old = previous.resources.get(file.path) if previous else None
                if old is not None and old.content_hash == file.content_hash:
                    resources[file.path] = old  # keeps its compressed bodies
                else:
                    resources[file.path] = Resource.of(file, result.changed_at.get(file.path, now))
            self.snapshot = Snapshot(resources, now, now)
            with self._custom_lock:
                self._custom.clear()
            self._marker = marker
            return True

    def resource(self, path: str) -> Resource | None:
        snapshot = self.snapshot
        return snapshot.resources.get(path) if snapshot else None

    def custom_feed(self, chosen: Selection, fmt: Format) -> Resource:
        """A feed for a set of topics, rendered once per change of the store."""
        path = feed_path(chosen, fmt)
        with self._custom_lock:
            found = self._custom.get(path)
        if found is not None:
            return found
        snapshot = self.snapshot
        changed_at = snapshot.changed_at if snapshot else self.clock()
        document = collect_documents(self.site, self.store, [chosen])[0]
        resource = Resource.of(render_feed(document, [fmt])[0], changed_at)
        with self._custom_lock:
            if snapshot is self.snapshot:  # not rendered from data a refresh has replaced
                self._custom[path] = resource
                while len(self._custom) > CUSTOM_FEEDS_KEPT:
                    self._custom.popitem(last=False)
        return resource
