"""The data cmsfeed works with, as frozen dataclasses. Pure: no I/O.

Times are timezone-aware UTC and named `*_at`. A `Story` is what a source parser read;
an `Item` is what the store keeps: one language version of a story, tagged with topics.
`SiteInfo` is what feeds, pages and emails say about the site; `Frequency` and `Weekday` are
the digest schedules. `cmsfeed.config` builds these values from config.toml; the pure core
takes them and never sees the configuration itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

Clock = Callable[[], datetime]

LATIN = "la"  # the pseudo-language of Latin species names, matched in every language

Frequency = Literal["immediate", "daily", "weekly"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FREQUENCIES: tuple[Frequency, ...] = ("immediate", "daily", "weekly")
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Story:
    """One story as a source presents it, before cleaning and tagging.

    `key` is the source's own id for the story (an RSS guid, an Atom id, a JSON `id`), if it
    gives one. Without it the story is known by its URL, and without that by a fingerprint of
    source, day and title (see `cmsfeed.identity`).
    """

    position: str
    title: str
    summary_html: str
    published_at: datetime | None
    url: str | None = None
    updated_at: datetime | None = None
    key: str | None = None
    language: str | None = None
    topics: tuple[str, ...] | None = None
    image_url: str | None = None
    # Titles the source gave per language (a JSON `title` object), in the source's order.
    titles: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TopicDefinition:
    """What tags a text with a topic: terms per language, and phrases that cancel a term.

    `exclude` names things that contain a term but are not about the species (an
    organisation, a place, a product); a term inside one of them does not count there.
    """

    topic_id: str
    terms: Mapping[str, Sequence[str]]
    exclude: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one story or a whole source, reported as one line."""

    source_id: str
    position: str
    reason: str
    rejected: bool = True

    def __str__(self) -> str:
        verdict = "rejected" if self.rejected else "warning"
        where = f"{self.source_id}: {self.position}" if self.position else self.source_id
        return f"{where}: {verdict}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParseResult:
    stories: list[Story] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Item:
    """One language version of a story, as stored and served."""

    id: str
    key: str
    source_id: str
    title: str
    summary: str
    language: str
    published_at: datetime
    updated_at: datetime
    topics: tuple[str, ...] = ()
    url: str | None = None
    translation_group: str | None = None
    image_url: str | None = None
    first_seen_at: datetime | None = None
    translations: tuple[str, ...] = ()
    # True when the text was too short or mixed to tell its language and the source declared
    # none: `language` is then the best guess, and `cmsfeed items show` says so.
    language_uncertain: bool = False
    # The identity of the story this item is a language version of (shared by its versions),
    # what it was made from (`cmsfeed.identity.IdentityKind`), and a digest of the story as
    # the source gave it, which lets an unchanged story skip language identification and tagging.
    story_key: str = ""
    identity: str = "id"
    story_hash: str | None = None

    def __post_init__(self) -> None:
        if not self.story_key:
            object.__setattr__(self, "story_key", self.key)

    @property
    def content_hash(self) -> str:
        """A digest of what the source said; a change in it means the item was edited."""
        parts = [
            self.title,
            self.summary,
            self.url or "",
            self.image_url or "",
            self.published_at.isoformat(),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def make_item_id(key: str) -> str:
    """The id an item keeps for life: derived from its key, so it is the same on any machine."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def language_code(tag: str) -> str | None:
    """The ISO 639 code of a language tag a source declares ("en-US" -> "en"), if it is one."""
    code = tag.split("-")[0].split("_")[0].strip().lower()
    return code if code.isascii() and code.isalpha() and 2 <= len(code) <= 3 else None


@dataclass(frozen=True, slots=True)
class FeedCount:
    """How many stories a feed holds and when the newest was published (for the index)."""

    count: int
    newest_at: datetime


# (topic id or None for all topics, language or None for all languages) -> its count; a feed
# that is not there is empty.
FeedCounts = Mapping[tuple[str | None, str | None], FeedCount]


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """The site-wide facts every feed, page and email needs, read from the configuration once.

    `titles` and `descriptions` give the site's name and strapline in each of its languages
    (every one of `languages`, checked when built): a reader sees them in the language of the
    page, feed or email in front of them.
    `topic_names` keeps the configured order of topics (pages and digests list them in it).
    `locale_dir` holds the site's own gettext catalogs of the interface words, searched before
    the ones shipped with cmsfeed (`cmsfeed/locale`); None: only those.
    """

    base_url: str
    titles: Mapping[str, str]  # language -> the site's name
    descriptions: Mapping[str, str]  # language -> one sentence about the site
    languages: tuple[str, ...]
    author_name: str
    author_email: str | None
    topic_names: Mapping[str, Mapping[str, str]]  # topic id -> language -> name
    authority: str  # of tag: URIs, see `cmsfeed.feeds.urls.tag_authority`
    entries: int = 50
    ttl_minutes: int = 60
    hub_url: str | None = None
    locale_dir: Path | None = None
    # The sign-up form (of `cmsfeed run`) the "Email digest" buttons lead to; None: no buttons.
    signup_url: str | None = None

    def __post_init__(self) -> None:
        for field_name, texts in (("titles", self.titles), ("descriptions", self.descriptions)):
            missing = [language for language in self.languages if language not in texts]
            if missing:
                raise ValueError(f"SiteInfo.{field_name}: no text for {', '.join(missing)}")

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def title_in(self, language: str | None) -> str:
        """The site's name in `language`; None (an all-languages feed): the default language's."""
        return self.titles[self._known(language)]

    def description_in(self, language: str | None) -> str:
        return self.descriptions[self._known(language)]

    def _known(self, language: str | None) -> str:
        # A language the site does not offer (a feed of stories in German on an en/ru site)
        # is read in the default language, like the rest of the interface.
        return language if language in self.languages else self.default_language

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(self.topic_names)

    def topic_name(self, topic: str, language: str | None) -> str:
        """The topic's name in `language`, else its first name, else its id."""
        names = self.topic_names.get(topic) or {}
        return names.get(language or self.default_language) or next(iter(names.values()), topic)

    def url(self, path: str) -> str:
        return self.base_url + path
