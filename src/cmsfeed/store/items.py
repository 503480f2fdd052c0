"""Reading and writing items and source state. Does I/O (the database)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from cmsfeed.errors import ItemNotFoundError, StoreError
from cmsfeed.model import Item
from cmsfeed.private_files import private_file
from cmsfeed.store import migrate
from cmsfeed.store.schema import item_topics, items, source_states

_CREDENTIALS = re.compile(r"(^|//)([^:/@\s]*):[^@/\s]*@")  # a "/" in a password is %2F
# SQLite caps bound parameters per statement; batches stay well below it.
_IN_CHUNK = 500
# What an upsert reads of a stored item to decide between unchanged, retagged and updated.
_UPSERT_COLUMNS = (
    items.c.id,
    items.c.key,
    items.c.content_hash,
    items.c.language,
    items.c.updated_at,
    items.c.translation_group,
    items.c.language_override,
    items.c.topics_override,
)
# An unmatched story this alike to a stored one of the same source and day is an edit of it.
EDIT_SIMILARITY = 0.6


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    retagged: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.retagged + other.retagged,
            self.unchanged + other.unchanged,
        )

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.retagged


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
                self.label, f"cannot open or migrate the database: {_first_line(err)}"
            ) from err

    def schema_revision(self) -> str | None:
        """The schema version the database has (None: empty); connects, so it proves access."""
        try:
            return migrate.current_revision(self.engine)
        except SQLAlchemyError as err:
            raise StoreError(self.label, f"cannot connect: {_first_line(err)}") from err

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------------------

    def upsert_items(self, batch: Sequence[Item], now: datetime) -> UpsertCounts:
        """Insert new items, update edited ones (same id, new `updated_at`), retag the rest.

        Items are matched by key. Hand-set language and topics (`tag_item`) win over the
        classifier's. Running the same batch twice changes nothing the second time.
        """
        if not batch:
            return UpsertCounts()
        try:
            with self.engine.begin() as connection:
                return self._upsert(connection, batch, now)
        except SQLAlchemyError as err:
            raise StoreError(self.label, f"cannot write items: {_first_line(err)}") from err

    def _upsert(self, connection: Connection, batch: Sequence[Item], now: datetime) -> UpsertCounts:
        unique = {item.key: item for item in batch}  # a source repeating a story: last one wins
        rows = (
            connection.execute(select(*_UPSERT_COLUMNS).where(items.c.key.in_(list(unique))))
            .mappings()
            .all()
        )
        stored: dict[str, Any] = {row["key"]: row for row in rows}
        stored.update(self._find_edited(connection, unique, stored))
        stored_topics = self._topics_of(connection, [row["id"] for row in stored.values()])
        new = [item for key, item in unique.items() if key not in stored]
        inserted = self._insert_items(connection, new, now)
        updated = retagged = unchanged = 0
        for key, item in unique.items():
            row = stored.get(key)
            if row is None:
                continue
            language = row["language_override"] or item.language
            override = row["topics_override"]
            topics = tuple(json.loads(override)) if override is not None else item.topics
            values: dict[str, Any] = {}
            if row["key"] != key:  # an edit that changed what the key is made of (the title)
                values["key"] = key
            if row["content_hash"] != item.content_hash:
                values.update(
                    url=item.url,
                    title=item.title,
                    summary=item.summary,
                    published_at=item.published_at,
                    image_url=item.image_url,
                    content_hash=item.content_hash,
                    updated_at=item.updated_at if item.updated_at > row["updated_at"] else now,
                )
            if row["language"] != language:
                values["language"] = language
            if row["translation_group"] != item.translation_group:
                values["translation_group"] = item.translation_group
            topics_changed = set(stored_topics.get(row["id"], ())) != set(topics)
            if values:
                connection.execute(update(items).where(items.c.id == row["id"]).values(**values))
            if topics_changed:
                self._replace_topics(connection, row["id"], topics)
            if "content_hash" in values:
                updated += 1
            elif values or topics_changed:
                retagged += 1
            else:
                unchanged += 1
        return UpsertCounts(inserted, updated, retagged, unchanged)

    def _find_edited(
        self, connection: Connection, unique: dict[str, Item], stored: dict[str, Any]
    ) -> dict[str, Any]:
        """Stored rows that unmatched items are edits of, by new key.

        A source without URLs or guids (a listing) gives stories a key made from the date and
        the title, so fixing a typo in a title changes the key. Before such a story is taken
        for new, it is compared with the stored stories of the same source, day and language
        that this batch does not account for; a close enough one is the same story, keeps its
        id (readers must not see a duplicate) and takes the new key.
        """
        unmatched = [item for key, item in unique.items() if key not in stored]
        if not unmatched:
            return {}
        matched_ids = {row["id"] for row in stored.values()}
        candidates = (
            connection.execute(
                select(
                    *_UPSERT_COLUMNS,
                    items.c.title,
                    items.c.summary,
                    items.c.source_id,
                    items.c.published_at,
                ).where(
                    items.c.source_id.in_({item.source_id for item in unmatched}),
                    items.c.published_at.in_({item.published_at for item in unmatched}),
                    items.c.key.not_in(list(unique)),
                )
            )
            .mappings()
            .all()
        )
        found: dict[str, Any] = {}
        for item in unmatched:
            best, best_score = None, EDIT_SIMILARITY
            for row in candidates:
                if (
                    row["id"] in matched_ids
                    or row["source_id"] != item.source_id
                    or row["published_at"] != item.published_at
                    or row["language"] not in (item.language, row["language_override"])
                ):
                    continue
                score = _similarity(
                    f"{row['title']} {row['summary']}", f"{item.title} {item.summary}"
                )
                if score >= best_score:
                    best, best_score = row, score
            if best is not None:
                found[item.key] = best
                matched_ids.add(best["id"])
        return found

    def _insert_items(self, connection: Connection, new: list[Item], now: datetime) -> int:
        """Insert in two statements; a row another worker inserted first is skipped, no error."""
        if not new:
            return 0
        # RETURNING, not rowcount: a many-row insert on PostgreSQL reports no usable rowcount.
        inserted = set(
            connection.execute(
                _insert_ignoring_conflicts(connection, items).returning(items.c.id),
                [_row(item, now) for item in new],
            ).scalars()
        )
        topics = [
            {"item_id": item.id, "topic_id": topic}
            for item in new
            if item.id in inserted
            for topic in dict.fromkeys(item.topics)
        ]
        if topics:
            connection.execute(_insert_ignoring_conflicts(connection, item_topics), topics)
        return len(inserted)

    def _replace_topics(self, connection: Connection, item_id: str, topics: Iterable[str]) -> None:
        connection.execute(delete(item_topics).where(item_topics.c.item_id == item_id))
        rows = [{"item_id": item_id, "topic_id": topic} for topic in dict.fromkeys(topics)]
        if rows:
            connection.execute(insert(item_topics), rows)

    def tag_item(
        self, item_id: str, *, topics: Sequence[str] | None = None, language: str | None = None
    ) -> Item:
        """Set an item's topics and/or language by hand; the choice survives re-ingest."""
        with self.engine.begin() as connection:
            if connection.execute(select(items.c.id).where(items.c.id == item_id)).first() is None:
                raise ItemNotFoundError(item_id, "no item with this id (see `cmsfeed items list`)")
            values: dict[str, Any] = {}
            if language is not None:
                values.update(language=language, language_override=language)
            if topics is not None:
                values["topics_override"] = json.dumps(list(dict.fromkeys(topics)))
                self._replace_topics(connection, item_id, topics)
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
        topics = self._topics_of(connection, ids)
        groups = {row["translation_group"] for row in rows if row["translation_group"]}
        siblings: dict[str, list[str]] = defaultdict(list)
        for chunk in _chunks(sorted(groups)):
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
                translations=tuple(
                    s for s in siblings.get(row["translation_group"], ()) if s != row["id"]
                ),
            )
            for row in rows
        ]

    @staticmethod
    def _topics_of(connection: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for chunk in _chunks(ids):
            for item_id, topic in connection.execute(
                select(item_topics.c.item_id, item_topics.c.topic_id)
                .where(item_topics.c.item_id.in_(chunk))
                .order_by(item_topics.c.topic_id)
            ):
                found[item_id].append(topic)
        return found

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
            statement = _insert_ignoring_conflicts(connection, source_states)
            connection.execute(statement, [{"source_id": state.source_id, **values}])
            connection.execute(
                update(source_states)
                .where(source_states.c.source_id == state.source_id)
                .values(**values)
            )


def _similarity(before: str, after: str) -> float:
    """How alike two texts are, 0 to 1 (difflib's ratio on their first 1,000 characters)."""
    matcher = SequenceMatcher(None, before[:1000], after[:1000], autojunk=False)
    if matcher.real_quick_ratio() < EDIT_SIMILARITY or matcher.quick_ratio() < EDIT_SIMILARITY:
        return 0.0
    return matcher.ratio()


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


def _row(item: Item, now: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "key": item.key,
        "source_id": item.source_id,
        "url": item.url,
        "title": item.title,
        "summary": item.summary,
        "language": item.language,
        "published_at": item.published_at,
        "updated_at": item.updated_at,
        "first_seen_at": now,
        "translation_group": item.translation_group,
        "image_url": item.image_url,
        "content_hash": item.content_hash,
    }


def _insert_ignoring_conflicts(connection: Connection, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, so that two workers writing at once never fail."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", None) or err).strip().splitlines()[0]
