"""The store: the only place that speaks SQL. Does I/O (the database).

`Store` is the typed boundary the rest of cmsfeed uses; it runs on SQLite (the embedded
default, a file in WAL mode) and PostgreSQL (psycopg 3) from the same code.
"""

from cmsfeed.store.item_writer import UpsertCounts
from cmsfeed.store.items import SourceState, Store

__all__ = ["SourceState", "Store", "UpsertCounts"]
