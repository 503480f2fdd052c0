"""Which stored story a story without id or URL may be an edit of: the candidates its edit
sketches share, weighed by the evidence. Pure: no I/O (`item_writer` reads the rows and
decides; see its docstring for the rules).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cmsfeed.identity import EDIT_SIMILARITY, edit_sketches, similarity
from cmsfeed.model import Item

# A story compared with more stored ones than this (through shared sketches) is ambiguous:
# the bound keeps the lookup linear however many stories share a title's words.
MAX_CANDIDATES = 8

SketchIndex = dict[tuple[str, date, str], list[str]]  # (source, day, sketch) -> stored ids


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    story_key: str
    language: str
    language_override: str | None


def sketch_index(rows: Mapping[str, Any]) -> SketchIndex:
    """The stored stories' edit sketches, by source and day: what a candidate is found by."""
    index: SketchIndex = defaultdict(list)
    for row in rows.values():
        day = (row["source_id"], row["published_at"].date())
        for sketch in edit_sketches(row["title"], row["summary"]):
            index[(*day, sketch)].append(row["id"])
    return index


def edit_candidates(
    item: Item,
    index: SketchIndex,
    texts: Mapping[str, Any],
    open_ids: Mapping[str, Candidate],
) -> tuple[dict[str, int], bool]:
    """Stored stories `item` may be an edit of, each with the strength of the evidence (how
    many kinds of sketch it shares: the same summary, a title one word apart), and whether
    there were too many to look at."""
    day = (item.source_id, item.published_at.date())
    kinds: dict[str, set[str]] = defaultdict(set)
    for sketch in sorted(edit_sketches(item.title, item.summary)):
        for item_id in index.get((*day, sketch), ()):
            if item_id not in kinds and len(kinds) == MAX_CANDIDATES:
                return dict.fromkeys(kinds, 0), True
            if _same_language(open_ids[item_id], item):
                kinds[item_id].add(sketch[0])
    after = f"{item.title} {item.summary}"
    return {
        item_id: len(found)
        for item_id, found in kinds.items()
        if similarity(f"{texts[item_id]['title']} {texts[item_id]['summary']}", after)
        >= EDIT_SIMILARITY
    }, False


def _same_language(candidate: Candidate, item: Item) -> bool:
    # A language set by hand may differ from what the classifier says of the edit.
    return candidate.language in (item.language, candidate.language_override)
