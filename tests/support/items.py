"""The tests' one `make_item`: a stored-shape Item from a title and what the test cares about.

Defaults: an English story about argali, published at T0, with a short summary and a URL made
from its id; the key (hence the id) follows from language and title unless given, so two
calls with the same title and language make the same item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from cmsfeed.model import Item, make_item_id
from support.clock import T0


class _FromId:
    """The default URL: made from the item's id (None means a story without URL)."""


FROM_ID: Final = _FromId()


def make_item(
    title: str,
    *,
    key: str | None = None,
    topics: Sequence[str] = ("argali",),
    language: str = "en",
    published_at: datetime = T0,
    updated_at: datetime | None = None,
    url: str | _FromId | None = FROM_ID,
    summary: str = "<p>Rangers counted the herd.</p>",
    translation_group: str | None = None,
    image_url: str | None = None,
) -> Item:
    key = key or f"test:{language}:{title}"
    item_id = make_item_id(key)
    return Item(
        id=item_id,
        key=key,
        source_id="test",
        title=title,
        summary=summary,
        language=language,
        published_at=published_at,
        updated_at=updated_at or published_at,
        topics=tuple(topics),
        url=f"https://news.example/{item_id}" if isinstance(url, _FromId) else url,
        translation_group=translation_group,
        image_url=image_url,
    )
