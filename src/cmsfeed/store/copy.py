"""Copying a whole store into another database, e.g. SQLite to PostgreSQL. Does I/O (both).

Every table of the schema is copied row for row, parents before children, streamed in
chunks so memory stays flat, inside one transaction on the target: a copy that fails leaves
the target as empty as it was. Values go through the same column types (`UtcDateTime`), so
SQLite's text times arrive as `timestamptz`. Afterwards PostgreSQL's id sequence of the
outbox is moved past the copied ids, and the row counts of both sides are compared.

Stop every worker writing to the source first; the target must be empty. Called as
`Store.copy_into` (store/facade.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.errors import StoreError
from cmsfeed.store import migrate
from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import first_line
from cmsfeed.store.schema import metadata

Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table name -> rows copied


def copy_store(
    source: StorePart,
    target: StorePart,
    *,
    chunk_size: int = 2000,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every row of `source` into the empty `target` (both at the current schema)."""
    head = migrate.head_revision()
    for store in (source, target):
        try:
            revision = migrate.current_revision(store.engine)
        except SQLAlchemyError as err:  # named by the store that failed, source or target
            raise StoreError(store.label, f"cannot connect: {first_line(err)}") from err
        if revision != head:
            raise StoreError(
                store.label, f"schema is not current ({head}); run `cmsfeed db upgrade` on it first"
            )
    if source.label == target.label:
        raise StoreError(target.label, "is the source itself; name another database")
    copied: dict[str, int] = {}
    try:
        with source.engine.connect() as reading, target.engine.begin() as writing:
            for table in metadata.sorted_tables:
                if _count(writing, table):
                    raise StoreError(
                        target.label,
                        f"table {table.name} is not empty; copy into a new, empty database",
                    )
            for table in metadata.sorted_tables:
                copied[table.name] = _copy_table(reading, writing, table, chunk_size, progress)
                if _count(writing, table) != _count(reading, table):
                    raise StoreError(
                        target.label,
                        f"table {table.name}: row counts differ "
                        "after the copy; is a worker still writing "
                        "to the source?",
                    )
            if writing.dialect.name == "postgresql":
                _advance_sequences(writing)
    except SQLAlchemyError as err:
        raise StoreError(target.label, f"cannot copy: {first_line(err)}") from err
    return CopyReport(copied)


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _copy_table(
    reading: Connection,
    writing: Connection,
    table: Table,
    chunk_size: int,
    progress: Progress | None,
) -> int:
    order = list(table.primary_key.columns)
    result = reading.execution_options(stream_results=True, yield_per=chunk_size).execute(
        select(table).order_by(*order)
    )
    done = 0
    for chunk in result.mappings().partitions():
        writing.execute(insert(table), [dict(row) for row in chunk])
        done += len(chunk)
        if progress is not None:
            progress(table.name, done)
    return done


def _advance_sequences(connection: Connection) -> None:
    """Serial ids continue after the copied ones (explicit ids do not move a sequence)."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True:  # the outbox id (the others are not serial)
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )
