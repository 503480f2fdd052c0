"""What one fetch of a source has seen, story by story. Pure: no I/O.

Before a story is prepared (language identification and tagging, the costly part) the ledger
gives it its identity (`cmsfeed.identity`) and a digest of what the source said plus the
settings it is prepared with. The digest lets the store skip a story it holds unchanged; the
identity spots a story the fetch repeats. A repeat with the same content is stored once (a
warning); a repeat with other content is rejected, since which one is current is ambiguous.
Two stories of one fetch are never merged into one item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cmsfeed.identity import StoryIdentity, story_digest, story_identity
from cmsfeed.model import Problem, Story


@dataclass(frozen=True, slots=True)
class Screened:
    """A story to prepare, with its story key and digest (None: no date, `prepare` rejects it)."""

    story: Story
    key: str | None
    digest: str | None


@dataclass
class FetchLedger:
    source_id: str
    settings: str  # a digest of everything besides the story that decides its items
    _seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (position, digest)

    def screen(self, batch: Iterable[Story]) -> tuple[list[Screened], list[Problem]]:
        """The stories of `batch` to go on with, and a problem for each repeat."""
        kept: list[Screened] = []
        problems: list[Problem] = []
        for story in batch:
            if story.published_at is None:
                kept.append(Screened(story, None, None))
                continue
            identity = story_identity(self.source_id, story)
            digest = self.digest(story)
            first = self._seen.get(identity.key)
            if first is None:
                self._seen[identity.key] = (story.position, digest)
                kept.append(Screened(story, identity.key, digest))
            elif first[1] == digest:
                problems.append(self._problem(story, f"repeats {first[0]}; stored once", False))
            else:
                problems.append(self._problem(story, _conflict(identity, story, first[0]), True))
        return kept, problems

    def digest(self, story: Story) -> str:
        return story_digest(
            [
                self.settings,
                story.key,
                story.url,
                story.title,
                story.summary_html,
                story.published_at.isoformat() if story.published_at else None,
                story.updated_at.isoformat() if story.updated_at else None,
                story.language,
                "\x1e".join(story.topics) if story.topics is not None else None,
                story.image_url,
                # the per-language titles of a JSON story: an edit of any of them is an edit
                "\x1e".join(f"{language}\x1f{title}" for language, title in story.titles),
            ]
        )

    def digest_of(self, story_key: str) -> str | None:
        seen = self._seen.get(story_key)
        return seen[1] if seen else None

    def position_of(self, story_key: str) -> str:
        seen = self._seen.get(story_key)
        return seen[0] if seen else ""

    def reidentified(self, story_key: str, item_id: str, old_title: str) -> Problem:
        return Problem(
            self.source_id,
            self.position_of(story_key),
            f"taken for an edit of item {item_id} of the same day (was {old_title!r}): "
            "the story has no id or URL and its title changed",
            rejected=False,
        )

    def ambiguous(self, story_key: str, item_ids: Iterable[str]) -> Problem:
        return Problem(
            self.source_id,
            self.position_of(story_key),
            f"stored as a new item, though it is alike stored item(s) {', '.join(item_ids)} "
            "of the same day: which one it may be an edit of is ambiguous",
            rejected=False,
        )

    def _problem(self, story: Story, reason: str, rejected: bool) -> Problem:
        return Problem(self.source_id, story.position, reason, rejected)


def _conflict(identity: StoryIdentity, story: Story, first: str) -> str:
    if identity.kind == "id":
        same = f"same id {story.key!r} as {first}"
    elif identity.kind == "url":
        same = f"same URL as {first} ({story.url})"
    else:
        same = f"same day and title as {first}, no id or URL to tell them apart,"
    return f"{same} but different content: which one is current is ambiguous"


def digests(screened: Iterable[Screened]) -> Mapping[str, str]:
    """Story key -> digest, for the stories that have both."""
    return {s.key: s.digest for s in screened if s.key is not None and s.digest is not None}
