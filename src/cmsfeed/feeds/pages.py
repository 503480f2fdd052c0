"""Pages for people: the index of every feed, a readable page per feed, and OPML lists.

Pure apart from reading the Jinja2 templates in `cmsfeed/templates/web/` and the gettext
catalogs (package data, see `cmsfeed.i18n`) once per language. The same content gives the
same bytes: no build time appears anywhere.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from jinja2 import Environment, StrictUndefined
from lxml import etree

from cmsfeed.feeds import urls
from cmsfeed.feeds.document import FeedDocument
from cmsfeed.feeds.urls import Selection
from cmsfeed.i18n import TEMPLATES, babel_locale, gettext_environment, language_name, translations
from cmsfeed.model import FeedCounts, SiteInfo

_FORMAT_LABELS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


@cache
def _environment(language: str, locale_dir: Path | None) -> Environment:
    return gettext_environment(
        TEMPLATES / "web",
        translations(language, locale_dir),
        keep_trailing_newline=True,
        trim_blocks=False,
        undefined=StrictUndefined,
    )


def _render(site: SiteInfo, language: str, template: str, /, **context: Any) -> bytes:
    environment = _environment(language, site.locale_dir)
    return environment.get_template(template).render(**context).encode()


def interface_language(site: SiteInfo, language: str | None) -> str:
    return language if language in site.languages else site.default_language


def render_index(site: SiteInfo, language: str, counts: FeedCounts | None = None) -> bytes:
    """The index in `language`: a card per topic, the page's language first and the others a
    tap away. `counts` (from the store) gives each feed's size and newest date; None: not
    known, and no count is shown (an empty feed is only called empty when it is)."""
    translated = translations(language, site.locale_dir)
    _ = translated.gettext
    # The page's language first, then the others, then all languages.
    languages: list[str | None] = [
        language,
        *(other for other in site.languages if other != language),
        None,
    ]
    columns = [
        {"lang": lang, "label": language_name(lang, language) if lang else _("All languages")}
        for lang in languages
    ]
    topic_rows: list[tuple[tuple[str, ...], str]] = [((), _("All topics"))] + [
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
                | {
                    "column": column["label"] or "",
                    "lang": column["lang"] or "",
                    "id": f"url-{topics[0] if topics else urls.ALL}-{column['lang'] or urls.ALL}",
                    "size": _size(counts, translated, language, topics, column["lang"]),
                }
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
                "size": _size(counts, translated, language, topics, None),
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
        _discovery(site.base_url, everything, fmt, f"{site.title_in(language)} ({language})")
        for fmt in ("atom", "rss", "json")
    ]
    discovery += [
        _discovery(
            site.base_url, Selection((topic,), language), "atom", site.topic_name(topic, language)
        )
        for topic in site.topic_ids
    ]
    opmls = [{"href": site.url(urls.opml_path()), "label": _("All feeds")}] + [
        {
            "href": site.url(urls.opml_path(lang)),
            "label": _("Feeds in %(language)s")
            % {"language": language_name(lang, language, capitalized=False)},
        }
        for lang in site.languages
    ]
    return _render(
        site,
        language,
        "index.html",
        lang=language,
        site=site,
        columns=columns,
        rows=rows,
        page_title=site.title_in(language),
        site_title=site.title_in(language),
        site_description=site.description_in(language),
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
    # The language switch leads to the same topics in the other language; from a page of all
    # languages it leads to the indexes, which are no versions of it (so no hreflang).
    switcher = [
        {
            **other,
            "href": urls.feed_url(
                site.base_url, Selection(document.selection.topics, other["lang"]), "html"
            ),
        }
        if document.selection.language and not document.selection.is_custom
        else {**other, "version": False}
        for other in _switcher(site, language)
    ]
    return _render(
        site,
        language,
        "feed.html",
        lang=language,
        feed={"title": document.title, "entries": entries},
        page_title=document.title,
        discovery=discovery,
        feed_url=document.url("atom"),
        index_url=_home(site, language),
        home_url=_home(site, language),
        switcher=switcher,
        site=site,
        site_title=site.title_in(language),
        subscribe_url=subscribe_url(
            site, document.selection.language or language, document.selection.topics
        ),
    )


def _size(
    counts: FeedCounts | None,
    translated: Any,
    language: str,
    topics: tuple[str, ...],
    feed_language: str | None,
) -> str:
    """ "12 stories · newest 2 Dec 2024", "No stories yet", or "" when counts are not known."""
    if counts is None:
        return ""
    found = counts.get((topics[0] if topics else None, feed_language))
    if found is None:
        return str(translated.gettext("No stories yet"))
    stories = translated.ngettext("%(count)d story", "%(count)d stories", found.count) % {
        "count": found.count
    }
    day = format_date(found.newest_at.date(), "medium", locale=babel_locale(language))
    newest = translated.gettext("newest %(date)s") % {"date": day}
    return f"{stories} · {newest}"


def subscribe_url(site: SiteInfo, language: str, topics: tuple[str, ...]) -> str | None:
    """The sign-up form (of `cmsfeed run`) with the language and topics filled in; None when
    no sign-up form is known, and the page leaves its buttons out."""
    if site.signup_url is None:
        return None
    query = [("lang", language), *(("topic", topic) for topic in topics)]
    return f"{site.signup_url}?{urlencode(query)}"


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
            "label": language_name(lang, lang),
            "href": urls.index_url(site.base_url, lang, site.default_language),
            "current": lang == current,
            "default": lang == site.default_language,
            "version": True,  # the same page in that language: an hreflang alternate
        }
        for lang in site.languages
    ]


def render_opml(site: SiteInfo, language: str | None = None) -> bytes:
    """OPML 2.0: every standard feed (Atom), or each topic's feed in one language."""
    _ = translations(language or site.default_language, site.locale_dir).gettext
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    title = etree.SubElement(head, "title")
    name = site.title_in(language)
    title.text = name if language is None else f"{name} ({language})"
    body = etree.SubElement(root, "body")
    topics: list[tuple[str, ...]] = [()] + [(topic,) for topic in site.topic_ids]
    languages: list[str | None] = [None, *site.languages] if language is None else [language]
    for chosen_topics in topics:
        if language is not None and not chosen_topics:
            continue
        label = site.topic_name(chosen_topics[0], language) if chosen_topics else _("All topics")
        group = etree.SubElement(body, "outline", text=label, title=label)
        for lang in languages:
            chosen = Selection(chosen_topics, lang)
            name = f"{label} ({lang or _('All languages')})"
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
