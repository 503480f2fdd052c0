"""The site's name and description in each language: config.toml accepts a string or a table
per language, and every page, feed and email shows the reader's (issue 13, part 3)."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import cmsfeed
from cmsfeed.config import load_config
from cmsfeed.digest.render import EmailRenderer, Personal, header_text
from cmsfeed.errors import ConfigError
from cmsfeed.feeds.document import make_document
from cmsfeed.feeds.jsonfeed import render_json
from cmsfeed.feeds.pages import render_feed_page, render_index, render_opml
from cmsfeed.feeds.syndication import render_atom, render_rss
from cmsfeed.feeds.urls import Selection
from cmsfeed.model import SiteInfo
from cmsfeed.subscribers import Subscriber
from support.feeds import make_site, sample_items, with_translations

BUNDLED_CONFIG_PATH = Path(cmsfeed.__file__).parent / "data" / "config.toml"
TITLES = {"en": "CAMI news", "ru": "Новости CAMI"}


def write(tmp_path: Path, site: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[site]\nbase_url = "http://h.example/"\nlanguages = ["en", "ru"]\n{site}\n',
        encoding="utf-8",
    )
    return path


def test_a_table_gives_each_language_its_title_and_description(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            'title = { en = "CAMI news", ru = "Новости CAMI" }\n'
            'description = { en = "About", ru = "О сайте" }',
        ),
        {},
    )
    site = config.site_info()
    assert [site.title_in(lang) for lang in ("en", "ru", None)] == [
        "CAMI news",
        "Новости CAMI",
        "CAMI news",
    ]
    assert site.description_in("ru") == "О сайте"


def test_a_plain_string_serves_every_language(tmp_path: Path) -> None:
    site = load_config(write(tmp_path, 'title = "CAMI"'), {}).site_info()
    assert site.titles == {"en": "CAMI", "ru": "CAMI"}


def test_the_environment_can_give_the_table_as_json(tmp_path: Path) -> None:
    environ = {"CMSFEED_SITE__TITLE": '{"en": "E", "ru": "Р"}'}
    site = load_config(write(tmp_path, ""), environ).site_info()
    assert site.titles == {"en": "E", "ru": "Р"}


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        (
            'title = { en = "CAMI news" }',
            "config.toml: site.title.ru: expected the title in every language of "
            "site.languages ['en', 'ru'], 'ru' is missing",
        ),
        (
            'description = { en = "a", ru = "b", de = "c" }',
            "config.toml: site.description.de: not one of site.languages ['en', 'ru']",
        ),
        (
            'title = { en = "CAMI", ru = "  " }',
            "config.toml: site.title.ru: expected the title in every language of "
            "site.languages ['en', 'ru'], 'ru' is missing",
        ),
    ],
)
def test_an_incomplete_table_is_refused_naming_the_key(
    tmp_path: Path, site: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, site), {})
    assert expected in raised.value.problems


def test_the_shipped_config_names_the_site_in_every_language_it_offers() -> None:
    config = load_config(BUNDLED_CONFIG_PATH, {})
    site = config.site_info("http://127.0.0.1:8080/")
    assert isinstance(config.site.title, dict) and isinstance(config.site.description, dict)
    assert set(config.site.title) == set(config.site.description) == set(site.languages)
    assert len(set(site.titles.values())) == len(site.languages)  # really translated


def test_site_info_refuses_a_language_without_a_title() -> None:
    with pytest.raises(ValueError, match=r"SiteInfo\.titles: no text for ru"):
        make_site(titles={"en": "CAMI news"})


# -- pages, feeds and emails ------------------------------------------------------------------


def feed_titles(site: SiteInfo, chosen: Selection) -> list[str]:
    items = with_translations(sample_items())
    siblings = {item.id: item for item in items}
    chosen_items = [i for i in items if chosen.language in (None, i.language)]
    document = make_document(site, chosen, chosen_items, siblings)
    atom = feedparser.parse(render_atom(document)).feed
    rss = feedparser.parse(render_rss(document)).feed
    json_title = render_json(document).decode()
    page = etree.HTML(render_feed_page(document))
    assert atom.title == rss.title == page.findtext(".//h1")
    assert f'"title": "{atom.title}"' in json_title
    assert atom.subtitle == rss.description
    return [atom.title, atom.subtitle]


@pytest.mark.parametrize(
    ("language", "title", "subtitle"),
    [
        ("en", "CAMI news", "News of Central Asian mammals."),
        ("ru", "Новости CAMI", "Новости о млекопитающих."),
        (None, "CAMI news", "News of Central Asian mammals."),  # all languages: the default
    ],
)
def test_a_feed_in_a_language_carries_the_site_name_in_it(
    language: str | None, title: str, subtitle: str
) -> None:
    found_title, found_subtitle = feed_titles(make_site(), Selection(("argali",), language))
    assert found_title.startswith(title + ":") and found_subtitle == subtitle


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_index_and_opml_show_the_site_in_the_page_language(language: str) -> None:
    site = make_site()
    page = etree.HTML(render_index(site, language))
    assert page.findtext(".//h1") == TITLES[language]
    assert page.findtext(".//title") == TITLES[language]
    assert page.findtext('.//a[@class="brand"]') == TITLES[language]
    assert page.findtext('.//p[@class="lead"]') == site.description_in(language)
    other = TITLES["ru" if language == "en" else "en"]
    assert other.encode() not in render_index(site, language)
    opml = etree.fromstring(render_opml(site, language))
    assert opml.findtext("head/title") == f"{TITLES[language]} ({language})"


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["en", "ru"]),
        st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=30).map(
            lambda s: s.strip() or "x"
        ),
        min_size=2,
    )
)
def test_every_email_subject_names_the_site_in_the_readers_language(
    titles: dict[str, str],
) -> None:
    site = make_site(titles=titles)
    renderer = EmailRenderer(site, confirm_days=7)
    for language in ("en", "ru"):
        subscriber = Subscriber(f"{language}@example.org", language=language)
        items = [i for i in sample_items() if i.language == language][:2]
        personal = Personal("http://u", "http://p", "why")
        for rendered in (
            renderer.confirmation(language, "http://c"),
            renderer.welcome(subscriber, personal),
            renderer.digest(subscriber, items, items[0].published_at),
        ):
            # (a subject is one line of plain spaces: header_text folds the others)
            assert header_text(titles[language]) in rendered.subject
            assert titles[language] in rendered.text
