"""The normal forms of a word that topic matching compares, per language. Pure: no I/O but
loading pymorphy3's Russian dictionary once.

- Russian: every lemma pymorphy3 reads a word as, and their Snowball stems.
- A language Snowball knows (English, French, Spanish, ...): the word's Snowball stem
  (PyStemmer), the stem of its spelling without accents, since news and its readers drop
  them ("leopard" for "léopard", "kulan" for "kulán", "saiga" for "saïga"), and, where
  simplemma has a dictionary of the language, the stem of the word's lemma: Snowball leaves
  short words alone ("asnos" stays "asnos", "asno" "asno"), the dictionary does not ("asnos"
  → "asno", "chevaux" → "cheval"). English is left to Snowball, which reads its plurals
  well: its dictionary would cost 25 MB and a lookup per new word of every English story.
- French and Spanish fold the prepositions that contract with an article into the bare
  preposition ("du", "des" → "de"; "del" → "de"; "au", "aux" → "à"; "al" → "a"), so one
  term "ours de Gobi" also names "l'ours du Gobi" and "oso del Gobi".
- Another language: the word as written, lowercase (a catalog and config entries still
  make its topics match whole words).
- Latin names (`la`): the word as written.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

import pymorphy3
import simplemma
import Stemmer
from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

from cmsfeed.model import LATIN

Forms = frozenset[str]
Normalizer = Callable[[str], Forms]

# ISO 639-1 codes of the languages PyStemmer's Snowball algorithms cover.
SNOWBALL_NAMES = {
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

# Languages whose inflections Snowball reads well enough without simplemma's dictionary.
SNOWBALL_SUFFICES = frozenset({"en"})

# Contractions of a preposition with an article, read as the preposition alone.
CONTRACTIONS: dict[str, dict[str, str]] = {
    "fr": {"du": "de", "des": "de", "d": "de", "au": "à", "aux": "à"},
    "es": {"del": "de", "al": "a"},
}


def without_accents(word: str) -> str:
    """`word` with its combining marks removed ("hémione" → "hemione", "saïga" → "saiga")."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalizer_for(language: str) -> Normalizer:
    """A lowercase word's normal forms in `language` (see the module's docstring)."""
    if language == LATIN:
        return _exact
    snowball = SNOWBALL_NAMES.get(language)
    stem: Callable[[str], str] = Stemmer.Stemmer(snowball).stemWord if snowball else str
    if language == "ru":
        return _russian_normalizer(stem)
    contractions = CONTRACTIONS.get(language, {})
    lemmatized = language in SUPPORTED_LANGUAGES and language not in SNOWBALL_SUFFICES

    @lru_cache(maxsize=200_000)
    def stemmed(word: str) -> Forms:
        spellings = {word, without_accents(word)}
        if lemmatized:
            lemma = simplemma.lemmatize(word, lang=language).lower()
            spellings |= {lemma, without_accents(lemma)}
        # (after the accents go: "aú" written for "au" is still a contraction)
        return frozenset(stem(contractions.get(s, s)) for s in spellings)

    return stemmed


def _russian_normalizer(stem: Callable[[str], str]) -> Normalizer:
    """Russian needs the morphological analyser: stems alone split one word's forms
    ("кулан" → "кула", "куланов" → "кулан"). Every lemma of every reading is kept, and
    their stems too, so an ambiguous form ("баранов": a surname or "sheep", genitive
    plural) still matches the term it can mean."""
    morph = _russian_morphology()

    @lru_cache(maxsize=200_000)
    def russian(word: str) -> Forms:
        lemmas = {parse.normal_form.replace("ё", "е") for parse in morph.parse(word)}
        return frozenset(lemmas | {stem(lemma) for lemma in lemmas} | {stem(word)})

    return russian


@lru_cache(maxsize=1)
def _russian_morphology() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def _exact(word: str) -> Forms:
    return frozenset((word,))
