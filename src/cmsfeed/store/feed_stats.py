"""How many stories each standard feed holds and when its newest was published, for the index.

Does I/O (reads the database; writes nothing); a part of the `Store` facade (store/facade.py).
Counted in the database, not from the rendered feeds, which stop at `feeds.entries`. A feed of
all languages lists a story told in several languages once
(`cmsfeed.feeds.document.one_version_per_story`), so its count is of stories: versions linked as
translations count once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement

from cmsfeed.model import FeedCount, FeedCounts
from cmsfeed.store.engine import StorePart
from cmsfeed.store.schema import item_topics, items


class FeedStats(StorePart):
    def feed_counts(self) -> FeedCounts:
        """(topic or None, language or None) -> count and newest publication, non-empty feeds."""
        story = func.coalesce(items.c.translation_group, items.c.id)
        joined = items.join(item_topics, item_topics.c.item_id == items.c.id)
        newest = func.max(items.c.published_at)
        queries: list[tuple[Any, ColumnElement[Any] | None, ColumnElement[Any] | None]] = [
            (
                select(item_topics.c.topic_id, items.c.language, func.count(), newest)
                .select_from(joined)
                .group_by(item_topics.c.topic_id, items.c.language),
                item_topics.c.topic_id,
                items.c.language,
            ),
            (
                select(item_topics.c.topic_id, func.count(func.distinct(story)), newest)
                .select_from(joined)
                .group_by(item_topics.c.topic_id),
                item_topics.c.topic_id,
                None,
            ),
            (
                select(items.c.language, func.count(), newest).group_by(items.c.language),
                None,
                items.c.language,
            ),
            (select(func.count(func.distinct(story)), newest).select_from(items), None, None),
        ]
        found: dict[tuple[str | None, str | None], FeedCount] = {}
        with self.engine.connect() as connection:
            for query, topic_column, language_column in queries:
                for row in connection.execute(query):
                    values = list(row)
                    topic = values.pop(0) if topic_column is not None else None
                    language = values.pop(0) if language_column is not None else None
                    count, newest_at = values
                    if count:
                        found[(topic, language)] = FeedCount(int(count), newest_at)
        return found
