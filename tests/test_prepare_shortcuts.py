"""The fast paths of preparing a story give the answers of the slow ones: letters counted on
bytes equal the regexes' counts for every character; a text English by its little words is
one Lingua (where sure) calls English, and a text in another language that quotes English
is still left to Lingua; plain paragraphs that skip cleaning are what cleaning returns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

from cmsfeed.classify.language import (
    CERTAIN_LETTERS,
    LATIN_LANGUAGES,
    SAMPLE_CHARS,
    _by_letters,
    _is_plain_english,
    _letters,
    _letters_by_pattern,
)
from cmsfeed.ingest.paragraphs import is_plain_paragraphs
from cmsfeed.ingest.prepare import _CHANGED_BY_CLEANING
from cmsfeed.sanitize import clean_html, remove_xml_forbidden
from support.language import identifier

LABELLED = Path(__file__).resolve().parent / "data" / "topics" / "labelled.json"


def test_letters_counted_on_bytes_equal_the_regexes_for_every_character_they_meet():
    # Every character of two UTF-8 bytes and of the lead bytes E0-E3 (U+0800-U+3FFF: the
    # lead bytes the byte counts look at, and their neighbours; the rest of Unicode is left
    # to hypothesis below), among Latin and Cyrillic letters and the punctuation Russian news
    # writes, so the byte counts meet each in the company it usually keeps.
    for code in range(0x80, 0x4000):
        text = f"ab{chr(code)}вг «x» — {chr(code)}é"
        assert _letters(text) == _letters_by_pattern(text), hex(code)


@given(st.text(max_size=SAMPLE_CHARS))
def test_letters_counted_on_bytes_equal_the_regexes_for_any_text(text: str):
    assert _letters(text) == _letters_by_pattern(text)


@given(
    st.text(
        alphabet=st.sampled_from("abcdеёжзий ABCЫЭ.,«»—–…’“”\n0123ªµ²ⁱ½\u00a0éçñşğӘҚ"),
        max_size=SAMPLE_CHARS,
    )
)
def test_letters_counted_on_bytes_equal_the_regexes_for_mixed_scripts(text: str):
    assert _letters(text) == _letters_by_pattern(text)


def _english_by_words(text: str) -> bool:
    sample = text[:SAMPLE_CHARS]
    latin, cyrillic, letters = _letters(sample)
    return _by_letters(sample, latin, cyrillic, letters) == "en"


def test_english_by_its_words_agrees_with_lingua_on_the_labelled_items():
    labelled = json.loads(LABELLED.read_text(encoding="utf-8"))
    english = [entry["text"] for entry in labelled if entry["language"] == "en"]
    settled = [text for text in english if _english_by_words(text)]
    # The shortcut must be worth having: most English news settles without Lingua.
    assert len(settled) * 2 > len(english)
    lingua = LanguageDetectorBuilder.from_iso_codes_639_1(
        *(getattr(IsoCode639_1, code.upper()) for code in LATIN_LANGUAGES)
    ).build()
    for text in settled:
        assert lingua.detect_language_of(text[:SAMPLE_CHARS]) == Language.ENGLISH, text
    for entry in labelled:
        if entry["language"] != "en":
            assert not _english_by_words(entry["text"]), entry["id"]


@pytest.mark.parametrize(
    "text",
    [
        # Other languages naming English things: accents, or too few English words.
        "Le Snow Leopard Trust et le gouvernement ont signé un accord pour protéger la "
        "panthère des neiges dans les montagnes du Tian Shan.",
        "Der Snow Leopard Trust hat mit der Regierung ein Abkommen zum Schutz der "
        "Schneeleoparden im Tian Shan unterzeichnet, teilte die Organisation mit.",
        "Het rapport State of the World Migratory Species werd gepresenteerd in Samarkand "
        "door de secretaris van het verdrag, samen met de ministers van de regio.",
        "Los guardabosques contaron mas de doscientos antilopes saiga en la estepa y "
        "presentaron the report with the numbers al ministerio.",
        # English, but too short to be more than a guess: left to Lingua and uncertain.
        "The saiga and the kulan",
    ],
)
def test_a_text_that_is_not_plainly_english_is_left_to_lingua(text: str):
    assert not _english_by_words(text)


def test_a_plain_english_text_is_english_and_certain_without_lingua():
    text = "Rangers in the Altai counted saigas this spring, and the numbers were a record."
    assert _is_plain_english(text)
    assert len(text) >= CERTAIN_LETTERS
    found = identifier().identify(text)
    assert (found.language, found.certain) == ("en", True)


@settings(max_examples=500)
@given(
    texts=st.lists(
        st.text(st.characters(blacklist_characters="<>", blacklist_categories=("Cs",))),
        min_size=1,
        max_size=4,
    ),
    separator=st.sampled_from(["", " ", "\n", "\n\n  "]),
)
def test_plain_paragraphs_that_skip_cleaning_are_what_cleaning_returns(texts, separator):
    summary, _ = remove_xml_forbidden(separator.join(f"<p>{text}</p>" for text in texts))
    if is_plain_paragraphs(summary) and not _CHANGED_BY_CLEANING.search(summary):
        assert clean_html(summary, "https://news.example.org/") == summary.strip()


@pytest.mark.parametrize("character", ["&", "\r", "\u00a0", "&amp;"])
def test_what_cleaning_would_rewrite_is_cleaned(character):
    summary = f"<p>Saigas{character}kulans</p>"
    assert _CHANGED_BY_CLEANING.search(summary)
    assert clean_html(summary) != summary or character == "&amp;"
