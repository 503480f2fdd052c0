"""Pages for people: the index of every feed, a readable page per feed, and OPML lists.

Pure apart from reading the Jinja2 templates in `cmsfeed/templates/web/` (package data)
once. The same content gives the same bytes: no build time appears anywhere.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel import UnknownLocaleError
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from lxml import etree

from cmsfeed.feeds import urls
from cmsfeed.feeds.document import FeedDocument
from cmsfeed.feeds.urls import Selection
from cmsfeed.i18n import babel_locale
from cmsfeed.model import SiteInfo

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "web"  # package data

# Interface strings; a language without its own falls back to English.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "language_name": "English",
        "all_languages": "All languages",
        "all_topics": "All topics",
        "topic": "Topic",
        "read": "Read",
        "address": "Feed address",
        "how_to": "Paste a feed address into your feed reader (Feedly, Inoreader, NetNewsWire, "
        "Miniflux, newsboat, Thunderbird...). Each topic has a feed per language.",
        "combine_title": "Several topics in one feed",
        "combine": "List the topics you follow, separated by commas, and choose a language:",
        "opml_title": "Every feed at once",
        "opml": "Import an OPML file into your reader to subscribe to many feeds in one step.",
        "opml_all": "All feeds",
        "opml_language": "Feeds in {language}",
        "all_feeds": "All feeds",
        "subscribe": "Subscribe: paste this address into your feed reader, or pick a format.",
        "also_in": "Also in:",
        "empty": "No news yet.",
        "footer": "Feeds are Atom 1.0, RSS 2.0 and JSON Feed 1.1.",
        "skip": "Skip to content",
        "language_switch": "Language",
        "feeds_title": "Feeds by topic",
        "by_email": "Email digest",
        "subscribe_email": "Subscribe by email",
        "by_email_feed": "Get these stories by email",
    },
    "ru": {
        "language_name": "Русский",
        "all_languages": "Все языки",
        "all_topics": "Все темы",
        "topic": "Тема",
        "read": "Читать",
        "address": "Адрес ленты",
        "how_to": "Вставьте адрес ленты в программу для чтения новостей (Feedly, Inoreader, "
        "NetNewsWire, Miniflux, newsboat, Thunderbird...). У каждой темы есть лента "
        "на каждом языке.",
        "combine_title": "Несколько тем в одной ленте",
        "combine": "Перечислите темы через запятую и выберите язык:",
        "opml_title": "Все ленты сразу",
        "opml": "Импортируйте файл OPML в программу чтения, чтобы подписаться на все ленты сразу.",
        "opml_all": "Все ленты",
        "opml_language": "Ленты на языке: {language}",
        "all_feeds": "Все ленты",
        "subscribe": "Подписка: вставьте этот адрес в программу "
        "для чтения лент или выберите формат.",
        "also_in": "На других языках:",
        "empty": "Новостей пока нет.",
        "footer": "Ленты в форматах Atom 1.0, RSS 2.0 и JSON Feed 1.1.",
        "skip": "Перейти к содержанию",
        "language_switch": "Язык",
        "feeds_title": "Ленты по темам",
        "by_email": "Новости на почту",
        "subscribe_email": "Подписаться на рассылку",
        "by_email_feed": "Получать эти новости по почте",
    },
}
_FORMAT_LABELS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


def strings(language: str) -> dict[str, str]:
    return STRINGS.get(language, STRINGS["en"])


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        auto_reload=False,
    )


def _render(template: str, **context: Any) -> bytes:
    return _environment().get_template(template).render(**context).encode()


def interface_language(site: SiteInfo, language: str | None) -> str:
    return language if language in site.languages else site.default_language


def render_index(site: SiteInfo, language: str) -> bytes:
    t = strings(language)
    languages: list[str | None] = [*site.languages, None]
    columns = [
        {"lang": lang, "label": language_label(lang, language) if lang else t["all_languages"]}
        for lang in languages
    ]
    topic_rows: list[tuple[tuple[str, ...], str]] = [((), t["all_topics"])] + [
        ((topic,), site.topic_name(topic, language)) for topic in site.topic_ids
    ]
    rows = []
    for topics, label in topic_rows:
        cells: list[dict[str, str]] = []
        for column in columns:
            chosen = Selection(topics, column["lang"])
            cells.append(
                {
                    fmt: urls.feed_url(site.base_url, chosen, fmt)
                    for fmt in ("atom", "rss", "json", "html")
                }
                | {"column": column["label"] or "", "lang": column["lang"] or ""}
            )
        # The names in the other languages, so that a reader finds a species by either name.
        also = [
            {"lang": lang, "name": site.topic_name(topics[0], lang)}
            for lang in site.languages
            if topics and lang != language and site.topic_name(topics[0], lang) != label
        ]
        rows.append(
            {
                "id": topics[0] if topics else urls.ALL,
                "label": label,
                "also": also,
                "cells": cells,
                "subscribe": subscribe_url(site, language, topics),
            }
        )
    example_topics = site.topic_ids[:2] or ("topic-a", "topic-b")
    custom = Selection(
        tuple(sorted(example_topics))
        if len(example_topics) > 1
        else (example_topics[0], example_topics[0] + "-2"),
        language,
    )
    everything = Selection((), language)
    discovery = [
        _discovery(site.base_url, everything, fmt, f"{site.title} ({language})")
        for fmt in ("atom", "rss", "json")
    ]
    discovery += [
        _discovery(
            site.base_url, Selection((topic,), language), "atom", site.topic_name(topic, language)
        )
        for topic in site.topic_ids
    ]
    opmls = [{"href": site.url(urls.opml_path()), "label": t["opml_all"]}] + [
        {
            "href": site.url(urls.opml_path(lang)),
            "label": t["opml_language"].format(
                language=language_label(lang, language).lower()
                if language != "en"
                else language_label(lang, "en")
            ),
        }
        for lang in site.languages
    ]
    return _render(
        "index.html",
        lang=language,
        t=t,
        site=site,
        columns=columns,
        rows=rows,
        page_title=site.title,
        discovery=discovery,
        opmls=opmls,
        custom_example=urls.feed_url(site.base_url, custom, "atom"),
        switcher=_switcher(site, language),
        home_url=_home(site, language),
        subscribe_url=subscribe_url(site, language, ()),
    )


def render_feed_page(document: FeedDocument) -> bytes:
    site = document.site
    language = interface_language(site, document.selection.language)
    t = strings(language)
    discovery = [
        _discovery(site.base_url, document.selection, fmt, document.title)
        for fmt in ("atom", "rss", "json")
    ]
    entries = [
        {
            "anchor": urls.item_anchor(entry.item_id),
            "language": entry.language,
            "link": entry.link,
            "title": entry.title,
            "image_url": entry.image_url,
            "published_iso": entry.published_at.isoformat().replace("+00:00", "Z"),
            "published_text": format_date(
                entry.published_at.date(), "long", locale=babel_locale(language)
            ),
            "topics": ", ".join(name for _topic, name in entry.topics),
            "summary_html": entry.summary_html,
            "translations": entry.translations,
        }
        for entry in document.entries
    ]
    # The language switch leads to the same topics in the other language.
    switcher = [
        {
            **other,
            "href": urls.feed_url(
                site.base_url, Selection(document.selection.topics, other["lang"]), "html"
            ),
        }
        if document.selection.language and not document.selection.is_custom
        else other
        for other in _switcher(site, language)
    ]
    return _render(
        "feed.html",
        lang=language,
        t=t,
        feed={"title": document.title, "entries": entries},
        page_title=document.title,
        discovery=discovery,
        feed_url=document.url("atom"),
        index_url=_home(site, language),
        home_url=_home(site, language),
        switcher=switcher,
        site=site,
        subscribe_url=subscribe_url(
            site, document.selection.language or language, document.selection.topics
        ),
    )


def subscribe_url(site: SiteInfo, language: str, topics: tuple[str, ...]) -> str:
    """The sign-up form with the language and topics filled in (served by `cmsfeed run`)."""
    query = [("lang", language), *(("topic", topic) for topic in topics)]
    return f"{site.base_url}subscribe?{urlencode(query)}"


def language_label(code: str, interface: str) -> str:
    """The name of a language in the interface language ("Русский", "English", "Английский")."""
    try:
        name = babel_locale(interface).languages.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return (name[:1].upper() + name[1:]) if name else code


def _home(site: SiteInfo, language: str) -> str:
    return urls.index_url(site.base_url, language, site.default_language)


def _discovery(base_url: str, chosen: Selection, fmt: str, title: str) -> dict[str, str]:
    return {
        "type": _TYPES[fmt],
        "title": f"{title} ({_FORMAT_LABELS[fmt]})",
        "label": _FORMAT_LABELS[fmt],
        "href": urls.feed_url(base_url, chosen, fmt),  # type: ignore[arg-type]
    }


def _switcher(site: SiteInfo, current: str) -> list[dict[str, Any]]:
    """Each language named in itself, leading to the index page in that language."""
    return [
        {
            "lang": lang,
            "label": language_label(lang, lang),
            "href": urls.index_url(site.base_url, lang, site.default_language),
            "current": lang == current,
        }
        for lang in site.languages
    ]


def render_opml(site: SiteInfo, language: str | None = None) -> bytes:
    """OPML 2.0: every standard feed (Atom), or each topic's feed in one language."""
    t = strings(language or site.default_language)
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    title = etree.SubElement(head, "title")
    title.text = site.title if language is None else f"{site.title} ({language})"
    body = etree.SubElement(root, "body")
    topics: list[tuple[str, ...]] = [()] + [(topic,) for topic in site.topic_ids]
    languages: list[str | None] = [None, *site.languages] if language is None else [language]
    for chosen_topics in topics:
        if language is not None and not chosen_topics:
            continue
        label = site.topic_name(chosen_topics[0], language) if chosen_topics else t["all_topics"]
        group = etree.SubElement(body, "outline", text=label, title=label)
        for lang in languages:
            chosen = Selection(chosen_topics, lang)
            name = f"{label} ({lang or t['all_languages']})"
            etree.SubElement(
                group,
                "outline",
                type="rss",
                text=name,
                title=name,
                xmlUrl=urls.feed_url(site.base_url, chosen, "atom"),
                htmlUrl=urls.feed_url(site.base_url, chosen, "html"),
                language=lang or site.default_language,
            )
    return bytes(etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8"))
