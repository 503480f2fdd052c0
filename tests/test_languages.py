"""Languages from every source kind: bilingual stories split alike from listing, HTML, RSS,
Atom and JSON; stories in languages outside the site's identified as what they are, kept
or skipped; short texts falling back to the declared language or marked uncertain."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cmsfeed.cli  # registers the commands on `cli`
from cmsfeed.classify import Identification, LanguageIdentifier
from cmsfeed.cli.app import cli as cmsfeed
from cmsfeed.config import Config, SelectorsConfig
from cmsfeed.digest.select import choose_items
from cmsfeed.feeds.document import site_info
from cmsfeed.ingest.paragraphs import TITLE_LENGTH, derived_title
from cmsfeed.ingest.prepare import StoryPreparer
from cmsfeed.ingest.run import Ingester, ParseOptions, SourceReport, parse_bytes
from cmsfeed.model import Item, Story
from cmsfeed.publish.collect import render_site
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber

DATA = Path(__file__).resolve().parent / "data" / "languages"
SELECTORS = SelectorsConfig(
    item="article.news-item", title="h3 a", link="h3 a", summary="div.teaser", date="span.date"
)


@cache
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(["en", "ru"])


def ingest_file(
    config: Config, store: Store, clock, name: str, kind: str, source_id: str = "test"
) -> SourceReport:
    options = ParseOptions(
        locales=("en", "ru"), page_url="https://news.example.org/", selectors=SELECTORS
    )
    parsed = parse_bytes(kind, (DATA / name).read_bytes(), source_id, options)  # type: ignore[arg-type]
    report = SourceReport(source_id)
    Ingester(config, store, clock).store_stories(source_id, parsed, report)
    return report


def pairs(store: Store) -> list[tuple[Item, Item]]:
    """The stored items as (English, Russian) translation pairs."""
    items = {item.id: item for item in store.list_items()}
    found = []
    for item in items.values():
        if item.language == "en" and item.translations:
            [other] = item.translations
            found.append((item, items[other]))
    return found


@pytest.mark.parametrize(
    "name, kind, stories",
    [
        ("bilingual.txt", "listing", 1),
        ("bilingual.html", "html", 2),
        ("bilingual.rss", "feed", 2),
        ("bilingual.atom", "feed", 1),
        ("bilingual.json", "json", 4),
    ],
)
def test_a_bilingual_story_is_split_alike_from_every_source_kind(
    name, kind, stories, make_config, store, clock
):
    config = make_config(sources="")
    report = ingest_file(config, store, clock, name, kind)
    assert not report.problems, [str(p) for p in report.problems]
    found = pairs(store)
    assert len(found) == stories
    for english, russian in found:
        assert english.translations == (russian.id,) and russian.translations == (english.id,)
        assert english.topics == russian.topics != ()
        # Each version holds only its own language's paragraphs.
        assert not any("а" <= ch <= "я" for ch in english.summary.lower())
        assert sum("а" <= ch <= "я" for ch in russian.summary.lower()) > 40
        assert not any(ch.isascii() and ch.isalpha() for ch in russian.title.replace("br", ""))
        assert len(russian.title) <= TITLE_LENGTH + 1
    # Ingesting the same file again changes nothing.
    again = ingest_file(config, store, clock, name, kind)
    assert again.counts.unchanged == store.count_items()
    assert (again.counts.inserted, again.counts.updated, again.counts.retagged) == (0, 0, 0)


def test_json_titles_by_language_title_each_version(make_config, store, clock):
    config = make_config(sources="")
    ingest_file(config, store, clock, "bilingual.json", "json")
    [(english, russian)] = [p for p in pairs(store) if "argali" in p[0].topics]
    assert english.title == "A new action plan for the argali"
    assert russian.title == "Новый план действий по сохранению аргали"


def test_a_json_title_that_is_not_an_object_of_languages_is_reported():
    data = json.dumps(
        [
            {"title": {"english": "Saiga"}, "published": "2024-01-01"},
            {"title": ["Saiga"], "published": "2024-01-01"},
        ]
    ).encode()
    parsed = parse_bytes("json", data, "j", ParseOptions())
    assert [str(p) for p in parsed.problems] == [
        "j: item 1: rejected: title: 'english' is not a language code; "
        'expected e.g. {"en": "...", "ru": "..."}',
        "j: item 2: rejected: title: expected a string or an object of titles by language "
        'such as {"en": "...", "ru": "..."}, got ["Saiga"]',
    ]


def test_the_samples_russian_half_gets_a_readable_title(make_config, store, clock):
    Ingester(make_config(), store, clock).ingest()
    [russian] = [i for i in store.list_items(language="ru") if i.translations]
    assert russian.title == (
        "траны-подписанты Меморандума о взаимопонимании по сохранению и восстановлению бухарского…"
    )


@pytest.mark.parametrize(
    "text, title",
    [
        ("Saigas are back. Rangers are glad.", "Saigas are back"),
        # Too long: the asides in brackets go first, and then it fits.
        (
            "Signatories to the Memorandum (Bukhara Deer MOU) (Cervus elaphus bactrianus) met "
            "in Almaty, Kazakhstan to review their work.",
            "Signatories to the Memorandum met in Almaty, Kazakhstan to review their work",
        ),
        # Still too long: it ends at the last clause that fits, with an ellipsis.
        (
            "Rangers of the reserve counted more saigas than ever, the director said on Monday, "
            "adding that poaching had fallen sharply across the whole steppe this year.",
            "Rangers of the reserve counted more saigas than ever, the director said on Monday…",
        ),
        # No clause fits: it ends at a word, never inside a parenthesis.
        (
            "Участники совещания (представители государственных природоохранных ведомств "
            "Казахстана Узбекистана Таджикистана Туркменистана) обсудили",
            "Участники совещания обсудили",
        ),
        (
            "Представители государственных природоохранных ведомств Казахстана Узбекистана "
            "Таджикистана Туркменистана обсудили",
            "Представители государственных природоохранных ведомств Казахстана Узбекистана…",
        ),
    ],
)
def test_a_derived_title_is_a_sentence_or_clause_cut_at_a_word(text: str, title: str):
    assert derived_title(text) == title
    assert len(title) <= TITLE_LENGTH


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
        ("mn", "Говийн бүсэд хавтгайн тоо толгойг тоолох ажил энэ онд амжилттай явагдлаа."),
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
    """A source with the bilingual, the French and the short story of `write_multi`."""
    line = f'language = "{language}"\n' if language else ""
    return make_config(
        sources=f'[[sources]]\nid = "multi"\nkind = "listing"\npath = "multi.txt"\n{line}',
        environ={"CMSFEED_INGEST__OTHER_LANGUAGES": other},
    )


def write_multi(tmp_path: Path) -> None:
    text = (DATA / "bilingual.txt").read_text(encoding="utf-8") + (
        "\nSaiga news\n\nСайгаки в степи\n\n16 June 2024\n"
    )
    (tmp_path / "multi.txt").write_text(text, encoding="utf-8")


def test_a_story_in_another_language_is_kept_under_its_code_and_only_in_all_feeds(
    tmp_path, make_config, store, clock
):
    write_multi(tmp_path)
    config = french_and_short_config(make_config)
    report = Ingester(config, store, clock).ingest()
    [source] = report.sources
    assert report.ok and dict(source.other_languages) == {"fr": 1}
    [french] = store.list_items(language="fr")
    # No French terms are configured; its Latin name still tags it.
    assert french.title.startswith("Les saïgas") and french.topics == ("saiga",)
    assert not french.language_uncertain

    files = {f.path: f.body for f in render_site(site_info(config), store)}
    titles = {
        path: {entry.title for entry in feedparser.parse(body).entries}
        for path, body in files.items()
        if path.endswith(".atom")
    }
    assert french.title in titles["feeds/all/all.atom"]
    assert french.title in titles["feeds/saiga/all.atom"]
    for language in ("en", "ru"):
        assert french.title not in titles[f"feeds/all/{language}.atom"]
        assert french.title not in titles[f"feeds/saiga/{language}.atom"]
    # Nor does a digest in a site language include it.
    for language in ("en", "ru"):
        subscriber = Subscriber(
            "a@example.org", language=language, created_at=clock.now - timedelta(days=1)
        )
        chosen = choose_items(subscriber, store.list_items(), set(), clock.now)
        assert chosen and all(item.language == language for item in chosen)

    result = CliRunner().invoke(
        cmsfeed, ["--config", str(tmp_path / "config.toml"), "items", "list", "--lang", "fr"]
    )
    assert result.exit_code == 0 and "Les saïgas" in result.output


def test_other_languages_skip_reports_and_stores_nothing(tmp_path, make_config, store, clock):
    write_multi(tmp_path)
    config = french_and_short_config(make_config, other="skip")
    report = Ingester(config, store, clock).ingest()
    [source] = report.sources
    assert report.ok and dict(source.skipped_languages) == {"fr": 1}
    assert [str(p) for p in report.problems] == [
        "multi: line 8: warning: not stored: in 'fr', a language outside site.languages "
        "(ingest.other_languages = 'skip')"
    ]
    assert {item.language for item in store.list_items()} == {"en", "ru"}
    result = CliRunner().invoke(
        cmsfeed,
        ["--config", str(tmp_path / "config.toml"), "ingest"],
        env={"CMSFEED_INGEST__OTHER_LANGUAGES": "skip"},
    )
    assert "multi: skipped 1 in languages outside site.languages: fr 1" in result.output


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
PLACES = ["Almaty", "Betpak-Dala", "Ustyurt", "Irgiz", "Kalmykia"]


@cache
def property_preparer() -> StoryPreparer:
    from cmsfeed.classify import TopicMatcher

    return StoryPreparer("prop", identifier(), TopicMatcher([]), "en", frozenset())


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
        prepared, problems = property_preparer().prepare(story)
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


BILINGUAL = (
    "Rangers in {place} counted {n} saigas this spring, the most since monitoring began.",
    "Инспекторы в {place} насчитали {n} сайгаков этой весной, больше, чем когда-либо.",
)


def bilingual_source(kind: str, stories: list[tuple[str, int]]) -> bytes:
    """N bilingual stories, each with its own title (and id where the kind has ids)."""
    rows = [
        (f"Saiga count {n} in {place}", *(text.format(place=place, n=n) for text in BILINGUAL))
        for place, n in stories
    ]
    if kind == "json":
        return json.dumps(
            [
                {
                    "id": f"s{i}",
                    "title": title,
                    "published": "2024-05-01",
                    "summary": f"{en}\n\n{ru}",
                }
                for i, (title, en, ru) in enumerate(rows)
            ],
            ensure_ascii=False,
        ).encode()
    if kind == "listing":
        return "".join(
            f"{title}\n\n{en}\n{ru}\n\n01 May 2024\n\n" for title, en, ru in rows
        ).encode()
    items = "".join(
        f"<item><title>{title}</title><guid>g{i}</guid><pubDate>Wed, 01 May 2024 00:00:00 GMT"
        f"</pubDate><description>&lt;p&gt;{en}&lt;/p&gt;&lt;p&gt;{ru}&lt;/p&gt;</description></item>"
        for i, (title, en, ru) in enumerate(rows)
    )
    channel = f"<channel><title>t</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.mark.parametrize("kind", ["json", "listing", "feed"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stories=st.lists(
        st.tuples(st.sampled_from(PLACES), st.integers(2, 99_999)),
        min_size=1,
        max_size=25,
        unique=True,
    )
)
def test_n_bilingual_stories_give_n_linked_pairs_from_every_kind(kind, stories):
    parsed = parse_bytes(kind, bilingual_source(kind, stories), "prop", ParseOptions())
    assert parsed.problems == [] and len(parsed.stories) == len(stories)
    prepared = property_preparer().prepare_many(parsed.stories)
    items = [item for found, problems in prepared for item in found if not problems]
    assert len(items) == 2 * len(stories)
    assert len({item.id for item in items}) == len(items)
    groups: dict[str | None, list[str]] = {}
    for item in items:
        groups.setdefault(item.translation_group, []).append(item.language)
    assert None not in groups and len(groups) == len(stories)
    assert all(sorted(languages) == ["en", "ru"] for languages in groups.values())
    # Preparing the same stories again gives the same items.
    again = property_preparer().prepare_many(parsed.stories)
    assert [item for found, _ in again for item in found] == items


def test_a_translation_in_another_language_links_to_the_all_languages_page(
    make_config, store, clock
):
    config = make_config(sources="")
    story = {
        "id": "kk-1",
        "title": "Saiga calves born in Betpak-Dala",
        "published": "2024-05-20",
        "summary": "<p>Rangers counted thousands of saiga calves in the Betpak-Dala steppe "
        "this week, more than in any spring since the survey began.</p>"
        "<p>Биыл Бетпақдала даласында ақбөкен төлдері саналды, бұл бақылау басталғаннан "
        "бергі ең көп көрсеткіш болды.</p>",
    }
    parsed = parse_bytes("json", json.dumps([story]).encode(), "kz", ParseOptions())
    report = SourceReport("kz")
    Ingester(config, store, clock).store_stories("kz", parsed, report)
    assert dict(report.other_languages) == {"kk": 1}
    [english] = store.list_items(language="en")
    [kazakh] = store.list_items(language="kk")
    assert english.translations == (kazakh.id,)
    files = {f.path: f.body for f in render_site(site_info(config), store)}
    [entry] = feedparser.parse(files["feeds/all/en.atom"]).entries
    [link] = [link for link in entry.links if link.get("hreflang") == "kk"]
    assert link.href.startswith(f"{config.site.base_url}feeds/all/all.html#")
    assert "feeds/all/kk" not in files and kazakh.title in files["feeds/all/all.html"].decode()


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
    prepared = property_preparer().prepare_many(parsed.stories)
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
    [saiga] = [line for line in result.output.splitlines() if "│ saiga" in line]
    assert saiga.split("│")[-2].strip() == str(excludes)  # beside its terms


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), max_size=5))
def test_plain_paragraphs_read_without_parsing_match_the_parser(texts):
    from cmsfeed.ingest.paragraphs import paragraphs, parsed_paragraphs
    from cmsfeed.sanitize import clean_html

    summary = clean_html("".join(f"<p>{html.escape(t)}</p>" for t in texts), None)
    assert paragraphs(summary) == parsed_paragraphs(summary)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60))
def test_a_title_without_markup_is_read_as_the_sanitizer_would(raw):
    from cmsfeed.ingest.prepare import title_text
    from cmsfeed.sanitize import plain_text, remove_xml_forbidden

    title, _ = remove_xml_forbidden(raw)
    assert title_text(title) == plain_text(title)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), max_size=5))
def test_plain_paragraphs_hold_no_unsafe_markup(texts):
    from cmsfeed.ingest.paragraphs import is_plain_paragraphs
    from cmsfeed.sanitize import unsafe_markup

    summary = "".join(f"<p>{html.escape(t)}</p>" for t in texts)
    assert is_plain_paragraphs(summary) == bool(texts)
    assert unsafe_markup(summary) == []
