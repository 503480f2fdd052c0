"""Reading and writing items and source state. Does I/O (the database)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    create_engine,
    event,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from cmsfeed.errors import ItemNotFoundError, StoreError
from cmsfeed.model import Item
from cmsfeed.private_files import private_file
from cmsfeed.store import migrate
from cmsfeed.store.item_writer import ItemWriter, UpsertCounts
from cmsfeed.store.rows import (
    chunks,
    first_line,
    insert_ignoring_conflicts,
    replace_topics,
    topics_of,
)
from cmsfeed.store.schema import item_topics, items, source_states

_CREDENTIALS = re.compile(r"(^|//)([^:/@\s]*):[^@/\s]*@")  # a "/" in a password is %2F


@dataclass(frozen=True, slots=True)
class SourceState:
    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    checked_at: datetime | None = None
    last_error: str | None = None


class Store:
    def __init__(self, engine: Engine, label: str = "store") -> None:
        self.engine = engine
        self.label = label  # the URL without its password, the subject of StoreError

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Connect to the database at `url`; bring its schema up to date unless told not to."""
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
            event.listen(engine, "connect", _tune_sqlite)
        store = cls(engine, label)
        if upgrade:
            store.upgrade()
        return store

    def upgrade(self) -> None:
        try:
            if migrate.current_revision(self.engine) != migrate.head_revision():
                migrate.upgrade(self.engine)
        except SQLAlchemyError as err:
            raise StoreError(
                self.label, f"cannot open or migrate the database: {first_line(err)}"
            ) from err

    def schema_revision(self) -> str | None:
        """The schema version the database has (None: empty); connects, so it proves access."""
        try:
            return migrate.current_revision(self.engine)
        except SQLAlchemyError as err:
            raise StoreError(self.label, f"cannot connect: {first_line(err)}") from err

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------------------

    def writer(self, now: datetime, *, reidentify: bool = True) -> ItemWriter:
        """A writer for the items of one fetch of a source (see `item_writer`)."""
        return ItemWriter(self.engine, self.label, now, reidentify=reidentify)

    def upsert_items(
        self, batch: Sequence[Item], now: datetime, *, reidentify: bool = True
    ) -> UpsertCounts:
        """Insert new items, update edited ones (same id, new `updated_at`), retag the rest.

        The batch is one whole fetch. Items are matched by key; hand-set language and topics
        (`tag_item`) win over the classifier's. Running the same batch twice changes nothing
        the second time. `reidentify=False`: a story without id or URL whose key is new is new,
        never taken for an edit of a stored one (items added by hand).
        """
        writer = self.writer(now, reidentify=reidentify)
        return writer.write(batch) + writer.finish()

    def tag_item(
        self, item_id: str, *, topics: Sequence[str] | None = None, language: str | None = None
    ) -> Item:
        """Set an item's topics and/or language by hand; the choice survives re-ingest."""
        with self.engine.begin() as connection:
            if connection.execute(select(items.c.id).where(items.c.id == item_id)).first() is None:
                raise ItemNotFoundError(item_id, "no item with this id (see `cmsfeed items list`)")
            values: dict[str, Any] = {}
            if language is not None:
                values.update(
                    language=language, language_override=language, language_uncertain=False
                )
            if topics is not None:
                values["topics_override"] = json.dumps(list(dict.fromkeys(topics)))
                replace_topics(connection, item_id, topics)
            if values:
                connection.execute(update(items).where(items.c.id == item_id).values(**values))
        return self.get_item(item_id)

    # -- reading ---------------------------------------------------------------------------

    def get_item(self, item_id: str) -> Item:
        found = self.list_items(ids=[item_id])
        if not found:
            raise ItemNotFoundError(item_id, "no item with this id (see `cmsfeed items list`)")
        return found[0]

    def list_items(
        self,
        *,
        topics: Sequence[str] | None = None,
        language: str | None = None,
        since: datetime | None = None,
        seen_since: datetime | None = None,
        limit: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Item]:
        """Items newest first (by publication), filtered by any topic of `topics` and language."""
        query = select(items).order_by(items.c.published_at.desc(), items.c.id)
        if topics:
            query = query.where(
                exists().where(
                    and_(
                        item_topics.c.item_id == items.c.id,
                        item_topics.c.topic_id.in_(list(topics)),
                    )
                )
            )
        if language:
            query = query.where(items.c.language == language)
        if since is not None:
            query = query.where(items.c.published_at >= since)
        if seen_since is not None:
            query = query.where(items.c.first_seen_at >= seen_since)
        if ids is not None:
            query = query.where(items.c.id.in_(list(ids)))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return self._materialize(connection, query)

    def count_items(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(items)).scalar_one())

    def _materialize(self, connection: Connection, query: Select[Any]) -> list[Item]:
        rows = connection.execute(query).mappings().all()
        ids = [row["id"] for row in rows]
        topics = topics_of(connection, ids)
        groups = {row["translation_group"] for row in rows if row["translation_group"]}
        siblings: dict[str, list[str]] = defaultdict(list)
        for chunk in chunks(sorted(groups)):
            for group, sibling in connection.execute(
                select(items.c.translation_group, items.c.id)
                .where(items.c.translation_group.in_(chunk))
                .order_by(items.c.id)
            ):
                siblings[group].append(sibling)
        return [
            Item(
                id=row["id"],
                key=row["key"],
                source_id=row["source_id"],
                title=row["title"],
                summary=row["summary"],
                language=row["language"],
                published_at=row["published_at"],
                updated_at=row["updated_at"],
                topics=tuple(topics.get(row["id"], ())),
                url=row["url"],
                translation_group=row["translation_group"],
                image_url=row["image_url"],
                first_seen_at=row["first_seen_at"],
                language_uncertain=bool(row["language_uncertain"]),
                translations=tuple(
                    s for s in siblings.get(row["translation_group"], ()) if s != row["id"]
                ),
                story_key=row["story_key"] or row["key"],
                identity=row["identity"],
                story_hash=row["story_hash"],
            )
            for row in rows
        ]

    # -- sources ---------------------------------------------------------------------------

    def source_state(self, source_id: str) -> SourceState:
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(source_states).where(source_states.c.source_id == source_id)
                )
                .mappings()
                .first()
            )
        return SourceState(**row) if row else SourceState(source_id)

    def save_source_state(self, state: SourceState) -> None:
        values = {
            "etag": state.etag,
            "last_modified": state.last_modified,
            "checked_at": state.checked_at,
            "last_error": state.last_error,
        }
        with self.engine.begin() as connection:
            statement = insert_ignoring_conflicts(connection, source_states)
            connection.execute(statement, [{"source_id": state.source_id, **values}])
            connection.execute(
                update(source_states)
                .where(source_states.c.source_id == state.source_id)
                .values(**values)
            )


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


def hide_password(url: str) -> str:
    """`url` fit for a log or an error message, even when it cannot be parsed."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _CREDENTIALS.sub(r"\1\2:***@", url)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
