"""Languages: stories in languages outside the site's identified as what they are (German,
Kazakh, Kyrgyz, Uzbek ...), kept or skipped, and only in the all-languages feeds; short texts
falling back to the declared language (JSON, feed, page, source) or marked uncertain; the
operator's correction kept. Splitting stories into versions: test_language_versions.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cmsfeed.cli  # registers the commands on `cli`
from cmsfeed.classify import Identification
from cmsfeed.cli.app import cli as cmsfeed
from cmsfeed.digest.select import choose_items
from cmsfeed.ingest.run import Ingester, ParseOptions, SourceReport, parse_bytes
from cmsfeed.model import Item, Story
from cmsfeed.publish.collect import render_site
from cmsfeed.subscribers import Subscriber
from support.language import DATA, PLACES, SELECTORS, bare_preparer, identifier


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "Rangers counted more than two hundred saigas in the steppe this year."),
        ("ru", "В этом году в степи насчитали более двухсот сайгаков, это рекорд."),
        ("fr", "Les gardes ont compté plus de deux cents saïgas dans la steppe cette année."),
        ("es", "Los guardabosques contaron más de doscientos antílopes saiga en la estepa."),
        ("de", "Die Ranger zählten in diesem Jahr mehr als zweihundert Saiga-Antilopen."),
        ("it", "I guardiaparco hanno contato più di duecento saighe nella steppa quest'anno."),
        ("tr", "Korucular bu yıl bozkırda iki yüzden fazla saiga saydı, bu bir rekor."),
        (
            "kk",
            "Биыл далада екі жүзден астам ақбөкен саналды, бұл бақылау басталғаннан бергі рекорд.",
        ),
        (
            "ky",
            "Быйыл Нарын облусунда илбирстердин саны көбөйдү. Жаңы камералар орнотулду.",
        ),
        (
            "uz",
            "Buxoro viloyatida Buxoro bugʻusi soni oʻsdi, deb xabar berdi qoʻriqxona xodimlari.",
        ),
        ("uz", "Бухоро вилоятида бухоро буғуси сони ўсди, деб хабар берди қўриқхона ходимлари."),
        # Kyrgyz without ң, which Lingua alone calls Mongolian or Kazakh (classify/kyrgyz.py).
        (
            "ky",
            "Токой кароолчулары Кыргызстандын тоолорунда илбирсти көрүштү. Коргоо чаралары "
            "аркасында алардын саны көбөйүүдө.",
        ),
        ("ky", "Улуттук парктын кызматкерлери быйыл тоо текелерди жана аркарларды санап чыгышты."),
        ("mn", "Говийн бүсэд хавтгайн тоо толгойг тоолох ажил энэ онд амжилттай явагдлаа."),
        ("mn", "Их говийн дархан цаазат газарт мазаалай баавгайн тоо толгойг судлаачид тоолжээ."),
        ("tg", "Дар шимоли Тоҷикистон шумораи оҳуи бухороӣ зиёд шуд, хабар доданд кормандон."),
        ("uk", "Цього року в степу нарахували понад двісті сайгаків, це рекорд спостережень."),
    ],
)
def test_a_text_is_identified_as_the_language_it_is_in(language: str, text: str):
    found = identifier().identify(text)
    assert (found.language, found.certain) == (language, True)


@pytest.mark.parametrize(
    "text",
    [
        # Kazakh letters in a name do not make a Russian text Kazakh.
        "Инспекторы заповедника «Ақсу-Жабағлы» насчитали в этом году сорок снежных барсов.",
        # Nor do apostrophes make an English one Uzbek.
        "At four o'clock the rangers left; by six o'clock they had counted forty saigas.",
    ],
)
def test_a_foreign_name_does_not_change_a_texts_language(text: str):
    expected = "ru" if "Инспекторы" in text else "en"
    assert identifier().identify(text) == Identification(expected, True)


@pytest.mark.parametrize(
    "language, text",
    [
        # Trigrams alone call these Dutch, German and Macedonian; short texts are read closer.
        ("en", "Persian leopard filmed in Turkmenistan's Kopetdag. Camera traps recorded it."),
        ("en", "CMS COP14 in Samarkand adopts a new programme for the Central Asian Mammals"),
        ("ru", "Алматинский зоопарк получил пару дзеренов из Монголии."),
    ],
)
def test_a_short_sentence_is_not_mistaken_for_a_neighbouring_language(language, text):
    assert identifier().identify(text).language == language


def test_a_short_text_is_never_certain():
    assert identifier().identify("Saiga count 2024").certain is False
    assert identifier().identify("Учёт сайгаков").certain is False
    assert identifier().identify("MoU").language is None


def french_and_short_config(make_config, other: str = "keep", language: str | None = None):
    """A source with the bilingual, the French, the short and the German story of
    `write_multi` (the bundled site's languages are English, French, Spanish and Russian)."""
    line = f'language = "{language}"\n' if language else ""
    return make_config(
        sources=f'[[sources]]\nid = "multi"\nkind = "listing"\npath = "multi.txt"\n{line}',
        environ={"CMSFEED_INGEST__OTHER_LANGUAGES": other},
    )


def write_multi(tmp_path: Path) -> None:
    text = (DATA / "bilingual.txt").read_text(encoding="utf-8") + (
        "\nSaiga news\n\nСайгаки в степи\n\n16 June 2024\n"
        f"\n{GERMAN_TITLE}\n\n{GERMAN_SUMMARY}\n\n17 June 2024\n"
    )
    (tmp_path / "multi.txt").write_text(text, encoding="utf-8")


GERMAN_TITLE = "Saiga-Kälber auf dem Ustjurt-Plateau gezählt"  # line 20 of write_multi's file
GERMAN_SUMMARY = (
    "Die Ranger des Schutzgebiets zählten in diesem Jahr mehr als zweihundert Saigas "
    "(Saiga tatarica), so viele wie nie seit Beginn der Zählungen. Fachleute führen den "
    "Erfolg auf den Kampf gegen die Wilderei zurück."
)


def test_a_story_in_another_language_is_kept_under_its_code_and_only_in_all_feeds(
    tmp_path, make_config, store, clock
):
    write_multi(tmp_path)
    config = french_and_short_config(make_config)
    report = Ingester(config, store, clock).ingest()
    [source] = report.sources
    assert report.ok and dict(source.other_languages) == {"de": 1}
    [german] = store.list_items(language="de")
    # No German terms are configured; its Latin name still tags it.
    assert german.title == GERMAN_TITLE and german.topics == ("saiga",)
    assert not german.language_uncertain

    files = {f.path: f.body for f in render_site(config.site_info(), store)}
    titles = {
        path: {entry.title for entry in feedparser.parse(body).entries}
        for path, body in files.items()
        if path.endswith(".atom")
    }
    assert german.title in titles["feeds/all/all.atom"]
    assert german.title in titles["feeds/saiga/all.atom"]
    for language in config.site.languages:
        assert german.title not in titles[f"feeds/all/{language}.atom"]
        assert german.title not in titles[f"feeds/saiga/{language}.atom"]
    # Nor does a digest in a site language include it.
    for language in config.site.languages:
        subscriber = Subscriber(
            "a@example.org", language=language, created_at=clock.now - timedelta(days=1)
        )
        chosen = choose_items(subscriber, store.list_items(), set(), clock.now)
        assert all(item.language == language for item in chosen)
        assert bool(chosen) == (language != "es")  # the file has no Spanish story

    result = CliRunner().invoke(
        cmsfeed, ["--config", str(tmp_path / "config.toml"), "items", "list", "--lang", "de"]
    )
    assert result.exit_code == 0 and "Saiga-Kälber" in result.output


def test_other_languages_skip_reports_and_stores_nothing(tmp_path, make_config, store, clock):
    write_multi(tmp_path)
    config = french_and_short_config(make_config, other="skip")
    report = Ingester(config, store, clock).ingest()
    [source] = report.sources
    assert report.ok and dict(source.skipped_languages) == {"de": 1}
    assert [str(p) for p in report.problems] == [
        "multi: line 20: warning: not stored: in 'de', a language outside site.languages "
        "(ingest.other_languages = 'skip')"
    ]
    assert {item.language for item in store.list_items()} == {"en", "fr", "ru"}
    result = CliRunner().invoke(
        cmsfeed,
        ["--config", str(tmp_path / "config.toml"), "ingest"],
        env={"CMSFEED_INGEST__OTHER_LANGUAGES": "skip"},
    )
    assert "multi: skipped 1 in languages outside site.languages: de 1" in result.output


def test_a_short_story_takes_the_declared_language_or_is_marked_uncertain(
    tmp_path, make_config, store, clock
):
    write_multi(tmp_path)
    config = french_and_short_config(make_config)
    Ingester(config, store, clock).ingest()
    [short] = [i for i in store.list_items() if i.title == "Saiga news"]
    # "Сайгаки в степи" is too short to be sure of; no language declared: a marked guess.
    assert short.language_uncertain
    runner = CliRunner()
    config_path = str(tmp_path / "config.toml")
    shown = runner.invoke(cmsfeed, ["--config", config_path, "items", "show", short.id])
    assert "(uncertain: too little text to tell and no language declared" in shown.output
    as_json = runner.invoke(
        cmsfeed, ["--config", config_path, "items", "show", short.id, "--format", "json"]
    )
    assert json.loads(as_json.output)["language_uncertain"] is True

    # The operator settles it; re-ingesting keeps the choice and the mark stays off.
    tagged = runner.invoke(
        cmsfeed, ["--config", config_path, "items", "tag", short.id, "--lang", "ru"]
    )
    assert tagged.exit_code == 0, tagged.output
    clock.now += timedelta(days=1)
    Ingester(config, store, clock).ingest()
    again = store.get_item(short.id)
    assert (again.language, again.language_uncertain) == ("ru", False)


def test_a_declared_language_settles_a_short_text(tmp_path, make_config, store, clock):
    write_multi(tmp_path)
    config = french_and_short_config(make_config, language="ru")
    Ingester(config, store, clock).ingest()
    [short] = [i for i in store.list_items() if i.title == "Saiga news"]
    assert (short.language, short.language_uncertain) == ("ru", False)
    # A long text is read for what it is, whatever the source declared.
    [french] = [i for i in store.list_items() if i.title.startswith("Les saïgas")]
    assert french.language == "fr"


# -- volume and variety: N stories in, N items out, each in its own language ------------------

SENTENCES = {
    "en": "Rangers in {place} counted {n} saigas this spring, the most since monitoring began.",
    "ru": "Инспекторы в {place} насчитали {n} сайгаков этой весной, больше, чем когда-либо.",
    "fr": "Les gardes de {place} ont compté {n} saïgas ce printemps, un record depuis le début.",
    "de": "Die Ranger in {place} zählten in diesem Frühjahr {n} Saigas, so viele wie nie zuvor.",
    "es": "Los guardas de {place} contaron {n} saigas esta primavera, la cifra más alta.",
    "kk": "Биыл көктемде {place} инспекторлары {n} ақбөкен санады, бұл бақылау тарихындағы рекорд.",
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(SENTENCES)), st.sampled_from(PLACES), st.integers(2, 999)),
        min_size=1,
        max_size=30,
        unique=True,
    )
)
def test_n_stories_in_n_languages_give_n_items_each_in_its_own(stories):
    published = datetime(2024, 5, 1, tzinfo=UTC)
    items: list[Item] = []
    for number, (language, place, count) in enumerate(stories):
        text = SENTENCES[language].format(place=place, n=count)
        story = Story(
            f"item {number}", f"{count} {place}", f"<p>{text}</p>", published, key=str(number)
        )
        prepared, problems = bare_preparer().prepare(story)
        assert problems == []
        items += prepared
    assert [item.language for item in items] == [language for language, _, _ in stories]
    assert len({item.id for item in items}) == len(stories)
    assert not any(item.language_uncertain for item in items)


def test_items_add_with_lang_sets_the_language_the_operator_gave(tmp_path, make_config, store):
    make_config()
    config_path = str(tmp_path / "config.toml")
    runner = CliRunner()
    added = runner.invoke(
        cmsfeed,
        [
            "--config",
            config_path,
            "items",
            "add",
            "--title",
            "Ақбөкен санағы",
            "--published",
            "2024-05-03",
            "--lang",
            "kk",
        ],
    )
    assert added.exit_code == 0, added.output
    [item_id] = added.output.split()
    item = store.get_item(item_id)
    assert (item.language, item.language_uncertain) == ("kk", False)
    # Without --lang, a title this short is a guess, and says so.
    guessed = runner.invoke(
        cmsfeed,
        [
            "--config",
            config_path,
            "items",
            "add",
            "--title",
            "Saiga count",
            "--published",
            "2024-05-03",
        ],
    )
    [guess_id] = guessed.output.split()
    assert store.get_item(guess_id).language_uncertain


def test_a_feeds_declared_language_settles_a_short_entry(make_config, store, clock):
    config = make_config(sources="")
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<language>ru-RU</language>"
        "<item><title>Сайгаки</title><guid>1</guid>"
        "<pubDate>Wed, 01 May 2024 00:00:00 GMT</pubDate></item>"
        "<item><title>Saiga calves born in Betpak-Dala, more than in any spring before</title>"
        "<guid>2</guid><pubDate>Wed, 01 May 2024 00:00:00 GMT</pubDate>"
        "<description>Rangers counted thousands of saiga calves in the steppe this week."
        "</description></item>"
        "</channel></rss>"
    ).encode()
    parsed = parse_bytes("feed", feed, "f", ParseOptions())
    assert [story.language for story in parsed.stories] == ["ru", "ru"]
    Ingester(config, store, clock).store_stories("f", parsed, SourceReport("f"))
    found = {item.title: item for item in store.list_items()}
    assert (found["Сайгаки"].language, found["Сайгаки"].language_uncertain) == ("ru", False)
    # The declaration does not override a text that is plainly English.
    english = found["Saiga calves born in Betpak-Dala, more than in any spring before"]
    assert (english.language, english.language_uncertain) == ("en", False)


def test_an_html_pages_lang_settles_a_short_story():
    page = (
        '<html lang="ru"><body>'
        '<article class="news-item"><h3><a href="/a">Сайгаки</a></h3>'
        '<span class="date">2024-05-01</span></article>'
        '<article class="news-item" lang="kk"><h3><a href="/b">Ақбөкен</a></h3>'
        '<span class="date">2024-05-01</span></article>'
        "</body></html>"
    ).encode()
    options = ParseOptions(page_url="https://news.example.org/", selectors=SELECTORS)
    parsed = parse_bytes("html", page, "h", options)
    assert [story.language for story in parsed.stories] == ["ru", "kk"]
    prepared = bare_preparer().prepare_many(parsed.stories)
    assert [(i.language, i.language_uncertain) for found, _ in prepared for i in found] == [
        ("ru", False),
        ("kk", False),
    ]


def test_check_shows_what_happens_to_other_languages_and_the_excludes(tmp_path, make_config):
    config = make_config()
    [topic] = [t for t in config.topics if t.id == "saiga"]
    excludes = sum(len(names) for names in topic.exclude.values())
    assert excludes > 10
    result = CliRunner().invoke(
        cmsfeed,
        ["--config", str(tmp_path / "config.toml"), "check"],
        env={"CMSFEED_INGEST__OTHER_LANGUAGES": "skip", "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "stories in others: skip" in result.output
    [saiga] = [line for line in result.output.splitlines() if line.startswith("saiga ")]
    assert saiga.split()[-1] == str(excludes)  # beside its terms
