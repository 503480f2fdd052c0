"""Row-level helpers the store modules share: inserting items, topics, chunked IN lists.
Does I/O (the database, through the connection it is given)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from cmsfeed.errors import StoreError
from cmsfeed.model import Item
from cmsfeed.store.schema import item_topics, items

# SQLite caps bound parameters per statement; lists stay well below it.
IN_CHUNK = 500


def insert_items(connection: Connection, new: list[Item], now: datetime) -> int:
    """Insert in two statements; a row another worker inserted first is skipped, no error."""
    if not new:
        return 0
    rows = [_row(item, now) for item in new]
    statement = insert_ignoring_conflicts(connection, items)
    if connection.dialect.name == "sqlite":
        # sqlite3's executemany counts the rows it inserted and is several times faster than
        # RETURNING, which SQLAlchemy runs row by row here. Topics of a row that another
        # process inserted first are the same rows again, ignored as conflicts.
        count = connection.execute(statement, rows).rowcount
        inserted = {item.id for item in new}
    else:
        # RETURNING, not rowcount: a many-row insert on PostgreSQL reports no usable rowcount.
        inserted = set(connection.execute(statement.returning(items.c.id), rows).scalars())
        count = len(inserted)
    topics = [
        {"item_id": item.id, "topic_id": topic}
        for item in new
        if item.id in inserted
        for topic in dict.fromkeys(item.topics)
    ]
    if topics:
        connection.execute(insert_ignoring_conflicts(connection, item_topics), topics)
    return count


def _row(item: Item, now: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "key": item.key,
        "source_id": item.source_id,
        "url": item.url,
        "title": item.title,
        "summary": item.summary,
        "language": item.language,
        "language_uncertain": item.language_uncertain,
        "published_at": item.published_at,
        "updated_at": item.updated_at,
        "first_seen_at": now,
        "translation_group": item.translation_group,
        "image_url": item.image_url,
        "content_hash": item.content_hash,
        "story_key": item.story_key,
        "identity": item.identity,
        "story_hash": item.story_hash,
    }


def replace_topics(connection: Connection, item_id: str, topics: Iterable[str]) -> None:
    connection.execute(delete(item_topics).where(item_topics.c.item_id == item_id))
    rows = [{"item_id": item_id, "topic_id": topic} for topic in dict.fromkeys(topics)]
    if rows:
        connection.execute(insert(item_topics), rows)


def topics_of(connection: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for chunk in chunks(ids):
        for item_id, topic in connection.execute(
            select(item_topics.c.item_id, item_topics.c.topic_id)
            .where(item_topics.c.item_id.in_(chunk))
            .order_by(item_topics.c.topic_id)
        ):
            found[item_id].append(topic)
    return found


def insert_ignoring_conflicts(connection: Connection, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, so that two workers writing at once never fail."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield list(values[start : start + IN_CHUNK])


def store_error(label: str, what: str, err: Exception) -> StoreError:
    """The one way a store part reports a database failure: "LABEL: cannot WHAT: first line"."""
    return StoreError(label, f"cannot {what}: {first_line(err)}")


def first_line(err: Exception) -> str:
    return str(getattr(err, "orig", None) or err).strip().splitlines()[0]
