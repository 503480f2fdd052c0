"""Connecting to the database: the engine, SQLite's tuning, private files, the schema version.
Does I/O (the database and, for SQLite, its files).

`open_engine` turns a store URL into an engine and the label errors name (the URL with its
password hidden); the schema itself is brought up to date by `upgrade_schema`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cmsfeed.errors import StoreError
from cmsfeed.private_files import private_file
from cmsfeed.store import migrate

_CREDENTIALS = re.compile(r"(^|//)([^:/@\s]*):[^@/\s]*@")  # a "/" in a password is %2F


def open_engine(url: str) -> tuple[Engine, str]:
    """An engine for the database at `url` (no connection yet) and its label for errors."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as err:  # ValueError: e.g. a port that is no number
        raise StoreError(
            hide_password(url),
            "not a database URL (expected e.g. "
            "sqlite:///cmsfeed.db or postgresql://user@host/dbname)",
        ) from err
    label = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _private_sqlite_files(Path(parsed.database))
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as err:
        raise StoreError(label, f"cannot use this database: {err}") from err
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", tune_sqlite)
    return engine, label


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to this cmsfeed's head revision (nothing when it is there already)."""
    if migrate.current_revision(engine) != migrate.head_revision():
        migrate.upgrade(engine)


def schema_revision(engine: Engine) -> str | None:
    """The schema version the database has (None: empty); connects, so it proves access."""
    return migrate.current_revision(engine)


def hide_password(url: str) -> str:
    """`url` fit for a log or an error message, even when it cannot be parsed."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _CREDENTIALS.sub(r"\1\2:***@", url)


def _private_sqlite_files(database: Path) -> None:
    """The store holds subscribers' addresses: its file is 0600 before SQLite first opens it.

    SQLite gives the -wal and -shm files it creates the database file's mode; ones an older
    version left wider are narrowed too.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            private_file(companion)


def tune_sqlite(dbapi_connection: Any, _record: Any = None) -> None:
    """The settings every SQLite connection of the store runs with (the benchmarks' floors too)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # A big ingest rewrites the same index pages batch after batch: checkpointing every
    # 20,000 pages (some 80 MiB of WAL) instead of SQLite's 1,000 writes each page back to
    # the database far fewer times, and a larger page cache and memory-mapped reads keep
    # those pages at hand. Durability is unchanged: still WAL with synchronous=NORMAL, and a
    # checkpoint still runs, only less often (and when the last connection closes).
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.execute("PRAGMA cache_size=-65536")  # KiB: up to 64 MiB, taken as pages are read
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


class StorePart:
    """What each part of the `Store` facade works on: the engine and the label errors name."""

    engine: Engine
    label: str  # the URL without its password, the subject of StoreError
