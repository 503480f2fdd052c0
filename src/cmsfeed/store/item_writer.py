"""Writing the items of one fetch of a source. Does I/O (the database).

Items are matched to stored ones by story and language (`ingest_pairing`; keys are made by
`cmsfeed.identity`): an item with the key, or the story key and language, of a stored one is
that item, unchanged, retagged or edited, and keeps its id. An item without one is new,
with one exception: a story known only by its fingerprint (no id, no URL) whose title was
edited has a new fingerprint. Before it is taken for new, it is looked up among the stored
fingerprinted stories of the same source and day that this fetch has not seen, through an
index of `edit_sketches`, so the cost is linear in the stories, and confirmed by the
similarity of title and summary. A story this fetch holds is never a candidate (two stories of
one file are never joined). Evidence is weighed strongest first (the same summary and a title
one word apart, then either); a story with several candidates of equal evidence, or a
candidate that two stories claim with equal evidence, is ambiguous: reported, never guessed
(the story is stored as new).

Because a candidate might still appear later in the same fetch, such stories wait until
`finish`, when the fetch has been seen whole.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.errors import StoreError
from cmsfeed.identity import fingerprint_before_full_titles
from cmsfeed.model import Item
from cmsfeed.store.ingest_edits import Candidate, edit_candidates, sketch_index
from cmsfeed.store.ingest_inserts import insert_new_items
from cmsfeed.store.ingest_pairing import pair_versions
from cmsfeed.store.rows import chunks, first_line, replace_topics, topics_of
from cmsfeed.store.schema import items

# What an upsert reads of a stored item to decide between unchanged, retagged and updated.
_UPSERT_COLUMNS = (
    items.c.id,
    items.c.key,
    items.c.story_key,
    items.c.identity,
    items.c.story_hash,
    items.c.content_hash,
    items.c.language,
    items.c.language_uncertain,
    items.c.updated_at,
    items.c.translation_group,
    items.c.language_override,
    items.c.topics_override,
)
_DAY = timedelta(days=1)


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
class Reidentified:
    """A fingerprinted story taken for an edit of a stored one (its title changed)."""

    story_key: str  # the story's new key
    item_id: str
    old_title: str


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A fingerprinted story alike more than one stored story, or one another story claims."""

    story_key: str
    item_ids: tuple[str, ...]


@dataclass
class ItemWriter:
    """Writes one fetch's items in batches (`write`), then the deferred ones (`finish`).

    Each call is one transaction. `reidentified` and `ambiguous` say what `finish` decided
    about stories without id or URL, for the ingest report.
    """

    engine: Engine
    label: str
    now: datetime
    # False for items an operator adds by hand: each is its own "fetch", so every stored story
    # of that day without id or URL would look like an edit of it.
    reidentify: bool = True
    reidentified: list[Reidentified] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)
    _seen_story_keys: set[str] = field(default_factory=set)
    _claimed_ids: set[str] = field(default_factory=set)
    _deferred: dict[str, Item] = field(default_factory=dict)
    _days: dict[tuple[str, date], list[Candidate]] = field(default_factory=dict)

    # -- the calls ----------------------------------------------------------------------------

    def skip_unchanged(self, story_hashes: Mapping[str, str]) -> tuple[set[str], UpsertCounts]:
        """The stories (by story key) stored with this very hash: nothing to redo for them."""
        if not story_hashes:
            return set(), UpsertCounts()
        found: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        with self._transaction() as connection:
            for chunk in chunks(list(story_hashes)):
                for item_id, story_key, story_hash in connection.execute(
                    select(items.c.id, items.c.story_key, items.c.story_hash).where(
                        items.c.story_key.in_(chunk)
                    )
                ):
                    found[story_key].append((item_id, story_hash))
        unchanged: set[str] = set()
        rows = 0
        for story_key, stored in found.items():
            if all(stored_hash == story_hashes[story_key] for _, stored_hash in stored):
                unchanged.add(story_key)
                self._seen_story_keys.add(story_key)
                self._claimed_ids.update(item_id for item_id, _ in stored)
                rows += len(stored)
        return unchanged, UpsertCounts(unchanged=rows)

    def write(self, batch: Sequence[Item]) -> UpsertCounts:
        """Insert new items and update stored ones; hold back possible edits for `finish`."""
        if not batch:
            return UpsertCounts()
        unique = {item.key: item for item in batch}  # a source repeating a story: last one wins
        with self._transaction() as connection:
            unique, stored = pair_versions(unique.values(), self._stored_rows(connection, unique))
            stored.update(self._stored_before_full_titles(connection, unique, stored))
            self._seen_story_keys.update(item.story_key for item in unique.values())
            for row in stored.values():
                self._claimed_ids.add(row["id"])
                self._seen_story_keys.add(row["story_key"] or row["key"])
            new: list[Item] = []
            for key, item in unique.items():
                if key in stored:
                    continue
                if (
                    self.reidentify
                    and item.identity == "fingerprint"
                    and self._day_has_candidates(connection, item)
                ):
                    self._deferred[key] = item
                else:
                    new.append(item)
            counts = self._apply(connection, [(stored[k], unique[k]) for k in stored])
            return counts + UpsertCounts(inserted=insert_new_items(connection, new, self.now))

    def finish(self) -> UpsertCounts:
        """Settle the held-back stories: edits of stored ones, or new."""
        if not self._deferred:
            return UpsertCounts()
        deferred = list(self._deferred.values())
        self._deferred = {}
        with self._transaction() as connection:
            matches = self._match_edits(connection, deferred)
            edited = [(row, item) for item in deferred if (row := matches.get(item.key))]
            new = [item for item in deferred if item.key not in matches]
            counts = self._apply(connection, edited)
            return counts + UpsertCounts(inserted=insert_new_items(connection, new, self.now))

    # -- matching -----------------------------------------------------------------------------

    def _stored_rows(self, connection: Connection, unique: Mapping[str, Item]) -> list[Any]:
        """The stored rows of the batch's stories: by key, and by story key (other versions)."""
        story_keys = list({item.story_key for item in unique.values() if item.story_key})
        rows = list(self._stored_by_key(connection, list(unique)).values())
        for chunk in chunks(story_keys):
            rows += connection.execute(
                select(*_UPSERT_COLUMNS).where(items.c.story_key.in_(chunk))
            ).mappings()
        return rows

    def _stored_by_key(self, connection: Connection, keys: list[str]) -> dict[str, Any]:
        stored: dict[str, Any] = {}
        for chunk in chunks(keys):
            for row in connection.execute(
                select(*_UPSERT_COLUMNS).where(items.c.key.in_(chunk))
            ).mappings():
                stored[row["key"]] = row
        return stored

    def _stored_before_full_titles(
        self, connection: Connection, unique: Mapping[str, Item], stored: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Rows stored under the first 80 characters of a long title (before the whole title
        counted), by new key: only where exactly one story of the batch claims the old key."""
        claims: dict[str, list[str]] = defaultdict(list)
        for key, item in unique.items():
            old = fingerprint_before_full_titles(key) if item.identity == "fingerprint" else None
            if key not in stored and old is not None:
                claims[old].append(key)
        wanted = [old for old, keys in claims.items() if len(keys) == 1]
        if not wanted:
            return {}
        return {claims[old][0]: row for old, row in self._stored_by_key(connection, wanted).items()}

    def _day_has_candidates(self, connection: Connection, item: Item) -> bool:
        """Whether the store held fingerprinted stories of this source and day before the fetch.

        Each (source, day) is read once per fetch, before this fetch writes to it.
        """
        day = (item.source_id, item.published_at.date())
        if day not in self._days:
            start = datetime.combine(day[1], time(), item.published_at.tzinfo)
            self._days[day] = [
                Candidate(row.id, row.story_key or row.key, row.language, row.language_override)
                for row in connection.execute(
                    select(
                        items.c.id,
                        items.c.key,
                        items.c.story_key,
                        items.c.language,
                        items.c.language_override,
                    ).where(
                        items.c.source_id == day[0],
                        items.c.identity == "fingerprint",
                        items.c.published_at >= start,
                        items.c.published_at < start + _DAY,
                    )
                )
            ]
        return bool(self._days[day])

    def _match_edits(self, connection: Connection, deferred: list[Item]) -> dict[str, Any]:
        """Stored rows that deferred items are edits of, by item key (see the module docstring)."""
        open_ids = {
            candidate.id: candidate
            for item in deferred
            for candidate in self._days.get((item.source_id, item.published_at.date()), ())
            if candidate.id not in self._claimed_ids
            and candidate.story_key not in self._seen_story_keys
        }
        texts: dict[str, Any] = {}
        for chunk in chunks(list(open_ids)):
            for row in connection.execute(
                select(
                    *_UPSERT_COLUMNS,
                    items.c.title,
                    items.c.summary,
                    items.c.source_id,
                    items.c.published_at,
                ).where(items.c.id.in_(chunk))
            ).mappings():
                texts[row["id"]] = row
        index = sketch_index(texts)
        evidence: dict[str, dict[str, int]] = {}  # item key -> {stored id: strength}
        for item in deferred:
            alike, overflow = edit_candidates(item, index, texts, open_ids)
            if overflow:
                self.ambiguous.append(Ambiguous(item.story_key, tuple(sorted(alike))))
            else:
                evidence[item.key] = alike
        by_key = {item.key: item for item in deferred}
        matches: dict[str, Any] = {}
        # The strongest evidence first (same summary and a title one word apart), so a story
        # alike a stored one only by its title's words never contests a true edit of it.
        for strength in (2, 1):
            claims: dict[str, list[str]] = defaultdict(list)
            for key, alike in evidence.items():
                open_alike = [i for i, s in alike.items() if s == strength]
                open_alike = [i for i in open_alike if i not in self._claimed_ids]
                if len(open_alike) > 1:
                    self.ambiguous.append(
                        Ambiguous(by_key[key].story_key, tuple(sorted(open_alike)))
                    )
                    evidence[key] = {}  # reported; it is stored as new
                elif open_alike:
                    claims[open_alike[0]].append(key)
            for item_id, keys in claims.items():
                for key in keys:
                    evidence[key] = {}
                if len(keys) > 1:  # two stories of this fetch alike one: neither is its edit
                    self.ambiguous.extend(Ambiguous(by_key[k].story_key, (item_id,)) for k in keys)
                    continue
                matches[keys[0]] = texts[item_id]
                self._claimed_ids.add(item_id)
                self.reidentified.append(
                    Reidentified(by_key[keys[0]].story_key, item_id, texts[item_id]["title"])
                )
        return matches

    # -- writing ------------------------------------------------------------------------------

    def _apply(self, connection: Connection, pairs: Iterable[tuple[Any, Item]]) -> UpsertCounts:
        """Bring stored rows up to date with their items; hand-set language and topics win."""
        pairs = list(pairs)
        stored_topics = topics_of(connection, [row["id"] for row, _ in pairs])
        updated = retagged = unchanged = 0
        for row, item in pairs:
            language = row["language_override"] or item.language
            override = row["topics_override"]
            topics = tuple(json.loads(override)) if override is not None else item.topics
            values: dict[str, Any] = {}
            bookkeeping_key: dict[str, str] = {}
            if row["content_hash"] != item.content_hash:
                values.update(
                    url=item.url,
                    title=item.title,
                    summary=item.summary,
                    published_at=item.published_at,
                    image_url=item.image_url,
                    content_hash=item.content_hash,
                    updated_at=item.updated_at if item.updated_at > row["updated_at"] else self.now,
                )
            if row["language"] != language:
                values["language"] = language
            uncertain = item.language_uncertain and not row["language_override"]
            if row["language_uncertain"] != uncertain:
                values["language_uncertain"] = uncertain
            if row["translation_group"] != item.translation_group:
                values["translation_group"] = item.translation_group
            if row["key"] == fingerprint_before_full_titles(item.key):
                bookkeeping_key = {"key": item.key}  # the same title, keyed by all of it now
            elif row["key"] != item.key:  # an edit that changed what the key is made of
                values["key"] = item.key
            topics_changed = set(stored_topics.get(row["id"], ())) != set(topics)
            # Bookkeeping, not news: filling these changes nothing a reader sees.
            bookkeeping = {
                name: getattr(item, name)
                for name in ("story_key", "identity", "story_hash")
                if row[name] != getattr(item, name)
            } | bookkeeping_key
            if values or bookkeeping:
                connection.execute(
                    update(items).where(items.c.id == row["id"]).values(**values, **bookkeeping)
                )
            if topics_changed:
                replace_topics(connection, row["id"], topics)
            if "content_hash" in values:
                updated += 1
            elif values or topics_changed:
                retagged += 1
            else:
                unchanged += 1
        return UpsertCounts(0, updated, retagged, unchanged)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as err:
            raise StoreError(self.label, f"cannot write items: {first_line(err)}") from err
