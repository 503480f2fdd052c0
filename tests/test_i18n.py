"""Adding a language is adding a gettext catalog and config entries, with no code change.

A German catalog with a few messages, compiled here with Babel's own `pybabel compile`, plus
`site.languages` and topic names in config.toml: `cmsfeed build` writes German pages and
feeds, and every message the catalog lacks comes out in English.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import feedparser
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.config import load_config
from cmsfeed.digest.render import EmailRenderer
from cmsfeed.errors import ConfigError
from cmsfeed.feeds.site import render_pages
from cmsfeed.i18n import DOMAIN, LOCALES
from cmsfeed.model import SiteInfo
from support.feeds import make_site

GERMAN = {
    "All topics": "Alle Themen",
    "Read": "Lesen",
    "Skip to content": "Zum Inhalt springen",
    "Feeds in %(language)s": "Feeds auf %(language)s",
    "Please confirm your subscription to %(site)s": "Bitte bestätigen Sie Ihr Abo bei %(site)s",
}
UNTRANSLATED = ["Feeds by topic", "Every feed at once", "Subscribe by email"]


def compile_catalog(locale_dir: Path, language: str, messages: dict[str, str]) -> None:
    """Write `language`'s .po and compile it to .mo with pybabel, as an operator would."""
    catalog = Catalog(locale=language, domain=DOMAIN, fuzzy=False)  # a fuzzy one is skipped
    for english, translated in messages.items():
        flags = ["python-format"] if "%(" in english else []
        catalog.add(english, translated, flags=flags)
    po = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as out:
        write_po(out, catalog)
    compiler = "from babel.messages.frontend import main; main()"
    subprocess.run(
        [sys.executable, "-c", compiler, "compile", "-d", str(locale_dir), "-D", DOMAIN],
        check=True,
        capture_output=True,
    )
    assert po.with_suffix(".mo").is_file()


def write_config(folder: Path, languages: list[str], locale_dir: str | None) -> Path:
    own_catalogs = f'locale_dir = "{locale_dir}"\n' if locale_dir else ""
    path = folder / "config.toml"
    path.write_text(
        f"""
[site]
title = "CAMI"
base_url = "https://news.example.org/"
languages = {languages!r}
{own_catalogs}
[store]
url = "sqlite:///store.db"

[[topics]]
id = "saiga"
name = {{ en = "Saiga antelope", ru = "Сайгак", de = "Saiga-Antilope" }}
terms = {{ en = ["saiga"] }}
""",
        encoding="utf-8",
    )
    return path


def cmsfeed(config: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "cmsfeed", "--config", str(config), *args],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_third_language_needs_only_a_catalog_and_config(tmp_path: Path) -> None:
    compile_catalog(tmp_path / "locale", "de", GERMAN)
    config = write_config(tmp_path, ["en", "de"], "locale")
    cmsfeed(
        config,
        *("items", "add", "--title", "Saiga-Zählung 2024", "--published", "2024-12-02"),
        *("--summary", "Ranger zählten die Herde.", "--lang", "de", "--topic", "saiga"),
    )
    cmsfeed(config, "build", str(tmp_path / "site"))
    site = tmp_path / "site"

    german = (site / "de" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in german
    for translated in ("Zum Inhalt springen", "Lesen", "Alle Themen", "Saiga-Antilope"):
        assert translated in german
    assert "Feeds auf Deutsch" in german
    for english in UNTRANSLATED:  # what the catalog lacks falls back to English
        assert english in german
    assert "Сайгак" not in german  # Russian is not one of this site's languages

    english = (site / "index.html").read_text(encoding="utf-8")
    assert "Skip to content" in english and "Zum Inhalt springen" not in english

    page = (site / "feeds" / "saiga" / "de.html").read_text(encoding="utf-8")
    assert "Saiga-Zählung 2024" in page and "Zum Inhalt springen" in page
    feed = feedparser.parse((site / "feeds" / "all" / "de.atom").read_bytes())
    assert feed.feed.title == "CAMI: Alle Themen (de)"
    assert [entry.title for entry in feed.entries] == ["Saiga-Zählung 2024"]


def test_emails_take_the_same_catalog(tmp_path: Path) -> None:
    compile_catalog(tmp_path / "locale", "de", GERMAN)
    config = load_config(write_config(tmp_path, ["en", "de"], "locale"), {})
    renderer = EmailRenderer(config.site_info(), confirm_days=7)
    email = renderer.confirmation("de", "https://news.example.org/confirm?token=t")
    assert email.subject == "Bitte bestätigen Sie Ihr Abo bei CAMI"
    assert "If you did not ask for this" in email.text  # untranslated: English


def test_a_site_catalog_overrides_some_words_and_keeps_the_bundled_rest(tmp_path: Path) -> None:
    compile_catalog(tmp_path / "locale", "ru", {"Read": "Открыть"})
    site = load_config(write_config(tmp_path, ["en", "ru"], "locale"), {}).site_info()
    russian = next(f for f in render_pages(site) if f.path == "ru/index.html").body.decode()
    assert "Открыть" in russian and ">Читать<" not in russian
    assert "Все темы" in russian and "Перейти к содержанию" in russian  # the bundled catalog


def test_without_a_catalog_a_language_gets_english_words(tmp_path: Path) -> None:
    site = load_config(write_config(tmp_path, ["en", "de"], None), {}).site_info()
    german = next(f for f in render_pages(site) if f.path == "de/index.html").body.decode()
    assert '<html lang="de">' in german and "Skip to content" in german
    assert "Saiga-Antilope" in german  # names come from config.toml, not from a catalog


def test_a_missing_catalog_folder_is_one_line_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(tmp_path, ["en", "de"], "nowhere"), {})
    assert str(raised.value) == (
        "config.toml: site.locale_dir: expected a folder of gettext catalogs, "
        f"{str(tmp_path / 'nowhere')!r} is not a folder"
    )


def index_page(site: SiteInfo, language: str) -> str:
    path = "index.html" if language == site.default_language else f"{language}/index.html"
    return next(f for f in render_pages(site) if f.path == path).body.decode()


def page_messages() -> list[str]:
    """The catalog's messages that the English index page shows word for word."""
    with (LOCALES / f"{DOMAIN}.pot").open("rb") as template:
        messages = [m.id for m in read_po(template) if isinstance(m.id, str) and m.id]
    english = index_page(make_site(languages=("en", "de")), "en")
    shown = [m for m in messages if m in english]
    # "Subscribe" (a sign-up page's) is found only inside "Subscribe by email": not this page's.
    return sorted(m for m in shown if not any(m != other and m in other for other in shown))


PAGE_MESSAGES = page_messages()


@settings(max_examples=30, deadline=None)
@given(st.sets(st.sampled_from(PAGE_MESSAGES)))
def test_each_translated_message_lands_where_its_english_was(translated: set[str]) -> None:
    """Nothing lost or mislabeled: any subset of messages translated (each to its own marker)
    shows every marker on the German page, English for the rest, and no marker in English."""
    assert len(PAGE_MESSAGES) >= 12  # the check below covers the page's words
    markers = {message: f"Deutsch-{n}-Wort" for n, message in enumerate(sorted(translated))}
    with tempfile.TemporaryDirectory() as folder:
        catalog = Catalog(locale="de", domain=DOMAIN, fuzzy=False)
        for message, marker in markers.items():
            catalog.add(message, marker)
        mo = Path(folder) / "de" / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True)
        with mo.open("wb") as out:
            write_mo(out, catalog)
        site = make_site(languages=("en", "de"), locale_dir=Path(folder))
        german, english = index_page(site, "de"), index_page(site, "en")
    for message in PAGE_MESSAGES:
        if message in markers:
            assert markers[message] in german, message
        else:
            assert message in german, message
    assert "Deutsch-" not in english
