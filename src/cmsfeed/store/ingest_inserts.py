"""Inserting a fetch's new items on SQLite in one driver call per table. Does I/O (the
database, through the connection it is given).

SQLAlchemy prepares a many-row insert row by row in Python (each row's parameters, then a
type processor per value), which on a first ingest cost more than SQLite's own work. Here the
rows go to the driver as tuples, each value converted once by the bind processor SQLAlchemy
itself would apply to its column (so what is stored is the same, to the byte:
tests/test_ingest_inserts.py compares the rows with `rows.insert_items`). PostgreSQL keeps
`rows.insert_items`, whose RETURNING tells which rows another worker inserted first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table

from cmsfeed.model import Item
from cmsfeed.store.rows import ITEM_COLUMNS, insert_items, item_values
from cmsfeed.store.schema import item_topics, items


def insert_new_items(connection: Connection, new: Sequence[Item], now: datetime) -> int:
    """Insert `new` (rows another writer inserted first are skipped); how many went in."""
    if not new:
        return 0
    if connection.dialect.name != "sqlite":
        return insert_items(connection, list(new), now)
    convert = _converters(connection, items, ITEM_COLUMNS)
    rows = [
        tuple(
            value if to_sql is None else to_sql(value)
            for value, to_sql in zip(item_values(item, now), convert, strict=True)
        )
        for item in new
    ]
    count = connection.exec_driver_sql(_insert_sql(items, ITEM_COLUMNS), rows).rowcount
    # Topics of a row another process inserted first are the same rows again, ignored.
    topics = [(item.id, topic) for item in new for topic in dict.fromkeys(item.topics)]
    if topics:
        connection.exec_driver_sql(_insert_sql(item_topics, ("item_id", "topic_id")), topics)
    return int(count)


def _converters(
    connection: Connection, table: Table, names: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    """Each column's bind processor on this dialect: what SQLAlchemy would make of a value."""
    columns: list[Column[Any]] = [table.c[name] for name in names]
    dialect = connection.dialect
    # dialect_impl: the type as this dialect runs it (SQLite's own DATETIME, say), as
    # SQLAlchemy's statements do; the generic type's processor writes times differently.
    return [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]


def _insert_sql(table: Table, names: Sequence[str]) -> str:
    marks = ", ".join("?" for _ in names)
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
