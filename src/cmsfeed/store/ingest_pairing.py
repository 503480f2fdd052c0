"""Which stored row each item of a fetch is: versions paired by (story key, language). Pure:
no I/O (the rows are read by `item_writer`).

A story split into language versions stores the version in its title's language under the
story's key and every other one under `story_key#language` (see `ingest.prepare`). When the
title changes script between fetches (an English title becomes Russian), the Russian version
takes the story's key. Paired by key, the stored English row would be overwritten with the
Russian text, the stored Russian row left behind as a duplicate, and the English version
inserted again under a new id. So within one story, in this order:

1. an item and a stored row with the same key and the same language are one;
2. else an item and a stored row of the same language are one, and it keeps the row's id,
   whichever version holds the story's key now. The row takes the item's key, unless
   another row of the story holds that key: then the item takes the row's key (keys are
   unique, and a version's id never moves to another);
3. else an item and a stored row with the same key are one: a story of one version whose
   language was identified differently, or a row whose language an operator set by hand
   (`items tag --lang`), is updated in place, as before.

An item left over is new. If another row of its story holds its key, it takes the first of
`story_key#language`, `story_key#language#2`, ... that no row of the story holds, so it is
stored, never dropped as a conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from cmsfeed.model import Item, make_item_id

Row = Mapping[str, Any]  # a stored item's "id", "key", "story_key" and "language", at least


def pair_versions(
    items: Iterable[Item], rows: Iterable[Row]
) -> tuple[dict[str, Item], dict[str, Row]]:
    """The items to write by key (an item paired by language carries its row's key and id),
    and the stored row of each that has one, by the same key."""
    by_story: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_story[item.story_key or item.key].append(item)
    story_of_key = {item.key: story for story, found in by_story.items() for item in found}
    rows_by_story: dict[str, list[Row]] = defaultdict(list)
    for row in {row["id"]: row for row in rows}.values():
        # A row holding an item's key belongs with that item's story, whatever story it was
        # stored under, so that no item meets its own key as a conflict (rule 3).
        story = story_of_key.get(row["key"]) or row["story_key"]
        if story in by_story:
            rows_by_story[story].append(row)
    written: dict[str, Item] = {}
    stored: dict[str, Row] = {}
    for story, versions in by_story.items():
        for item, paired in _pair_story(story, versions, rows_by_story.get(story, [])):
            written[item.key] = item
            if paired is not None:
                stored[item.key] = paired
    return written, stored


def _pair_story(story: str, versions: list[Item], rows: list[Row]) -> list[tuple[Item, Row | None]]:
    """One story's items, each with its stored row (rules 1-3 of the module docstring)."""
    if not rows:  # a new story: the first ingest's common case
        return [(item, None) for item in versions]
    pairs: list[tuple[Item, Row | None]] = []
    open_rows = list(rows)
    left = list(versions)
    for same in (_same_key_and_language, _same_language, _same_key):
        waiting = []
        for item in left:
            row = next((row for row in open_rows if same(item, row)), None)
            if row is None:
                waiting.append(item)
                continue
            open_rows.remove(row)
            held_by_another = any(other["key"] == item.key for other in rows if other is not row)
            key = row["key"] if held_by_another else item.key
            pairs.append((replace(item, key=key, id=row["id"]), row))
        left = waiting
    held = {row["key"] for row in rows} | {item.key for item, _ in pairs}
    for item in left:
        key = _free_key(story, item, held)
        held.add(key)
        moved = item if key == item.key else replace(item, key=key, id=make_item_id(key))
        pairs.append((moved, None))
    return pairs


def _same_key_and_language(item: Item, row: Row) -> bool:
    return bool(item.key == row["key"] and item.language == row["language"])


def _same_language(item: Item, row: Row) -> bool:
    return bool(item.language == row["language"])


def _same_key(item: Item, row: Row) -> bool:
    return bool(item.key == row["key"])


def _free_key(story: str, item: Item, held: set[str]) -> str:
    """`item`'s key, or the first key for its language that no row of the story holds."""
    if item.key not in held:
        return item.key
    key = f"{story}#{item.language}"
    number = 2
    while key in held:
        key = f"{story}#{item.language}#{number}"
        number += 1
    return key
