"""The normal forms topic matching compares (classify/stemming.py), and what they give the
bundled topics: every name of a species tags that species and no other, in every language."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.classify import TopicMatcher
from cmsfeed.classify.stemming import normalizer_for, without_accents
from cmsfeed.config import load_config
from cmsfeed.model import LATIN

BUNDLED = Path(__file__).resolve().parent.parent / "src" / "cmsfeed" / "data" / "config.toml"
CONFIG = load_config(BUNDLED, {})
MATCHER = TopicMatcher([topic.definition() for topic in CONFIG.topics])


@pytest.mark.parametrize(
    "language, one, other",
    [
        # Plurals Snowball leaves alone and the dictionary knows.
        ("es", "asnos", "asno"),
        ("es", "osos", "oso"),
        ("fr", "chevaux", "cheval"),
        ("fr", "yacks", "yack"),
        # Accents are optional.
        ("fr", "hemiones", "hémione"),
        ("fr", "saiga", "saïga"),
        ("es", "argali", "argalí"),
        ("es", "kulan", "kulán"),
        # Contracted articles read as the bare preposition.
        ("fr", "du", "de"),
        ("fr", "des", "de"),
        ("es", "del", "de"),
        # Russian: the lemmas of every reading.
        ("ru", "куланов", "кулан"),
        ("ru", "бухарских", "бухарский"),
    ],
)
def test_forms_of_one_word_meet(language: str, one: str, other: str) -> None:
    normalize = normalizer_for(language)
    assert normalize(one) & normalize(other)


@pytest.mark.parametrize(
    "language, one, other",
    [
        ("fr", "lynx", "lin"),
        ("es", "leopardo", "leopardos_de"),
        ("fr", "de", "le"),
        ("es", "de", "la"),
        ("en", "bear", "bar"),
    ],
)
def test_forms_of_different_words_stay_apart(language: str, one: str, other: str) -> None:
    normalize = normalizer_for(language)
    assert not normalize(one) & normalize(other)


def test_latin_names_are_matched_as_written() -> None:
    assert normalizer_for(LATIN)("hemionus") == frozenset({"hemionus"})


LETTERS = "abcdeéèêfghiíïjklmnñoóôpqrstuúüvwxyzàâç"


@settings(max_examples=200, deadline=None)
@given(
    language=st.sampled_from(["en", "fr", "es", "de"]),
    word=st.text(alphabet=LETTERS, min_size=1, max_size=14),
)
def test_a_word_without_its_accents_meets_itself(language: str, word: str) -> None:
    normalize = normalizer_for(language)
    assert normalize(word) & normalize(without_accents(word))
    assert normalize(word) == normalize(word)  # the same word twice: the same forms


def names() -> list[tuple[str, str, str]]:
    """(topic, language, term) for every term of every bundled topic; Latin names in every
    site language."""
    found = []
    for topic in CONFIG.topics:
        for language, terms in topic.definition().terms.items():
            for term in terms:
                for text_language in CONFIG.site.languages if language == LATIN else [language]:
                    found.append((topic.id, text_language, term))
    return found


NAMES = names()


def test_the_bundled_topics_name_17_species_in_four_languages() -> None:
    assert len(CONFIG.topics) == 17
    for topic in CONFIG.topics:
        definition = topic.definition()
        assert set(CONFIG.site.languages) <= set(definition.terms), topic.id
        assert definition.terms.get(LATIN), topic.id
        assert set(topic.name) == set(CONFIG.site.languages), topic.id


@pytest.mark.parametrize(
    "topic, language, term", NAMES, ids=[f"{t}-{lang}-{term}" for t, lang, term in NAMES]
)
def test_each_name_tags_its_own_species_and_no_neighbour(
    topic: str, language: str, term: str
) -> None:
    """No bleeding: a name of the kiang is not the kulan's, the Persian leopard's not the
    snow leopard's, however it is written."""
    for text in (term, term.upper(), f"« {term} »", f"{term}. {term}"):
        assert MATCHER.match(text, language) == (topic,), text
