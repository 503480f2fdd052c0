"""When a passage in another language is a version of its own: a quoted Russian sentence in an
English report stays inside the English version (with a warning saying so), a short story
told in both languages is split, and the threshold (MIN_VERSION_WORDS words, or
1/MIN_VERSION_SHARE of the story's words) holds exactly, both ways."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.ingest.prepare import MIN_VERSION_SHARE, MIN_VERSION_WORDS
from cmsfeed.model import Item, Problem, Story
from support.language import bare_preparer

ENGLISH_REPORT = [
    "Rangers of the Altyn-Dala initiative counted saigas from the air this spring, and the "
    "survey found more animals than in any year since the count began two decades ago.",
    "The team flew transects over the Betpak-Dala, Ustyurt and Ural populations and used "
    "high resolution cameras to count the herds, which were larger than experts expected.",
    "Officials said that the recovery shows what the protection of calving grounds and the "
    "fight against poaching can achieve when the range states work together for years.",
]
# Russian words that read as Russian at once (ы, э and Russian's own little words).
RUSSIAN_TEXT = (
    "в этом году инспекторы и учёные насчитали в степи больше сайгаков чем когда либо "
    "это рекорд для популяции и для всех нас что радует специалистов в регионе"
)


def russian(words: int) -> str:
    """A Russian passage of exactly `words` words."""
    vocabulary = RUSSIAN_TEXT.split()
    found = [vocabulary[i % len(vocabulary)] for i in range(words)]
    return " ".join(found).capitalize() + "."


def prepare(title: str, paragraphs: list[str]) -> tuple[list[Item], list[Problem]]:
    story = Story(
        position="item 1",
        title=title,
        summary_html="".join(f"<p>{p}</p>" for p in paragraphs),
        published_at=datetime(2024, 5, 1, tzinfo=UTC),
        key="story-1",
    )
    return bare_preparer().prepare(story)


def test_a_quoted_sentence_in_another_language_stays_inside_the_story_with_a_warning():
    quote = "«Это лучший год для сайгаков за всю историю наблюдений», сказал инспектор."
    items, problems = prepare(
        "Saiga numbers rise again", [*ENGLISH_REPORT[:2], quote, ENGLISH_REPORT[2]]
    )
    [item] = items
    assert item.language == "en" and item.translation_group is None
    assert "сайгаков" in item.summary  # kept, in its place, not lost
    assert item.summary.index("сайгаков") < item.summary.index("Officials")
    [warning] = problems
    assert not warning.rejected and warning.position == "item 1"
    assert "passage in 'ru' inside the 'en' version" in warning.reason
    assert f"{MIN_VERSION_WORDS} words" in warning.reason


def test_a_short_story_told_in_both_languages_is_split():
    items, problems = prepare(
        "Saiga calves born",
        [
            "Thousands of saiga calves were born on the steppe this May.",
            "В мае в степи родились тысячи детёнышей сайгака.",
        ],
    )
    assert problems == []
    assert sorted(item.language for item in items) == ["en", "ru"]
    assert len({item.translation_group for item in items}) == 1


@pytest.mark.parametrize(
    "extra_english, words, split",
    [
        # A paragraph of MIN_VERSION_WORDS words is a version, one word fewer is not (the
        # English report is long enough that a third of it is more than that).
        (ENGLISH_REPORT, MIN_VERSION_WORDS, True),
        (ENGLISH_REPORT, MIN_VERSION_WORDS - 1, False),
    ],
)
def test_the_word_threshold_holds_exactly(extra_english, words, split):
    items, problems = prepare("Saiga numbers rise again", [*extra_english, russian(words)])
    assert len(items) == (2 if split else 1)
    assert bool(problems) is not split


def test_the_share_threshold_holds_exactly():
    # English of 2n words: a Russian passage of n words is a third of the story, n - 1 is
    # not (n = 15: enough letters to be told, fewer words than MIN_VERSION_WORDS).
    english = " ".join(" ".join(ENGLISH_REPORT).split()[:30])
    below = prepare("Saigas", [english, russian(14)])  # 14 * 3 < 44
    at = prepare("Saigas", [english, russian(15)])  # 15 * 3 >= 45
    assert len(below[0]) == 1 and below[1]
    assert len(at[0]) == 2 and not at[1]
    assert MIN_VERSION_SHARE == 3 and MIN_VERSION_WORDS > 15


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# From 12 words a Russian passage has the letters to be told (fewer: it stays with its
# neighbour whatever the threshold).
@given(english_paragraphs=st.integers(1, 3), words=st.integers(12, 60))
def test_a_passage_is_split_exactly_when_it_has_enough_words_or_share(english_paragraphs, words):
    english = ENGLISH_REPORT[:english_paragraphs]
    english_words = sum(len(p.split()) for p in english)
    items, problems = prepare("Saiga numbers rise again", [*english, russian(words)])
    if words > english_words:
        return  # the Russian is the larger version: it always stands (checked below)
    expected = words >= MIN_VERSION_WORDS or words * MIN_VERSION_SHARE >= english_words + words
    assert len(items) == (2 if expected else 1)
    assert [p.rejected for p in problems] == ([] if expected else [False])
    # Nothing lost: every paragraph is in exactly one item.
    assert sum(item.summary.count("<p>") for item in items) == english_paragraphs + 1


def test_a_long_russian_story_with_an_english_quote_keeps_the_quote_inside():
    quote = "The saiga is back, said the head of the survey team."
    long_russian = [russian(30), russian(28)]
    items, problems = prepare("Сайгаков стало больше", [long_russian[0], quote, long_russian[1]])
    [item] = items
    assert item.language == "ru" and "saiga is back" in item.summary
    assert "passage in 'en' inside the 'ru' version" in problems[0].reason
