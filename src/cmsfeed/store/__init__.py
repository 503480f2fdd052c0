"""The store: the only place that speaks SQL. Does I/O (the database).

`Store` (store/facade.py) is the one typed boundary the rest of cmsfeed uses; it runs on
SQLite (the embedded default, a file in WAL mode) and PostgreSQL (psycopg 3) from the same
code, and every failure of the database is a `StoreError`.
"""

from cmsfeed.store.engine import hide_password
from cmsfeed.store.facade import Store
from cmsfeed.store.item_writer import UpsertCounts
from cmsfeed.store.sources import SourceState

__all__ = ["SourceState", "Store", "UpsertCounts", "hide_password"]
