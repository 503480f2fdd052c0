"""From a parsed story to stored items: cleaning, language, splitting, topics. Pure: no I/O.

A story whose paragraphs are in two or more languages (an English paragraph followed by its
Russian translation) becomes one item per language, linked by a translation group, whatever
kind of source it came from. The version in the title's language keeps the story's key, so a
story that later gains a translation keeps its id; a version without its own title gets one
made from its first sentence (`paragraphs.derived_title`).

A story in a language outside the site's is stored under its own code (its feeds are the
all-languages ones) or, with `keep_other_languages` off, reported and left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from cmsfeed.classify import Identification, LanguageIdentifier, TopicMatcher, script_of
from cmsfeed.classify.english import reads_as_english
from cmsfeed.classify.language import reads_as_russian
from cmsfeed.identity import story_identity
from cmsfeed.ingest.paragraphs import Paragraph, derived_title, is_plain_paragraphs, paragraphs
from cmsfeed.model import Item, Problem, Story, make_item_id
from cmsfeed.sanitize import (
    clean_html,
    first_undecodable_byte,
    plain_text,
    remove_xml_forbidden,
    unsafe_markup,
)

# What a language's paragraphs need to be a version of their own rather than a quotation kept
# inside the largest version: this many words, or this fraction (1/3) of the story's words.
MIN_VERSION_WORDS = 25
MIN_VERSION_SHARE = 3

# The reason of a version left out by ingest.other_languages = "skip"; the report counts them.
_SKIPPED = "not stored: in {language!r}, a language outside site.languages"
_SKIPPED_PATTERN = re.compile(r"^not stored: in '([a-z]{2,3})', a language outside")
_SLUG_WORD = re.compile(r"\w+")
# Letters of scripts written without spaces between words: Thai, Japanese kana, Chinese.
_UNSPACED_SCRIPT = re.compile("[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# How a paragraph shows, by itself, the language its script's paragraphs mostly are in.
_READS_AS: dict[str, Callable[[str], bool]] = {
    "latin": reads_as_english,
    "cyrillic": reads_as_russian,
}
# Paragraphs of plain text come out of cleaning as they went in, unless they hold what the
# HTML parser rewrites: an entity or ampersand, a carriage return, a no-break space (written
# back as &nbsp;), a NUL. Without these, cleaning (nh3, the costliest step of a plain story)
# is skipped; tests/test_prepare_shortcuts.py checks both give the same.
_CHANGED_BY_CLEANING = re.compile("[&\r\u00a0\x00]")


@dataclass(frozen=True, slots=True)
class _Version:
    language: str
    paragraphs: list[Paragraph]
    certain: bool = True

    @property
    def html(self) -> str:
        return "".join(paragraph.html for paragraph in self.paragraphs)

    @property
    def text(self) -> str:
        return "\n".join(paragraph.text for paragraph in self.paragraphs)


Prepared = tuple[list[Item], list[Problem]]  # one story's items, and what was wrong with it


@dataclass(frozen=True, slots=True)
class _Cleaned:
    """A story made safe, waiting for its paragraphs' languages."""

    story: Story
    title: str
    given_titles: dict[str, str]
    paragraphs: list[Paragraph]
    problems: list[Problem]
    requests: list[tuple[list[int], str]]


@dataclass
class StoryPreparer:
    """Turns a source's stories into items; one instance per source and ingest run.

    `declared_language` is the source's `language`, used (like a story's own) when a text is
    too short or mixed to tell; without either, the best guess is stored marked uncertain.
    """

    source_id: str
    identifier: LanguageIdentifier
    matcher: TopicMatcher
    default_language: str
    known_topics: Collection[str]
    max_summary_bytes: int = 256 * 1024
    declared_language: str | None = None
    keep_other_languages: bool = True

    def prepare(self, story: Story) -> Prepared:
        return self.prepare_many([story])[0]

    def prepare_many(self, stories: Sequence[Story]) -> list[Prepared]:
        """Each story's items and problems, in order. Languages are identified for the whole
        batch at once (`LanguageIdentifier.identify_many`), which is what makes it fast."""
        cleaned = [self._clean(story) for story in stories]
        texts = [text for c in cleaned if isinstance(c, _Cleaned) for _, text in c.requests]
        answers = iter(self.identifier.identify_many(texts))
        results: list[Prepared] = []
        for draft in cleaned:
            if not isinstance(draft, _Cleaned):
                results.append(draft)
                continue
            identified: list[Identification | None] = [None] * len(draft.paragraphs)
            for indexes, _ in draft.requests:
                answer = next(answers)
                for index in indexes:
                    identified[index] = answer
            results.append(self._finish(draft, identified))
        return results

    def _clean(self, story: Story) -> _Cleaned | Prepared:
        """The story's title, titles and paragraphs made safe, or its rejection."""
        problems: list[Problem] = []

        def reject(reason: str) -> Prepared:
            return [], [*problems, Problem(self.source_id, story.position, reason)]

        def warn(reason: str) -> None:
            problems.append(Problem(self.source_id, story.position, reason, rejected=False))

        titles = {language: title for language, title in story.titles}
        texts = [("title", story.title), *((f"title.{k}", v) for k, v in titles.items())]
        for field_name, value in [*texts, ("summary", story.summary_html)]:
            bad_byte = first_undecodable_byte(value)
            if bad_byte is not None:
                return reject(f"invalid UTF-8 (byte 0x{bad_byte:02x}) in the {field_name}")
        size = len(story.summary_html.encode())
        if size > self.max_summary_bytes:
            return reject(
                f"summary is {size:,} bytes, over the limit of "
                f"{self.max_summary_bytes:,} (ingest.max_summary_bytes)"
            )
        raw_title, removed = remove_xml_forbidden(story.title)
        raw_summary, removed_in_summary = remove_xml_forbidden(story.summary_html)
        removed += removed_in_summary
        raw_titles = {}
        for language, text in titles.items():
            raw_titles[language], count = remove_xml_forbidden(text)
            removed += count
        if removed:
            warn(f"removed {removed} control character(s) that XML forbids")
        title = title_text(raw_title)
        if not title:
            return reject("no title")
        if story.published_at is None:
            return reject("no publication date")
        plain = is_plain_paragraphs(raw_summary)
        unsafe = sorted(
            {name for text in (raw_title, *raw_titles.values()) for name in unsafe_markup(text)}
            | set(() if plain else unsafe_markup(raw_summary))
        )
        summary = (
            raw_summary.strip()
            if plain and not _CHANGED_BY_CLEANING.search(raw_summary)
            else clean_html(raw_summary, story.url)
        )
        if unsafe:
            warn(f"removed unsafe HTML: {', '.join(unsafe)}")
        given_titles = {k: t for k, t in ((k, title_text(v)) for k, v in raw_titles.items()) if t}
        found = paragraphs(summary)
        return _Cleaned(
            story, title, given_titles, found, problems, self._identification_requests(found)
        )

    def _finish(self, draft: _Cleaned, identified: list[Identification | None]) -> Prepared:
        story, title, given_titles, problems = (
            draft.story,
            draft.title,
            draft.given_titles,
            draft.problems,
        )
        assert story.published_at is not None  # _clean rejected the story otherwise

        def warn(reason: str) -> None:
            problems.append(Problem(self.source_id, story.position, reason, rejected=False))

        versions = self._versions(story, title, draft.paragraphs, identified, given_titles, warn)
        # Keys are namespaced by source: two sources may both number their entries "1".
        identity = story_identity(self.source_id, story)
        base_key = identity.key
        main = self._main_version(versions, title, given_titles)
        group = make_item_id(base_key) if len(versions) > 1 else None
        items = []
        for version in versions:
            # Only a language known for sure is skipped: a guess is kept, marked uncertain.
            other = version.language not in self.identifier.languages
            if other and version.certain and not self.keep_other_languages:
                warn(
                    _SKIPPED.format(language=version.language)
                    + " (ingest.other_languages = 'skip')"
                )
                continue
            key = base_key if version is main else f"{base_key}#{version.language}"
            version_title = given_titles.get(version.language) or (
                title if version is main else derived_title(version.text) or title
            )
            items.append(
                Item(
                    id=make_item_id(key),
                    key=key,
                    source_id=self.source_id,
                    title=version_title,
                    summary=version.html,
                    language=version.language,
                    published_at=story.published_at,
                    updated_at=max(story.updated_at or story.published_at, story.published_at),
                    topics=self._topics(story, version_title, version.text, version.language, warn),
                    url=story.url,
                    translation_group=group,
                    image_url=story.image_url,
                    story_key=base_key,
                    identity=identity.kind,
                    language_uncertain=not version.certain,
                )
            )
        items.sort(key=lambda item: item.key != base_key)  # the title's version first
        return items, problems

    def _main_version(
        self, versions: list[_Version], title: str, given_titles: dict[str, str]
    ) -> _Version:
        """The version that keeps the story's key: the one in the title's language."""
        if len(versions) == 1:
            return versions[0]
        if given_titles:
            # By the site's order of languages, not the order the source wrote them in: a
            # source that lists the same titles in another order must not move the story's key
            # to another version (the stored one would change language and one be duplicated).
            order = {language: index for index, language in enumerate(self.identifier.languages)}
            wanted: str | None = min(given_titles, key=lambda lang: order.get(lang, len(order)))
        else:
            # The title's script usually tells which version it belongs to, without Lingua.
            script = script_of(title)
            alike = [v for v in versions if v.paragraphs and script_of(v.text) == script]
            if len(alike) == 1:
                return alike[0]
            wanted = self.identifier.identify(title).language
        return next((v for v in versions if v.language == wanted), versions[0])

    def _versions(
        self,
        story: Story,
        title: str,
        found: list[Paragraph],
        identified: list[Identification | None],
        given_titles: dict[str, str],
        warn: Callable[[str], None],
    ) -> list[_Version]:
        """The story's language versions: its paragraphs grouped by their language.

        Where the site has at most one language in a script, the paragraphs in that script
        are identified together, once; where it has more (English and French, say), each
        paragraph is. A paragraph that cannot be told stays with its neighbour, and a passage
        too short to be a version stays inside the largest one, with a warning
        (`_passages_kept_inside`).
        """
        languages = [i.language if i is not None and i.certain else None for i in identified]
        distinct = list(dict.fromkeys(lang for lang in languages if lang is not None))
        versions: list[_Version]
        if len(distinct) >= 2:
            assigned: list[str] = []
            for language in languages:
                assigned.append(language or (assigned[-1] if assigned else distinct[0]))
            kept = _passages_kept_inside(found, assigned, given_titles)
            for language, (words, main) in kept.items():
                warn(
                    f"kept a {words}-word passage in {language!r} inside the {main!r} version: "
                    f"too short to be a version of its own (a version needs "
                    f"{MIN_VERSION_WORDS} words or 1/{MIN_VERSION_SHARE} of the story's words)"
                )
            grouped: dict[str, list[Paragraph]] = {}
            for paragraph, language in zip(found, assigned, strict=True):
                owner = kept[language][1] if language in kept else language
                grouped.setdefault(owner, []).append(paragraph)
            versions = [_Version(lang, paras) for lang, paras in grouped.items()]
        elif distinct:
            versions = [_Version(distinct[0], found)]
        else:
            versions = [self._whole_story(story, title, found)]
        # A language the source gave a title in is a version, even without paragraphs.
        have = {version.language for version in versions}
        if given_titles and len(versions) == 1 and not versions[0].certain:
            # A text too short to tell, titled in languages: the text goes with the guess if
            # the source titled it, else with the first titled language; every other titled
            # language is still a version of its own (its title must not be lost).
            guess = versions[0].language
            language = guess if guess in given_titles else next(iter(given_titles))
            versions = [_Version(language, versions[0].paragraphs)]
            have = {language}
        versions += [_Version(lang, []) for lang in given_titles if lang not in have]
        return versions

    def _identification_requests(self, found: list[Paragraph]) -> list[tuple[list[int], str]]:
        """What to identify: (the paragraphs an answer is for, the text to read)."""
        by_script: dict[str, list[int]] = {}
        for index, paragraph in enumerate(found):
            by_script.setdefault(script_of(paragraph.text), []).append(index)
        requests: list[tuple[list[int], str]] = []
        for script, indexes in by_script.items():
            if script == "none":
                continue
            # Paragraphs that show one language by themselves (English by its own words, Russian
            # by its letters and little words, and no sign of any other) are identified
            # together, in one call: most paragraphs of most stories. Every other paragraph is
            # identified on its own, so a translation in a neighbouring language (French,
            # German, Kazakh, Kyrgyz) beside them is never read as part of them.
            reads_as = _READS_AS.get(script)
            together = [i for i in indexes if reads_as(found[i].text)] if reads_as else []
            if together:
                joined = "\n".join(found[i].text for i in together)
                requests.append((together, joined))  # its opening is read (SAMPLE_CHARS)
            alone = set(indexes).difference(together)
            requests += [([i], found[i].text) for i in indexes if i in alone]
        return requests

    def _whole_story(self, story: Story, title: str, found: list[Paragraph]) -> _Version:
        """A story no paragraph of which could be told: read with its title, else declared."""
        text = f"{title}\n{' '.join(p.text for p in found)}"  # its opening is read
        identification = self.identifier.identify(text)
        if identification.certain and identification.language is not None:
            return _Version(identification.language, found)
        declared = story.language or self.declared_language
        if declared is not None:
            return _Version(declared, found)
        return _Version(identification.language or self.default_language, found, certain=False)

    def _topics(
        self, story: Story, title: str, text: str, language: str, warn: Callable[[str], None]
    ) -> tuple[str, ...]:
        if story.topics is not None:
            unknown = [t for t in story.topics if t not in self.known_topics]
            if unknown:
                warn(f"unknown topic(s) ignored: {', '.join(unknown)}")
            return tuple(t for t in story.topics if t in self.known_topics)
        return self.matcher.match(f"{title}\n{text}", language)


def _passages_kept_inside(
    found: list[Paragraph], languages: list[str], given_titles: dict[str, str]
) -> dict[str, tuple[int, str]]:
    """The languages whose paragraphs are too few words to be a version: {language: (their
    words, the language of the largest version, which keeps them)}.

    The largest version (by words) always stands. Another stands when it has at least
    MIN_VERSION_WORDS words (a paragraph of its own) or 1/MIN_VERSION_SHARE of the story's
    words (a short story told twice, a title-length sentence in each language), or when the
    source titled it in its language. Otherwise it is a quotation: one Russian sentence in
    an English report is part of the English story, not its translation.
    """
    words: dict[str, int] = {}
    for paragraph, language in zip(found, languages, strict=True):
        words[language] = words.get(language, 0) + word_count(paragraph.text)
    largest = max(words, key=words.__getitem__)  # the first of equals: the story's order
    total = sum(words.values())
    return {
        language: (count, largest)
        for language, count in words.items()
        if language != largest
        and language not in given_titles
        and count < MIN_VERSION_WORDS
        and count * MIN_VERSION_SHARE < total
    }


def word_count(text: str) -> int:
    """How many words `text` has. Chinese, Japanese and Thai write no spaces between words,
    so each of their characters counts as one: a translation into them is a version, not a
    one-word quotation."""
    return len(text.split()) + len(_UNSPACED_SCRIPT.findall(text))


def title_text(raw: str) -> str:
    """`plain_text` of a title; most titles have no markup or entities and need no parser."""
    if "<" in raw or "&" in raw:
        return plain_text(raw)
    return " ".join(raw.split())


def skipped_language(problem: Problem) -> str | None:
    """The language of a version `problem` says was left out (other_languages = "skip")."""
    found = _SKIPPED_PATTERN.match(problem.reason)
    return found.group(1) if found and not problem.rejected else None
