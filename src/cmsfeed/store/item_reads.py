"""Reading items: one, a filtered list, those a digest round may choose, a change marker.
Does I/O (the database). A part of the `Store` facade (store/facade.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from cmsfeed.errors import ItemNotFoundError
from cmsfeed.model import Item
from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import chunks, materialize_items
from cmsfeed.store.schema import item_topics, items


class ItemReads(StorePart):
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
            return materialize_items(connection, query)

    def count_items(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(items)).scalar_one())

    def available_items(
        self, lower: datetime, now: datetime, languages: Iterable[str]
    ) -> list[Item]:
        """Items first seen or published after `lower` and available by `now` (both known)."""
        query = (
            select(items)
            .where(or_(items.c.first_seen_at > lower, items.c.published_at > lower))
            .where(items.c.first_seen_at <= now, items.c.published_at <= now)
            .where(items.c.language.in_(sorted(set(languages))))
            .order_by(items.c.published_at.desc(), items.c.id)
        )
        with self.engine.connect() as connection:
            return materialize_items(connection, query)

    def get_items(self, item_ids: Sequence[str]) -> dict[str, Item]:
        """The items of these ids that exist, by id."""
        found: dict[str, Item] = {}
        with self.engine.connect() as connection:
            for chunk in chunks(item_ids):
                query = select(items).where(items.c.id.in_(chunk))
                for item in materialize_items(connection, query):
                    found[item.id] = item
        return found

    def content_marker(self) -> tuple[Any, ...]:
        """A cheap summary of the items that changes whenever a feed's content can have changed.

        Counts and newest times of items and their topics: an insert or an edit moves it, and a
        retag that adds or removes topics does; one that only swaps them does not (the server's
        periodic full refresh catches that).
        """
        with self.engine.connect() as connection:
            item_row = connection.execute(
                select(
                    func.count(),
                    func.max(items.c.updated_at),
                    func.max(items.c.first_seen_at),
                    func.count(items.c.language_override),
                    func.count(items.c.topics_override),
                )
            ).one()
            topics_row = connection.execute(select(func.count()).select_from(item_topics)).one()
        return (*tuple(item_row), *tuple(topics_row))
