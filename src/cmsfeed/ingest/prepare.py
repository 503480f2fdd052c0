"""From a parsed story to stored items: cleaning, language, splitting, topics. Pure: no I/O.

A story whose paragraphs are in two or more of the site's languages (an English paragraph
followed by its Russian translation) becomes one item per language, linked by a translation
group. The version in the title's language keeps the story's key, so a story that later gains
a translation keeps its id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from cmsfeed.classify import LanguageIdentifier, TopicMatcher
from cmsfeed.identity import story_identity
from cmsfeed.model import Item, Problem, Story, make_item_id
from cmsfeed.sanitize import (
    clean_html,
    first_undecodable_byte,
    plain_text,
    remove_xml_forbidden,
    unsafe_markup,
)

DERIVED_TITLE_LENGTH = 110
IDENTIFY_CHARS = 400
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")


@dataclass(frozen=True, slots=True)
class _Paragraph:
    html: str
    text: str  # its plain text on one line, read while splitting (nh3 need not run again)


@dataclass(frozen=True, slots=True)
class _Version:
    language: str
    paragraphs: list[_Paragraph]

    @property
    def html(self) -> str:
        return "".join(paragraph.html for paragraph in self.paragraphs)

    @property
    def text(self) -> str:
        return "\n".join(paragraph.text for paragraph in self.paragraphs)


@dataclass
class StoryPreparer:
    """Turns a source's stories into items; one instance per source and ingest run."""

    source_id: str
    identifier: LanguageIdentifier
    matcher: TopicMatcher
    default_language: str
    known_topics: Collection[str]
    max_summary_bytes: int = 256 * 1024

    def prepare(self, story: Story) -> tuple[list[Item], list[Problem]]:
        problems: list[Problem] = []

        def reject(reason: str) -> tuple[list[Item], list[Problem]]:
            return [], [*problems, Problem(self.source_id, story.position, reason)]

        def warn(reason: str) -> None:
            problems.append(Problem(self.source_id, story.position, reason, rejected=False))

        for field_name, value in (("title", story.title), ("summary", story.summary_html)):
            bad_byte = first_undecodable_byte(value)
            if bad_byte is not None:
                return reject(f"invalid UTF-8 (byte 0x{bad_byte:02x}) in the {field_name}")
        size = len(story.summary_html.encode())
        if size > self.max_summary_bytes:
            return reject(
                f"summary is {size:,} bytes, over the limit of "
                f"{self.max_summary_bytes:,} (ingest.max_summary_bytes)"
            )
        raw_title, removed_in_title = remove_xml_forbidden(story.title)
        raw_summary, removed_in_summary = remove_xml_forbidden(story.summary_html)
        if removed_in_title + removed_in_summary:
            warn(
                f"removed {removed_in_title + removed_in_summary} control character(s) "
                "that XML forbids"
            )
        title = plain_text(raw_title)
        if not title:
            return reject("no title")
        if story.published_at is None:
            return reject("no publication date")
        unsafe = sorted(set(unsafe_markup(raw_title)) | set(unsafe_markup(raw_summary)))
        summary = clean_html(raw_summary, story.url)
        if unsafe:
            warn(f"removed unsafe HTML: {', '.join(unsafe)}")

        versions = self._versions(story, title, summary)
        # Keys are namespaced by source: two sources may both number their entries "1".
        identity = story_identity(self.source_id, story)
        base_key = identity.key
        title_language = self.identifier.identify(title) if len(versions) > 1 else None
        main = next((v for v in versions if v.language == title_language), versions[0])
        group = make_item_id(base_key) if len(versions) > 1 else None
        items = []
        for version in versions:
            key = base_key if version is main else f"{base_key}#{version.language}"
            version_title = title if version is main else _derived_title(version.paragraphs)
            version_summary = version.html
            items.append(
                Item(
                    id=make_item_id(key),
                    key=key,
                    source_id=self.source_id,
                    title=version_title,
                    summary=version_summary,
                    language=version.language,
                    published_at=story.published_at,
                    updated_at=max(story.updated_at or story.published_at, story.published_at),
                    topics=self._topics(story, version_title, version.text, version.language, warn),
                    url=story.url,
                    translation_group=group,
                    image_url=story.image_url,
                    story_key=base_key,
                    identity=identity.kind,
                )
            )
        items.sort(key=lambda item: item.key != base_key)  # the title's version first
        return items, problems

    def _versions(self, story: Story, title: str, summary: str) -> list[_Version]:
        paragraphs = _paragraphs(summary)
        if story.language is not None and story.language in self.identifier.languages:
            return [_Version(story.language, paragraphs)]
        # The opening of a paragraph tells its language as well as the whole does, for less.
        languages = [self.identifier.identify(p.text[:IDENTIFY_CHARS]) for p in paragraphs]
        distinct = list(dict.fromkeys(lang for lang in languages if lang is not None))
        if len(distinct) < 2:
            language = (
                distinct[0]
                if distinct
                else (
                    self.identifier.identify(
                        f"{title}\n{' '.join(p.text for p in paragraphs)}"[:IDENTIFY_CHARS]
                    )
                    or self.default_language
                )
            )
            return [_Version(language, paragraphs)]
        grouped: dict[str, list[_Paragraph]] = {lang: [] for lang in distinct}
        current = distinct[0]
        for paragraph, found in zip(paragraphs, languages, strict=True):
            current = found or current  # an unsure paragraph stays with its neighbour
            grouped[current].append(paragraph)
        return [_Version(lang, paras) for lang, paras in grouped.items()]

    def _topics(
        self, story: Story, title: str, text: str, language: str, warn: Callable[[str], None]
    ) -> tuple[str, ...]:
        if story.topics is not None:
            unknown = [t for t in story.topics if t not in self.known_topics]
            if unknown:
                warn(f"unknown topic(s) ignored: {', '.join(unknown)}")
            return tuple(t for t in story.topics if t in self.known_topics)
        return self.matcher.match(f"{title}\n{text}", language)


_INLINE = frozenset(
    {
        "-text",
        "a",
        "b",
        "i",
        "em",
        "strong",
        "br",
        "abbr",
        "code",
        "small",
        "sub",
        "sup",
        "q",
        "cite",
        "img",
    }
)


def _paragraphs(summary: str) -> list[_Paragraph]:
    """Top-level blocks of sanitized HTML with their text; loose inline runs are one block each."""
    if not summary:
        return []
    body = LexborHTMLParser(f"<body>{summary}</body>").body
    if body is None:
        return [_Paragraph(summary, plain_text(summary))]
    blocks: list[_Paragraph] = []
    inline_html: list[str] = []
    inline_text: list[str] = []

    def close_inline_run() -> None:
        text = _one_line("".join(inline_text))
        if text:
            blocks.append(_Paragraph(f"<p>{''.join(inline_html).strip()}</p>", text))
        inline_html.clear()
        inline_text.clear()

    for node in body.iter(include_text=True):
        if node.tag in _INLINE:
            inline_html.append(node.html or "")
            inline_text.append(node.text(deep=True) or "")
            continue
        close_inline_run()
        blocks.append(_Paragraph(node.html or "", _one_line(node.text(deep=True) or "")))
    close_inline_run()
    return blocks


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _derived_title(paragraphs: list[_Paragraph]) -> str:
    """A title for a translation the source gave none: its first sentence, shortened."""
    text = paragraphs[0].text if paragraphs else ""
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) <= DERIVED_TITLE_LENGTH:
        return sentence.rstrip(".")
    cut = sentence[:DERIVED_TITLE_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:—-(") + "…"
