"""Languages: adding one is adding a gettext catalog and config entries, with no code change;
the bundled French and Spanish carry a reader through every page and email.

A German catalog with a few messages, compiled here with Babel's own `pybabel compile`, plus
`site.languages` and topic names in config.toml: `cmsfeed build` writes German pages and
feeds, and every message the catalog lacks comes out in English. Kazakh, added the same way,
also gets its topics matched and a digest. A French and a Spanish reader sign up, confirm,
get a digest and unsubscribe against a real `cmsfeed run` and a real SMTP server, and meet
no English word of the catalog on the way.
"""

from __future__ import annotations

import email
import html
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import feedparser
import httpx
import pytest
from babel.dates import get_month_names
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.config import load_config
from cmsfeed.digest.render import EmailRenderer
from cmsfeed.errors import ConfigError
from cmsfeed.feeds.site import render_pages
from cmsfeed.i18n import DOMAIN, LOCALES, translations
from cmsfeed.ingest.feed import parse_feed
from cmsfeed.model import SiteInfo
from support.browser import SECRET, Site, html_part, link_in, start_site, text_part
from support.cli import CMSFEED
from support.feeds import make_site
from support.smtp_server import Received, SmtpServer

REPO = Path(__file__).resolve().parent.parent

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


# --- A French and a Spanish reader, end to end, against a real `cmsfeed run` -----------------

NBSP = "\u00a0"


def catalog_messages() -> list[str]:
    """The catalog's English messages long enough to be told apart from other words."""
    with (LOCALES / f"{DOMAIN}.pot").open("rb") as template:
        ids = [m.id for m in read_po(template) if m.id]
    singles = [i for i in ids if isinstance(i, str)] + [i[0] for i in ids if isinstance(i, tuple)]
    # Formatted messages show only in pieces; those pieces are checked where they land.
    return sorted(m for m in singles if "%(" not in m and len(m) > 6)


def english_left_in(text: str, language: str) -> list[str]:
    """English messages that `language`'s catalog translates but that `text` shows in English."""
    translated = translations(language)
    return [m for m in catalog_messages() if translated.gettext(m) != m and m in text]


def raw_header(received: Received, name: str) -> str:
    head = received.data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("ascii")
    found = re.search(rf"^{name}: (.*(?:\r?\n[ \t].*)*)", head, re.MULTILINE)
    assert found, head
    return found.group(1)


# What a reader of each language must see on the way, word for word.
READERS = {
    "fr": {
        "form": "S’abonner",
        "sent": "Consultez votre messagerie",
        "confirmation": f"Confirmez votre abonnement à «{NBSP}Actualités des mammifères",
        "button": "Confirmer mon abonnement",
        "confirmed": "Abonnement confirmé",
        "welcome": "Bienvenue\u202f! Votre abonnement est confirmé.",
        "story": "Les saïgas de l’Oural ont mis bas plus tôt cette année",
        "digest": f"Se désabonner{NBSP}:",
        "leave": "Se désabonner",
        "left": "Désabonnement effectué",
        "topic": "Antilope saïga",
    },
    "es": {
        "form": "Suscribirse",
        "sent": "Revise su correo",
        "confirmation": "Confirme su suscripción a «Noticias de los mamíferos de Asia Central»",
        "button": "Confirmar mi suscripción",
        "confirmed": "Suscripción confirmada",
        "welcome": "¡Le damos la bienvenida! Su suscripción está confirmada.",
        "story": "Las saigas de los Urales parieron antes este año",
        "digest": "Darse de baja:",
        "leave": "Darse de baja",
        "left": "Baja confirmada",
        "topic": "Antílope saiga",
    },
}


@pytest.fixture(scope="module")
def running_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with SmtpServer() as smtp:
        yield from start_site(tmp_path_factory.mktemp("readers") / "site", smtp)


def run_cli(site: Site, *args: str) -> str:
    environ = {
        **os.environ,
        "CMSFEED_SECRET": SECRET,
        "CMSFEED_SITE__BASE_URL": site.base + "/",
        "CMSFEED_SMTP__HOST": "127.0.0.1",
        "CMSFEED_SMTP__PORT": str(site.smtp.port),
        "CMSFEED_SMTP__SECURITY": "none",
    }
    result = subprocess.run(
        [*CMSFEED, *args], cwd=site.folder, env=environ, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of a page's one-button form, as a browser would send it."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert action and token, page
    return html.unescape(action.group(1)), {"token": html.unescape(token.group(1))}


@pytest.mark.parametrize("language", ["fr", "es"])
def test_a_reader_signs_up_confirms_reads_a_digest_and_leaves_in_their_language(
    running_site: Site, language: str
) -> None:
    """Every page and email on the way is in the reader's language: no English message left,
    subjects RFC 2047-encoded with their accents, dates through Babel."""
    site, words = running_site, READERS[language]
    address = f"lecteur-{language}@example.org"
    with httpx.Client(base_url=site.base) as web:
        # Each language's index at /{lang}/ (the first language's at / as well), in it.
        index = web.get(f"/{language}/")
        assert index.status_code == 200 and f'<html lang="{language}">' in index.text
        assert english_left_in(index.text, language) == []
        assert web.get("/en/").text == web.get("/").text
        form = web.get(f"/subscribe?lang={language}&topic=saiga")
        assert form.status_code == 200 and f'<html lang="{language}">' in form.text
        assert words["form"] in form.text and words["topic"] in form.text
        assert english_left_in(form.text, language) == []
        # (the check sees English where there is some: the English form is full of it)
        assert len(english_left_in(web.get("/subscribe?lang=en").text, language)) >= 5
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        fields = {"email": address, "language": language, "topic": ["saiga"]}
        fields |= {"frequency": "immediate", "time": "08:00", "timezone": "Europe/Madrid"}
        sent = web.post("/subscribe", data={**fields, "csrf": csrf.group(1)})
        assert sent.status_code == 200 and words["sent"] in sent.text
        assert english_left_in(sent.text, language) == []

        confirmation = site.mail_to(address)[0]
        assert raw_header(confirmation, "Subject").isascii()  # RFC 2047 carries the accents
        assert words["confirmation"] in confirmation.message["Subject"]
        assert english_left_in(text_part(confirmation.message), language) == []
        assert english_left_in(html_part(confirmation.message), language) == []
        page = web.get(site.local(link_in(confirmation.message, "confirm")))
        assert words["button"] in page.text and english_left_in(page.text, language) == []
        action, token = form_of(page.text)
        confirmed = web.post(action, data=token)
        assert words["confirmed"] in confirmed.text
        assert english_left_in(confirmed.text, language) == []
        subscriber = site.subscriber(address)
        assert subscriber is not None and subscriber.status == "active"
        assert subscriber.language == language and subscriber.topics == ("saiga",)

        welcome = site.mail_to(address, 2)[1].message
        assert words["welcome"] in text_part(welcome)
        assert english_left_in(text_part(welcome), language) == []

        # A story in the reader's language arrives, tagged by its words, and a round runs.
        today = datetime.now(UTC)
        run_cli(
            site,
            *("items", "add", "--title", words["story"], "--published", today.date().isoformat()),
            *("--summary", words["story"] + ".", "--lang", language),
        )
        later = (today + timedelta(minutes=5)).isoformat()
        run_cli(site, "digest", "send", "--now", later)
        digest = site.mail_to(address, 3)[2]
        subject = digest.message["Subject"]
        assert raw_header(digest, "Subject").isascii()
        site_title = bundled_titles()[language]
        separator = f"{NBSP}: " if language == "fr" else ": "  # French: a space before ':'
        assert subject == f"{site_title}{separator}{words['story']}"
        text = text_part(digest.message)
        assert words["story"] in text and words["digest"] in text
        month = get_month_names("wide", locale=language)[today.month]
        assert month in text  # the story's date, written by Babel in the reader's language
        assert english_left_in(text, language) == []
        assert english_left_in(html_part(digest.message), language) == []

        farewell = web.get(site.local(digest.message["List-Unsubscribe"].strip("<>")))
        assert words["leave"] in farewell.text
        assert english_left_in(farewell.text, language) == []
        action, token = form_of(farewell.text)
        left = web.post(action, data=token)
        assert words["left"] in left.text and english_left_in(left.text, language) == []
    gone = site.subscriber(address)
    assert gone is not None and gone.status == "unsubscribed"


def bundled_titles() -> dict[str, str]:
    return load_config(REPO / "src" / "cmsfeed" / "data" / "config.toml", {}).site.titles()


# --- Kazakh, added by an operator: a small catalog and config entries, nothing else ---------

KAZAKH = {
    "All topics": "Барлық тақырыптар",
    "Read": "Оқу",
    "Skip to content": "Мазмұнға өту",
    "Unsubscribe": "Жазылымнан бас тарту",
    "Unsubscribe:": "Жазылымнан бас тарту:",
    "View this digest in your browser:": "Бұл дайджестті браузерде ашу:",
    "Feeds in %(language)s": "%(language)s тіліндегі арналар",
}


def test_kazakh_gets_pages_feeds_and_a_digest_from_a_catalog_and_config_only(
    tmp_path: Path,
) -> None:
    compile_catalog(tmp_path / "locale", "kk", KAZAKH)
    config = tmp_path / "config.toml"
    config.write_text(
        """
[site]
title = { en = "CAMI news", kk = "Орталық Азия сүтқоректілері" }
base_url = "https://news.example.org/"
languages = ["en", "kk"]
locale_dir = "locale"

[store]
url = "sqlite:///store.db"

[digests]
maildir = "maildir"

[[topics]]
id = "saiga"
name = { en = "Saiga antelope", kk = "Киік" }
terms = { en = ["saiga"], kk = ["киік", "киіктер", "киіктің"] }
""",
        encoding="utf-8",
    )
    story = "Үстірттегі киіктер саны артты"
    environ = {"CMSFEED_SECRET": "kk-secret"}
    cmsfeed(config, "subscribers", "add", "aigerim@example.org", "--lang", "kk")
    today = datetime.now(UTC)
    cmsfeed(
        config,
        *("items", "add", "--title", story, "--published", today.date().isoformat()),
        *("--summary", "Үстірт үстіртіндегі киіктің саны өсті.", "--lang", "kk"),
    )
    cmsfeed(config, "build", str(tmp_path / "site"))
    site = tmp_path / "site"

    kazakh = (site / "kk" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="kk">' in kazakh
    for translated in ("Мазмұнға өту", "Оқу", "Барлық тақырыптар", "Киік"):
        assert translated in kazakh
    assert 'hreflang="kk"' in (site / "index.html").read_text(encoding="utf-8")
    feed = feedparser.parse((site / "feeds" / "saiga" / "kk.atom").read_bytes())
    assert [entry.title for entry in feed.entries] == [story]  # tagged by its Kazakh term
    assert story in (site / "feeds" / "saiga" / "kk.html").read_text(encoding="utf-8")

    later = (today + timedelta(minutes=5)).isoformat()
    out = tmp_path / "preview"
    result = subprocess.run(
        [
            *(*CMSFEED, "--config", str(config), "digest", "preview"),
            *("--subscriber", "aigerim@example.org", "--out", str(out), "--now", later),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **environ},
    )
    assert result.returncode == 0, result.stderr
    (eml,) = out.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"] == f"Орталық Азия сүтқоректілері: {story}"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert story in text
    assert "Жазылымнан бас тарту:" in text and "Бұл дайджестті браузерде ашу:" in text


def test_a_feed_date_feedparser_cannot_read_is_read_in_the_sites_languages() -> None:
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>CMS</title>'
        "<item><title>Les saïgas</title><link>https://www.cms.int/fr/saiga</link>"
        "<pubDate>14 mai 2025</pubDate></item></channel></rss>"
    ).encode()
    read = parse_feed(rss, "cms-fr", locales=("en", "fr", "es", "ru"))
    assert [story.published_at.date().isoformat() for story in read.stories] == ["2025-05-14"]
    unread = parse_feed(rss, "cms-fr", locales=("en",))
    assert unread.stories == [] and [str(p) for p in unread.problems] == [
        "cms-fr: entry 1: rejected: bad date: '14 mai 2025': unknown month name 'mai' for en"
    ]
