"""The fast paths of preparing a story give the answers of the slow ones: letters counted on
bytes equal the regexes' counts for every character; a text English by its little words is
one Lingua (where sure) calls English, and a text in another language that quotes English
is still left to Lingua; paragraphs identified together only where none shows a sign of
another language, so a story told in English and French is still split; plain paragraphs
that skip cleaning are what cleaning returns."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

from cmsfeed.classify import LanguageIdentifier, TopicMatcher
from cmsfeed.classify.english import is_plain_english, reads_as_english
from cmsfeed.classify.language import (
    CERTAIN_LETTERS,
    LATIN_LANGUAGES,
    SAMPLE_CHARS,
    SCRIPT_CHARS,
    WORD_STEP_BACK,
    _by_letters,
    _letters,
    _letters_by_pattern,
    opening,
    script_of,
)
from cmsfeed.ingest.paragraphs import is_plain_paragraphs, paragraphs
from cmsfeed.ingest.prepare import _CHANGED_BY_CLEANING, StoryPreparer
from cmsfeed.model import Story
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
        # Accents written as combining marks (NFD) are accents still.
        unicodedata.normalize(
            "NFD", "The café and the crêpe stand at the Médéo gate were closed for the winter."
        ),
    ],
)
def test_a_text_that_is_not_plainly_english_is_left_to_lingua(text: str):
    assert not _english_by_words(text)


def test_a_plain_english_text_is_english_and_certain_without_lingua():
    text = "Rangers in the Altai counted saigas this spring, and the numbers were a record."
    assert is_plain_english(text)
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


# Sentences in the Latin-script languages Lingua is asked about, besides English; most with
# none of the words NOT_ENGLISH_WORDS lists, and many typed without their accents.
OTHER_LATIN = [
    "Les gardes ont compte plus de deux cents saigas dans la steppe cette annee.",
    "Le plan d'action pour l'argali a ete adopte a Tachkent.",
    "Neuf leopards ont ete vus cet hiver, un nombre jamais atteint selon plusieurs gardes "
    "forestiers, qui ont installe trente nouveaux pieges photographiques cette annee.",
    "Los guardabosques contaron mas de doscientos antilopes saiga en la estepa.",
    "Die Ranger zaehlten in diesem Jahr mehr als zweihundert Saiga-Antilopen im Steppengebiet.",
    "Neun Schneeleoparden wurden diesen Winter gesehen, so viele wie noch nie zuvor.",
    "I guardiaparco hanno contato piu di duecento saighe nella steppa quest'anno.",
    "Gli esperti hanno contato nove leopardi delle nevi nel parco nazionale durante questo "
    "inverno, un numero mai visto prima secondo i ricercatori locali.",
    "Os guardas contaram mais de duzentos antilopes saiga na estepe este ano, diz uma nota.",
    "De boswachters telden dit jaar meer dan tweehonderd saiga's op de steppe van Kazachstan.",
    "Negen sneeuwluipaarden zijn deze winter gezien door boswachters, meer dan ooit tevoren.",
    "Straznicy naliczyli w tym roku ponad dwiescie antylop saiga na stepie, to jest rekord.",
    "Paznicii au numarat peste doua sute de antilope saiga in stepa anul acesta.",
    "Korucular bu yıl bozkırda iki yüzden fazla saiga saydı, bu bir rekor.",
    "O'zbekiston hukumati bu hafta tog'li hududlarda qor qoplonlari sonini e'lon qildi.",
    # An accent written as a combining mark (NFD), as some systems store text.
    unicodedata.normalize("NFD", "Neuf panthères ont été vues cet hiver dans le Tian Shan."),
]


def test_no_text_in_another_latin_language_reads_as_english():
    # The rule that lets a story's paragraphs be identified together (one Lingua call, not one
    # a paragraph) must never take in a paragraph of another language: every French and
    # Spanish labelled item, and the sentences above, accented or not.
    labelled = json.loads(LABELLED.read_text(encoding="utf-8"))
    for entry in labelled:
        if entry["language"] in ("fr", "es"):
            assert not reads_as_english(entry["text"]), entry["id"]
    for text in OTHER_LATIN:
        assert not reads_as_english(text), text
    english = [e["text"] for e in labelled if e["language"] == "en"]
    assert sum(map(reads_as_english, english)) * 10 >= len(english) * 9


T = datetime(2024, 12, 2, tzinfo=UTC)


@cache
def four_language_preparer() -> StoryPreparer:
    identifier = LanguageIdentifier(["en", "fr", "es", "ru"])
    return StoryPreparer("prop", identifier, TopicMatcher([]), "en", frozenset())


ENGLISH = (
    "A new action plan for the saiga antelope was agreed by the range states meeting in "
    "Tashkent this week, and the governments of Kazakhstan, Uzbekistan and Turkmenistan "
    "committed to joint patrols along the migration routes that the herds have used for "
    "centuries."
)
SECOND_VERSIONS = {
    # Typed without accents, as on an English keyboard: its little words tell it.
    "fr": "Un nouveau plan d'action pour l'antilope saiga a ete adopte par les Etats de l'aire "
    "de repartition reunis a Tachkent cette semaine, et les gouvernements du Kazakhstan, de "
    "l'Ouzbekistan et du Turkmenistan se sont engages a des patrouilles communes.",
    "es": "Los Estados del área de distribución reunidos en Taskent esta semana acordaron un "
    "nuevo plan de acción para el antílope saiga, y los gobiernos de Kazajistán, Uzbekistán y "
    "Turkmenistán se comprometieron a realizar patrullas conjuntas en las rutas migratorias.",
    "de": "Die Staaten des Verbreitungsgebiets haben sich diese Woche in Taschkent auf einen "
    "neuen Aktionsplan für die Saiga-Antilope geeinigt, und die Regierungen Kasachstans, "
    "Usbekistans und Turkmenistans sagten gemeinsame Patrouillen entlang der Wanderrouten zu.",
}


@pytest.mark.parametrize("language", sorted(SECOND_VERSIONS))
def test_a_story_told_in_english_and_another_latin_language_is_split(language: str):
    story = Story(
        "item 1",
        "A new action plan for the saiga antelope",
        f"<p>{ENGLISH}</p><p>{SECOND_VERSIONS[language]}</p>",
        datetime(2024, 12, 2, tzinfo=UTC),
        url="https://news.example.org/saiga-plan",
    )
    items, problems = four_language_preparer().prepare(story)
    assert not [p for p in problems if p.rejected]
    assert [(item.language, item.language_uncertain) for item in items] == [
        ("en", False),
        (language, False),
    ]
    assert items[1].summary == f"<p>{SECOND_VERSIONS[language]}</p>"


@pytest.mark.parametrize("other", OTHER_LATIN)
@pytest.mark.parametrize("english_first", [True, False])
def test_no_paragraph_in_another_latin_language_is_joined_to_the_english_ones(
    other: str, english_first: bool
):
    # Each paragraph is read on its own unless it reads as English: the other one is never
    # identified as part of the English text, whichever comes first. (Said three times, it is
    # long enough to be a version rather than a quotation kept inside the English one.)
    other = " ".join([other] * 3)
    texts = [ENGLISH, other] if english_first else [other, ENGLISH]
    found = paragraphs("".join(f"<p>{text}</p>" for text in texts))
    english_index = 0 if english_first else 1
    requests = four_language_preparer()._identification_requests(found)
    assert sorted(indexes for indexes, _ in requests) == [[0], [1]]
    story = Story("item 1", "Snow leopards", "".join(f"<p>{t}</p>" for t in texts), T)
    items, _ = four_language_preparer().prepare(story)
    english = [item for item in items if item.language == "en"]
    assert len(items) == 2 and len(english) == 1, [(i.language, i.summary[:40]) for i in items]
    assert english[0].summary == f"<p>{texts[english_index]}</p>"


def test_plainly_english_paragraphs_are_identified_together():
    # Each alone too short to settle (one English little word, under the certain length);
    # together English by their words, with no Lingua call a paragraph.
    summary = "".join(
        f"<p>A new action plan for {name} was agreed in {place}.</p>"
        for name, place in (("saigas", "Almaty"), ("kulans", "Bukhara"), ("argali", "Osh"))
    )
    preparer = four_language_preparer()
    found = paragraphs(summary)
    assert [indexes for indexes, _ in preparer._identification_requests(found)] == [[0, 1, 2]]
    story = Story("item 1", "Action plans", summary, datetime(2024, 12, 2, tzinfo=UTC))
    [item], _ = preparer.prepare(story)
    assert (item.language, item.language_uncertain) == ("en", False)


@given(st.text(alphabet=st.sampled_from("ab \n\u00a0é"), max_size=60), st.integers(1, 40))
def test_the_sample_read_ends_at_a_word(text: str, limit: int):
    sample = opening(text, limit)
    assert text.startswith(sample) and len(sample) <= limit
    ends_at_word = sample == text or text[len(sample)].isspace()
    # else no space within reach: one long word, or a script written without spaces
    reach = sample[max(limit - WORD_STEP_BACK, 0) + 1 :]
    cut_where_it_stands = len(sample) == limit and not any(c.isspace() for c in reach)
    assert ends_at_word or cut_where_it_stands


def test_a_latin_name_before_chinese_text_is_not_all_that_is_read():
    text = "WWF " + "雪豹在天山被红外相机拍到" * 30
    assert opening(text, SAMPLE_CHARS) == text[:SAMPLE_CHARS]


@given(st.text(alphabet=st.sampled_from("ab Z1.\nжЫ\u00e9ß\u4e2d"), max_size=100))
def test_the_script_of_a_text_is_that_of_most_of_its_first_letters(text: str):
    latin, cyrillic, letters = _letters_by_pattern(text[:SCRIPT_CHARS])
    if latin == cyrillic == 0:
        expected = "other" if letters else "none"
    else:
        expected = "latin" if latin >= cyrillic else "cyrillic"
    assert script_of(text) == expected


RUSSIAN = (
    "Инспекторы заповедника насчитали в этом году более двухсот сайгаков, и это рекорд за "
    "всё время наблюдений, сообщили в дирекции. Для защиты стада установлены новые "
    "фотоловушки вдоль путей миграции."
)
NEIGHBOURS = {
    "kk": "Биыл далада екі жүзден астам ақбөкен саналды, бұл бақылау басталғаннан бергі рекорд. "
    * 3,
    "ky": "Токой кароолчулары Кыргызстандын тоолорунда илбирсти көрүштү. Коргоо чаралары "
    "аркасында алардын саны көбөйүүдө. " * 3,
    "uk": "Цього року в степу нарахували понад двісті сайгаків, це рекорд спостережень. " * 3,
}


@pytest.mark.parametrize("language", sorted(NEIGHBOURS))
@pytest.mark.parametrize("russian_first", [True, False])
def test_a_russian_story_with_a_translation_in_a_neighbouring_cyrillic_language_is_split(
    language: str, russian_first: bool
):
    # Russian is the site's only Cyrillic language, yet a Kazakh, Kyrgyz or Ukrainian
    # paragraph is never read as part of the Russian ones (nor they as part of it).
    texts = [RUSSIAN, RUSSIAN, NEIGHBOURS[language]]
    texts = texts if russian_first else texts[::-1]
    story = Story("item 1", "Сайгаки", "".join(f"<p>{t}</p>" for t in texts), T)
    items, _ = four_language_preparer().prepare(story)
    assert sorted((item.language, item.language_uncertain) for item in items) == sorted(
        [("ru", False), (language, False)]
    )
    [russian] = [item for item in items if item.language == "ru"]
    assert russian.summary == f"<p>{RUSSIAN}</p><p>{RUSSIAN}</p>"


def test_an_english_story_with_a_german_translation_is_split_on_an_english_russian_site():
    english_russian = StoryPreparer(
        "prop", LanguageIdentifier(["en", "ru"]), TopicMatcher([]), "en", frozenset()
    )
    story = Story("item 1", "Saiga plan", f"<p>{ENGLISH}</p><p>{SECOND_VERSIONS['de']}</p>", T)
    items, _ = english_russian.prepare(story)
    assert [(item.language, item.language_uncertain) for item in items] == [
        ("en", False),
        ("de", False),
    ]


def test_a_translation_in_a_script_without_spaces_is_a_version_not_a_one_word_quotation():
    chinese = "护林员今年在草原上数到了两百多只赛加羚羊，这是自监测开始以来的最高纪录。" * 3
    story = Story("item 1", "Saiga plan", f"<p>{ENGLISH}</p><p>{chinese}</p>", T)
    items, problems = four_language_preparer().prepare(story)
    assert [item.language for item in items] == ["en", "zh"], [p.reason for p in problems]
    assert not problems
