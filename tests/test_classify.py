"""Topics and languages: inflected Russian, English plurals, phrases, Latin names, the split
of a bilingual story, and what an operator sets by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

import cmsfeed.cli  # registers the commands on `cli`
from cmsfeed.classify import LanguageIdentifier, TopicMatcher
from cmsfeed.cli.app import cli as cmsfeed
from cmsfeed.config import load_config
from cmsfeed.ingest.prepare import StoryPreparer
from cmsfeed.ingest.run import Ingester
from cmsfeed.model import Story

BUNDLED = Path(__file__).resolve().parent.parent / "src" / "cmsfeed" / "data" / "config.toml"


@cache
def matcher() -> TopicMatcher:
    config = load_config(BUNDLED, {})
    return TopicMatcher([t.definition() for t in config.topics])


@cache
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(["en", "ru"])


def preparer() -> StoryPreparer:
    config = load_config(BUNDLED, {})
    return StoryPreparer("test", identifier(), matcher(), "en", frozenset(config.topic_ids()))


@pytest.mark.parametrize(
    "text, topics",
    [
        ("Численность бухарского оленя растёт", ("bukhara-deer",)),
        ("Учёт бухарских оленей в Таджикистане", ("bukhara-deer",)),
        ("Бухарские олени вернулись в тугаи", ("bukhara-deer",)),
        ("о бухарском олене", ("bukhara-deer",)),
        ("Реинтродукция куланов в Казахстане", ("kulan",)),
        ("Кулан вернулся", ("kulan",)),
        ("Стадо джейранов на плато Устюрт", ("goitered-gazelle",)),
        ("Популяция баранов Марко Поло на Памире", ("argali",)),
        ("Численность сайгаков превысила миллион", ("saiga",)),
        ("Следы снежных барсов и ирбисов", ("snow-leopard",)),
        ("Учёт диких двугорбых верблюдов в Гоби", ("wild-camel",)),
    ],
)
def test_russian_inflections_match_the_dictionary_form(text: str, topics: tuple[str, ...]):
    assert matcher().match(text, "ru") == topics


@pytest.mark.parametrize(
    "text, topics",
    [
        ("Saigas return to the steppe", ("saiga",)),
        ("Two snow leopards on camera", ("snow-leopard",)),
        ("Kulans and jeyrans share the Barsakelmes reserve", ("kulan", "goitered-gazelle")),
        ("Goitered gazelles in Turkmenistan", ("goitered-gazelle",)),
        ("Marco Polo sheep counted in the Pamirs", ("argali",)),
        ("The Bukhara deer's range", ("bukhara-deer",)),
    ],
)
def test_english_plurals_and_possessives_match(text: str, topics: tuple[str, ...]):
    assert matcher().match(text, "en") == topics


@pytest.mark.parametrize(
    "text, language",
    [
        ("A workshop in the Bukhara region", "en"),
        ("Deer and argali-free areas near Bukhara", "en"),
        ("The forum met in Bukhara. Deer populations were not discussed.", "en"),
        ("Семинар в Бухарской области", "ru"),
        ("Олень и Бухара", "ru"),
        ("Snow fell early; leopard tracks were seen later", "en"),
    ],
)
def test_a_term_is_a_whole_phrase_within_one_sentence(text: str, language: str):
    assert "bukhara-deer" not in matcher().match(text, language)
    assert "snow-leopard" not in matcher().match(text, language)


def test_latin_names_match_in_a_russian_text():
    text = "Учёные изучили популяцию Cervus elaphus bactrianus и Ovis ammon polii в заповеднике."
    assert matcher().match(text, "ru") == ("bukhara-deer", "argali")
    assert matcher().match("Ovis в горах", "ru") == ()  # a genus alone is not a species


def test_language_is_identified_per_paragraph():
    english = "The Bukhara deer is a subspecies of the red deer."
    assert identifier().identify(english).language == "en"
    assert identifier().identify("Бухарский олень — подвид благородного оленя.").language == "ru"
    assert identifier().identify("MoU").language is None  # too short to tell


def test_a_bilingual_story_becomes_linked_language_versions():
    story = Story(
        position="line 1",
        title="New Work Programme for the Bukhara Deer",
        summary_html=(
            "<p>Signatories to the Bukhara Deer MOU met in Almaty to review progress "
            "in the conservation of the species.</p>"
            "<p>Стороны Меморандума по бухарскому оленю встретились в Алматы, чтобы "
            "обсудить сохранение вида. Первое заседание прошло успешно.</p>"
        ),
        published_at=datetime(2024, 10, 29, tzinfo=UTC),
        key="https://example.org/work-programme",
    )
    items, problems = preparer().prepare(story)
    assert problems == []
    english, russian = items
    assert (english.language, russian.language) == ("en", "ru")
    assert english.title == story.title
    # The first sentence is 92 characters: over the limit, so it ends at its first clause.
    assert russian.title == "Стороны Меморандума по бухарскому оленю встретились в Алматы…"
    assert "Signatories" in english.summary and "Стороны" not in english.summary
    assert "Стороны" in russian.summary and "Signatories" not in russian.summary
    assert english.translation_group == russian.translation_group is not None
    assert english.key == "test|https://example.org/work-programme"
    assert russian.key == english.key + "#ru"
    assert english.topics == russian.topics == ("bukhara-deer",)


def test_a_russian_title_keeps_the_key_for_the_russian_version():
    story = Story(
        position="line 1",
        title="Новая программа работ по бухарскому оленю",
        summary_html=(
            "<p>Signatories to the Bukhara Deer MOU met in Almaty to review progress "
            "in the conservation of the species.</p>"
            "<p>Стороны Меморандума по бухарскому оленю встретились в Алматы, чтобы "
            "обсудить сохранение вида.</p>"
        ),
        published_at=datetime(2024, 10, 29, tzinfo=UTC),
        key="k",
    )
    items, _ = preparer().prepare(story)
    assert [(item.language, item.key) for item in items] == [("ru", "test|k"), ("en", "test|k#en")]


def edit_seed(tmp_path: Path, old: str, new: str) -> None:
    seed = tmp_path / "seed.txt"
    text = seed.read_text(encoding="utf-8")
    assert old in text
    seed.write_text(text.replace(old, new), encoding="utf-8")


def test_a_manual_tag_survives_re_ingest(tmp_path: Path, make_config, store, clock):
    config = make_config()
    Ingester(config, store, clock).ingest()
    [item] = [i for i in store.list_items() if i.title.startswith("Connectivity Conservation")]
    assert item.topics == () and item.language == "en"

    result = CliRunner().invoke(
        cmsfeed,
        [
            "--config",
            str(tmp_path / "config.toml"),
            "items",
            "tag",
            item.id,
            "--topic",
            "saiga",
            "--topic",
            "kulan",
            "--lang",
            "ru",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"{item.id}: language ru, topics kulan, saiga\n"

    clock.now += timedelta(days=1)
    report = Ingester(config, store, clock).ingest()
    assert report.counts.retagged == 0
    again = store.get_item(item.id)
    assert (again.language, set(again.topics)) == ("ru", {"saiga", "kulan"})
    # An edit of the story does not undo the hand-set tags either. (A listing has no ids, so
    # only an edit of the summary is the same story; a new title is a new story.)
    edit_seed(tmp_path, "Two years away from its adoption", "Two years before its adoption")
    Ingester(config, store, clock).ingest()
    edited = [i for i in store.list_items() if i.title.startswith("Connectivity Conservation")]
    assert [(i.id, i.language, set(i.topics)) for i in edited] == [
        (item.id, "ru", {"saiga", "kulan"})
    ]
    assert "Two years before its adoption" in edited[0].summary


def test_an_unknown_topic_or_language_is_refused_by_tag(tmp_path: Path, make_config, store):
    make_config()
    runner = CliRunner()
    config = str(tmp_path / "config.toml")
    result = runner.invoke(
        cmsfeed, ["--config", config, "items", "tag", "0123", "--topic", "unicorn"]
    )
    assert result.exit_code == 2
    assert "--topic: unknown topic 'unicorn'" in result.output
    for code in ("xx", "la", "english"):  # not a language, Latin names, not a code
        result = runner.invoke(
            cmsfeed, ["--config", config, "items", "tag", "0123", "--lang", code]
        )
        assert result.exit_code == 2, code
        assert f"--lang: {code!r} is not a language code" in result.output
    # Kazakh is not a site language, but a story can be in it (ingest.other_languages).
    result = runner.invoke(cmsfeed, ["--config", config, "items", "tag", "0123", "--lang", "kk"])
    assert result.exit_code == 1
    result = runner.invoke(cmsfeed, ["--config", config, "items", "tag", "0123", "--lang", "en"])
    assert result.exit_code == 1
    assert "error: 0123: no item with this id" in result.output


def test_an_edited_story_keeps_its_id_and_gets_a_new_updated_at(
    tmp_path, make_config, store, clock
):
    config = make_config()  # once: it copies the seed afresh
    Ingester(config, store, clock).ingest()
    [before] = [i for i in store.list_items() if i.title.startswith("World's Largest")]
    clock.now += timedelta(days=3)
    edit_seed(tmp_path, "less than four thousand individuals", "about four thousand animals")
    report = Ingester(config, store, clock).ingest()
    assert (report.counts.updated, report.counts.inserted) == (1, 0)
    after = store.get_item(before.id)
    assert "about four thousand animals" in after.summary
    assert after.updated_at == clock.now > before.updated_at
    assert after.first_seen_at == before.first_seen_at
    assert after.published_at == before.published_at


def test_a_story_that_gains_a_translation_keeps_its_id(tmp_path, make_config, store, clock):
    config = make_config()
    Ingester(config, store, clock).ingest()
    [english] = [i for i in store.list_items() if i.title.startswith("World's Largest")]
    assert english.translations == ()
    edit_seed(
        tmp_path,
        "(NABR) in Karakalpakstan, Uzbekistan.",
        "(NABR) in Karakalpakstan, Uzbekistan.\n"
        # A translation: words enough to be a version of its own (not a quotation).
        "Бухарский олень обитает в тугайных лесах вдоль рек Центральной Азии и оценивается "
        "МСОП как уязвимый вид. Благодаря охране его численность в регионе за последние "
        "двадцать лет выросла в несколько раз.",
    )
    clock.now += timedelta(days=1)
    report = Ingester(config, store, clock).ingest()
    assert report.counts.inserted == 1
    again = store.get_item(english.id)
    [russian] = again.translations
    assert store.get_item(russian).language == "ru"
    assert store.get_item(russian).translations == (english.id,)
