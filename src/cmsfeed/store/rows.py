"""Row-level helpers the store's parts share: inserting and reading items with their topics,
charging a subscriber a hard failure, chunked IN lists, a database error's first line.
Does I/O (the database, through the connection it is given)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cmsfeed.model import Item
from cmsfeed.store.schema import item_topics, items, subscribers

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


# The columns an insert of an item fills (the others are null or take their server default),
# in the order of `item_values`.
ITEM_COLUMNS = (
    "id",
    "key",
    "source_id",
    "url",
    "title",
    "summary",
    "language",
    "language_uncertain",
    "published_at",
    "updated_at",
    "first_seen_at",
    "translation_group",
    "image_url",
    "content_hash",
    "story_key",
    "identity",
    "story_hash",
)


def item_values(item: Item, now: datetime) -> tuple[Any, ...]:
    """The values of ITEM_COLUMNS for a new `item` first seen `now`."""
    return (
        item.id,
        item.key,
        item.source_id,
        item.url,
        item.title,
        item.summary,
        item.language,
        item.language_uncertain,
        item.published_at,
        item.updated_at,
        now,
        item.translation_group,
        item.image_url,
        item.content_hash,
        item.story_key,
        item.identity,
        item.story_hash,
    )


def _row(item: Item, now: datetime) -> dict[str, Any]:
    return dict(zip(ITEM_COLUMNS, item_values(item, now), strict=True))


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


def first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def materialize_items(connection: Connection, query: Select[Any]) -> list[Item]:
    """The items `query` selects (rows of `items`), with their topics and translations."""
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


def charge_hard_failure(
    connection: Connection, subscriber_id: str, error: str, now: datetime, max_hard_failures: int
) -> bool:
    """One more hard failure; suspend at `max_hard_failures`. True when this suspended."""
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(hard_failures=subscribers.c.hard_failures + 1)
    )
    return suspend_active(
        connection,
        subscriber_id,
        error,
        now,
        subscribers.c.hard_failures >= max_hard_failures,
    )


def suspend_active(
    connection: Connection,
    subscriber_id: str,
    reason: str,
    at: datetime,
    *conditions: ColumnElement[bool],
) -> bool:
    """Suspend the subscriber if active (and `conditions` hold); True when this changed them.
    When and why show in `subscribers list`; `subscribers reactivate` undoes it; the version
    moves on, so links made before go stale."""
    result = connection.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status == "active", *conditions)
        .values(
            status="suspended",
            suspended_at=at,
            suspended_reason=reason[:500],
            version=subscribers.c.version + 1,
        )
    )
    return bool(result.rowcount)
