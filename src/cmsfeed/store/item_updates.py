"""Writing items: a fetch's batch (through `item_writer`) and tags set by hand.
Does I/O (the database). A part of the `Store` facade (store/facade.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from cmsfeed.errors import ItemNotFoundError
from cmsfeed.model import Item
from cmsfeed.store.engine import StorePart
from cmsfeed.store.item_writer import ItemWriter, UpsertCounts
from cmsfeed.store.rows import materialize_items, replace_topics
from cmsfeed.store.schema import items

_NOT_FOUND = "no item with this id (see `cmsfeed items list`)"


class ItemUpdates(StorePart):
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
                raise ItemNotFoundError(item_id, _NOT_FOUND)
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
            (tagged,) = materialize_items(connection, select(items).where(items.c.id == item_id))
        return tagged
