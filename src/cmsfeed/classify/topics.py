"""Tagging texts with topics by matching configured terms as stemmed phrases. Pure.

Terms and texts are reduced to the same normal forms for the text's language (lemmas from
the pymorphy3 analyser for Russian, Snowball stems from PyStemmer otherwise), so
"бухарских оленей" matches the term "бухарский олень" and "saigas" matches "saiga".
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
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import pymorphy3
import Stemmer

from cmsfeed.model import LATIN, TopicDefinition

_WORD = re.compile(r"\w+")
# A phrase never spans these: sentence ends, brackets, line breaks.
_BOUNDARY = re.compile(r"[.!?;\n()\[\]{}]+")
_SNOWBALL_NAMES = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "hy": "armenian",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
    "uk": "ukrainian",
}

Forms = frozenset[str]
Phrase = tuple[Forms, ...]
Normalizer = Callable[[str], Forms]
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

    def match(self, text: str, language: str) -> tuple[str, ...]:
        """The ids of the topics `text` mentions, in configuration order."""
        segments = [words(segment) for segment in _BOUNDARY.split(text)]
        found: set[str] = set()
        for index_language in (language, LATIN):
            terms = self._terms.get(index_language)
            if not terms:
                continue
            excludes = self._excludes.get(index_language)
            normalize = self._normalizer(index_language)
            for raw in segments:
                tokens = [normalize(word) for word in raw]
                hits = _spans(tokens, terms)
                if hits and excludes:
                    cancelled = _spans(tokens, excludes)
                    hits = [hit for hit in hits if not _inside(hit, cancelled)]
                found.update(topic_id for _, _, topic_id in hits)
        return tuple(sorted(found, key=self._order.__getitem__))

    def _normalizer(self, language: str) -> Normalizer:
        if language not in self._normalizers:
            self._normalizers[language] = normalizer_for(language)
        return self._normalizers[language]


def normalizer_for(language: str) -> Normalizer:
    """A word's normal forms: its lemmas for Russian (pymorphy3), its Snowball stem otherwise.

    Russian needs the morphological analyser: stems alone split one word's forms
    ("кулан" → "кула", "куланов" → "кулан"). Every lemma of every reading is kept, and
    their stems too, so an ambiguous form ("баранов": a surname or "sheep", genitive
    plural) still matches the term it can mean.
    """
    if language == LATIN:
        return _exact
    snowball = _SNOWBALL_NAMES.get(language)
    stem = Stemmer.Stemmer(snowball).stemWord if snowball else str
    if language == "ru":
        morph = _russian_morphology()

        @lru_cache(maxsize=200_000)
        def russian(word: str) -> Forms:
            lemmas = {parse.normal_form.replace("ё", "е") for parse in morph.parse(word)}
            return frozenset(lemmas | {stem(lemma) for lemma in lemmas} | {stem(word)})

        return russian

    @lru_cache(maxsize=200_000)
    def stemmed(word: str) -> Forms:
        return frozenset((stem(word),))

    return stemmed


def _spans(tokens: list[Forms], index: Mapping[str, list[tuple[Phrase, str]]]) -> list[Span]:
    """Where phrases of `index` occur among `tokens`."""
    spans: list[Span] = []
    for position, forms in enumerate(tokens):
        for form in forms:
            for phrase, topic_id in index.get(form, ()):
                end = position + len(phrase)
                if end <= len(tokens) and all(
                    tokens[position + offset] & wanted for offset, wanted in enumerate(phrase)
                ):
                    spans.append((position, end, topic_id))
    return spans


def _inside(hit: Span, names: list[Span]) -> bool:
    """Whether a term's occurrence lies within an excluded name of the same topic."""
    start, end, topic_id = hit
    return any(t == topic_id and s <= start and end <= e for s, e, t in names)


@lru_cache(maxsize=1)
def _russian_morphology() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def _exact(word: str) -> Forms:
    return frozenset((word,))
