"""Tagging texts with topics by matching configured terms as stemmed phrases. Pure.

Terms and texts are reduced to the same normal forms for the text's language (see
`stemming`: pymorphy3 lemmas for Russian, Snowball stems otherwise), so "бухарских оленей"
matches the term "бухарский олень", "saigas" "saiga" and "léopards de Perse" "léopard de Perse".
A term is a phrase: every word must appear, in order and adjacent, and within one sentence,
so neither "Bukhara region" nor "...in Bukhara. Deer..." matches "Bukhara deer". Latin
names (terms under `la`) match in texts of any language, word for word without stemming.

A topic's `exclude` phrases are names that contain a term but are not about the species
(the "Saiga 12" shotgun, the village of Kulan). They are matched the same way, and a term
occurrence that lies inside one does not count; other occurrences in the text still do.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import compress, count
from operator import attrgetter
from typing import NamedTuple

from cmsfeed.classify.stemming import Forms, Normalizer, normalizer_for
from cmsfeed.model import LATIN, TopicDefinition

_WORD = re.compile(r"\w+")
# Words, and the characters a phrase never spans: sentence ends, brackets, line breaks.
_BOUNDARY_CHARACTERS = frozenset(".!?;\n()[]{}")
_TOKEN = re.compile(r"\w+|[.!?;\n()\[\]{}]")

Phrase = tuple[Forms, ...]
# language -> one normal form of a phrase's first word -> [(phrase, topic id)]
PhraseIndex = dict[str, list[tuple[Phrase, str]]]
Span = tuple[int, int, str]  # first token, token after the last, topic id


def words(text: str) -> list[str]:
    """Lowercase words; 'ё' is folded to 'е' as Russian writers do inconsistently."""
    return _WORD.findall(text.lower().replace("ё", "е"))


class TopicMatcher:
    """Finds the topics a text names: terms as phrases, less those inside an `exclude` name."""

    def __init__(self, topics: Sequence[TopicDefinition]) -> None:
        self._order = {topic.topic_id: index for index, topic in enumerate(topics)}
        self._normalizers: dict[str, Normalizer] = {}
        self._entries: dict[str, Callable[[str], _Entry]] = {}
        self._terms: dict[str, PhraseIndex] = defaultdict(lambda: defaultdict(list))
        self._excludes: dict[str, PhraseIndex] = defaultdict(lambda: defaultdict(list))
        for topic in topics:
            for index, phrases in ((self._terms, topic.terms), (self._excludes, topic.exclude)):
                for language, terms in phrases.items():
                    normalize = self._normalizer(language)
                    for term in terms:
                        phrase = tuple(normalize(word) for word in words(term))
                        for form in phrase[0] if phrase else ():
                            index[language][form].append((phrase, topic.topic_id))
        # Latin names are matched word for word, so their first words are known in advance.
        self._latin_starts = frozenset(self._terms.get(LATIN, {}))

    def match(self, text: str, language: str) -> tuple[str, ...]:
        """The ids of the topics `text` mentions, in configuration order."""
        tokens = _TOKEN.findall(text.lower().replace("ё", "е"))
        found: set[str] = set()
        for index_language in (language, LATIN):
            if index_language not in self._terms:
                continue
            if index_language == LATIN and self._latin_starts.isdisjoint(tokens):
                continue  # no Latin name starts here: the common case, found in one C call
            entry = self._entry(index_language)
            entries = list(map(entry, tokens))
            hits = _spans(entries, "terms")
            if hits and index_language in self._excludes:
                cancelled = _spans(entries, "excludes")
                if cancelled:
                    hits = [hit for hit in hits if not _inside(hit, cancelled)]
            found.update(topic_id for _, _, topic_id in hits)
        return tuple(sorted(found, key=self._order.__getitem__))

    def _entry(self, language: str) -> Callable[[str], _Entry]:
        """A word's normal forms and the phrases that may start with it, cached per word form:
        a text's words are mostly ones seen before, and most start no phrase at all."""
        if language not in self._entries:
            normalize = self._normalizer(language)
            terms = self._terms.get(language, {})
            excludes = self._excludes.get(language, {})

            @lru_cache(maxsize=200_000)
            def entry(token: str) -> _Entry:
                if token in _BOUNDARY_CHARACTERS:
                    return _BOUNDARY_ENTRY
                forms = normalize(token)
                return _Entry(
                    forms,
                    tuple(dict.fromkeys(c for form in forms for c in terms.get(form, ()))),
                    tuple(dict.fromkeys(c for form in forms for c in excludes.get(form, ()))),
                )

            self._entries[language] = entry
        return self._entries[language]

    def _normalizer(self, language: str) -> Normalizer:
        if language not in self._normalizers:
            self._normalizers[language] = normalizer_for(language)
        return self._normalizers[language]


class _Entry(NamedTuple):
    forms: Forms
    terms: tuple[tuple[Phrase, str], ...]  # the terms that may start at this word
    excludes: tuple[tuple[Phrase, str], ...]


# A phrase never spans a sentence end, a bracket or a line break: they match no form.
_BOUNDARY_ENTRY = _Entry(frozenset(), (), ())


def _spans(entries: list[_Entry], kind: str) -> list[Span]:
    """Where the phrases of `kind` ("terms" or "excludes") occur among `entries`."""
    spans: list[Span] = []
    candidates = map(attrgetter(kind), entries)
    last = len(entries)
    # compress() finds the few words that start a phrase without a Python loop over all.
    for position in compress(count(), candidates):
        for phrase, topic_id in getattr(entries[position], kind):
            end = position + len(phrase)
            if end > last:
                continue
            # A plain loop with isdisjoint: no generator and no set built per word compared.
            offset = position + 1
            for wanted in phrase[1:]:
                if entries[offset].forms.isdisjoint(wanted):
                    break
                offset += 1
            else:
                spans.append((position, end, topic_id))
    return spans


def _inside(hit: Span, names: list[Span]) -> bool:
    """Whether a term's occurrence lies within an excluded name of the same topic."""
    start, end, topic_id = hit
    return any(t == topic_id and s <= start and end <= e for s, e, t in names)
