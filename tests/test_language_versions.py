"""Language versions from every source kind: a bilingual story becomes linked items alike
from listing, HTML, RSS, Atom and JSON (N stories in, N pairs out); per-language JSON titles;
titles made for versions without one; the plain-text shortcuts agree with the parsers."""

from __future__ import annotations

import html
import json
import re

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.ingest.paragraphs import TITLE_LENGTH, derived_title
from cmsfeed.ingest.run import Ingester, ParseOptions, SourceReport, parse_bytes
from cmsfeed.publish.collect import render_site
from support.language import PLACES, bare_preparer, ingest_file, pairs


@pytest.mark.parametrize(
    "name, kind, stories",
    [
        ("bilingual.txt", "listing", 1),
        ("bilingual.html", "html", 2),
        ("bilingual.rss", "feed", 2),
        ("bilingual.atom", "feed", 1),
        # One of them declares "ru": a declaration never merges the versions.
        ("bilingual.json", "json", 5),
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
        # A full stop after an abbreviation or an initial does not end the sentence.
        ("В 2024 г. в Алматы прошла встреча. Потом ещё.", "В 2024 г. в Алматы прошла встреча"),
        ("Заповедник им. Гайдара открыт. Да.", "Заповедник им. Гайдара открыт"),
        ("10 сент. 2024 года прошла встреча. Да.", "10 сент. 2024 года прошла встреча"),
        ("Prof. Smith and Mr. J. R. Brown spoke. Then.", "Prof. Smith and Mr. J. R. Brown spoke"),
        ("См. т. е. отчёт. Далее.", "См. т. е. отчёт"),
        ("Saigas, e.g. in Kazakhstan, came back. Then.", "Saigas, e.g. in Kazakhstan, came back"),
        ("The count was made by the CMS. Then.", "The count was made by the CMS"),
        # Nested asides go whole; the cut never ends inside one, nor after a dash or comma.
        (
            "Experts from five countries of the region (Kazakhstan (and its neighbours "
            "(Uzbekistan and Kyrgyzstan)) and Turkmenistan) met in Almaty, and discussed many "
            "pressing issues of the conservation of the saiga.",
            "Experts from five countries of the region met in Almaty…",
        ),
        (
            "Experts from five countries of the region met in Almaty to discuss the saiga "
            "(Kazakhstan (and its neighbours) and Turkmenistan and Uzbekistan and the others",
            "Experts from five countries of the region met in Almaty to discuss the saiga",
        ),
        (
            "Signatories of the Memorandum of Understanding concerning the Conservation — and "
            "Restoration of the Bukhara Deer met",
            "Signatories of the Memorandum of Understanding concerning the Conservation…",
        ),
    ],
)
def test_a_derived_title_is_a_sentence_or_clause_cut_at_a_word(text: str, title: str):
    assert derived_title(text) == title
    assert len(title) <= TITLE_LENGTH


title_words = st.text("abcdefghijklmnopqrstuvwxyzABCDEабвгдеёжзАБВ", min_size=1, max_size=14)
title_marks = st.sampled_from(
    [".", ",", ";", ":", "—", "-", "(", ")", "[", "]", "!", "?", "г.", "им.", "Mr.", "e.g.", "J."]
)


def bracket_left_open(text: str) -> bool:
    depth = 0
    for character in text:
        if character in "([":
            depth += 1
        elif character in ")]" and depth:
            depth -= 1
    return depth > 0


@given(st.lists(st.one_of(title_words, title_words, title_marks), min_size=1, max_size=80))
@settings(max_examples=300)
def test_a_derived_title_is_short_balanced_and_ends_at_a_word(tokens: list[str]):
    text = " ".join(tokens)
    title = derived_title(text)
    assert len(title) <= TITLE_LENGTH + 1
    assert not bracket_left_open(title)
    if title.endswith("…"):
        kept = title[:-1]
        assert not kept.endswith(tuple(" ,;:—–-"))
        last_word = re.findall(r"[^\W\d_]+", kept)[-1:]
        for word in last_word:
            assert re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", text), title


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
    prepared = bare_preparer().prepare_many(parsed.stories)
    items = [item for found, problems in prepared for item in found if not problems]
    assert len(items) == 2 * len(stories)
    assert len({item.id for item in items}) == len(items)
    groups: dict[str | None, list[str]] = {}
    for item in items:
        groups.setdefault(item.translation_group, []).append(item.language)
    assert None not in groups and len(groups) == len(stories)
    assert all(sorted(languages) == ["en", "ru"] for languages in groups.values())
    # Preparing the same stories again gives the same items.
    again = bare_preparer().prepare_many(parsed.stories)
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
    files = {f.path: f.body for f in render_site(config.site_info(), store)}
    [entry] = feedparser.parse(files["feeds/all/en.atom"]).entries
    [link] = [link for link in entry.links if link.get("hreflang") == "kk"]
    assert link.href.startswith(f"{config.site.base_url}feeds/all/all.html#")
    assert "feeds/all/kk" not in files and kazakh.title in files["feeds/all/all.html"].decode()


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


def test_json_titles_listed_in_another_order_change_nothing(make_config, store, clock, tmp_path):
    # The version that keeps the story's key is chosen by the site's order of languages, not
    # the source's order of titles: listing them the other way round must neither relabel a
    # stored version nor add a third one.
    from cmsfeed.ingest.json_items import parse_json_items

    config = make_config(sources="")
    summary = (
        "<p>Rangers counted more than two hundred saiga antelopes in the steppe this spring, "
        "the highest number in a decade.</p><p>Весной инспекторы насчитали в степи более "
        "двухсот сайгаков, больше, чем за последние десять лет.</p>"
    )
    titles = {"en": "Saiga numbers grow", "ru": "Сайгаков становится больше"}
    for order in (["en", "ru"], ["ru", "en"]):
        value = {
            "id": "story-1",
            "title": {language: titles[language] for language in order},
            "summary": summary,
            "published": "2025-03-01T10:00:00Z",
        }
        parsed = parse_json_items(json.dumps([value]).encode(), "test")
        report = SourceReport("test")
        Ingester(config, store, clock).store_stories("test", parsed, report)
        assert not report.problems, [str(p) for p in report.problems]
    stored = sorted((item.language, item.title) for item in store.list_items())
    assert stored == [("en", titles["en"]), ("ru", titles["ru"])]


def test_every_json_title_is_a_version_even_when_the_text_is_too_short_to_tell(
    make_config, store, clock
):
    from cmsfeed.ingest.json_items import parse_json_items

    config = make_config(sources="")
    value = {
        "id": "short-1",
        "title": {"en": "Saiga count", "ru": "Учёт сайгаков"},
        "summary": "<p>The saiga count is done.</p>",
        "published": "2025-03-01T10:00:00Z",
    }
    report = SourceReport("test")
    parsed = parse_json_items(json.dumps([value]).encode(), "test")
    Ingester(config, store, clock).store_stories("test", parsed, report)
    stored = sorted((item.language, item.title) for item in store.list_items())
    assert stored == [("en", "Saiga count"), ("ru", "Учёт сайгаков")]
