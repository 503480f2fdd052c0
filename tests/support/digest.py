"""Helpers for the digest, mail, subscriber and scheduler tests: stores opened on a test's
config (closed by conftest after each test) and the site secret for signed links."""

from __future__ import annotations

from cmsfeed.config import Config
from cmsfeed.store import Store

SECRET = "test-secret-for-links"


# Stores opened by `open_stores`; conftest closes them after each test, so no database
# connection outlives its test (psycopg warns about those, and warnings are errors).
OPENED: list[Store] = []


def open_stores(config: Config) -> tuple[Store, Store]:
    store = Store.open(config.store.url)
    OPENED.append(store)
    return store, store
