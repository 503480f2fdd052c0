"""Rendering emails from templates/email/ in the subscriber's language. Pure once built.

The `EmailRenderer` reads the templates and gettext catalogs (package data) when it is built;
after that it only computes. Every word goes through gettext (a language without a catalog
gets the English words), dates through Babel. A digest body is rendered once per language,
set of items and topics, with placeholders where the subscriber's own links and the "why you
get this" line go; `personalise` fills them in with plain string replacement, which is cheap.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
from babel.dates import format_date, get_day_names
from babel.support import NullTranslations
from jinja2 import Environment

from cmsfeed.feeds.document import absolute_http_url
from cmsfeed.feeds.urls import item_page_url
from cmsfeed.i18n import PACKAGE as PACKAGE  # web/subscriptions.py finds templates from it
from cmsfeed.i18n import TEMPLATES, babel_locale, gettext_environment, translations
from cmsfeed.model import Item, SiteInfo
from cmsfeed.sanitize import clean_html, plain_text
from cmsfeed.subscribers import Subscriber

# Filled in per subscriber; letters only, so that escaping and CSS inlining leave them alone.
UNSUBSCRIBE = "CMSFEEDxUNSUBSCRIBExURL"
PREFERENCES = "CMSFEEDxPREFERENCESxURL"
WHY = "CMSFEEDxWHYxLINE"
VIEW = "CMSFEEDxVIEWxURL"  # the line or paragraph holding it goes when there is no web copy
_VIEW_PARAGRAPH = re.compile(r'<p class="view"[^>]*>(?:(?!</p>).)*' + VIEW + r".*?</p>\s*", re.S)
_TEXT_SUMMARY_LIMIT = 600


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Personal:
    """What differs between two subscribers who get the same items."""

    unsubscribe_url: str
    preferences_url: str
    why: str
    view_url: str | None = None  # the digest as a web page (`links.view_link`); None: no link


def personalise(rendered: RenderedEmail, personal: Personal) -> RenderedEmail:
    def fill(text: str, escape: bool) -> str:
        quote = html.escape if escape else str
        if personal.view_url is None:
            text = (
                _VIEW_PARAGRAPH.sub("", text)
                if escape
                else "".join(line for line in text.splitlines(True) if VIEW not in line)
            )
        else:
            text = text.replace(VIEW, quote(personal.view_url))
        return (
            text.replace(UNSUBSCRIBE, quote(personal.unsubscribe_url))
            .replace(PREFERENCES, quote(personal.preferences_url))
            .replace(WHY, quote(personal.why))
        )

    return RenderedEmail(rendered.subject, fill(rendered.text, False), fill(rendered.html, True))


# No-break spaces stay in a header: French writes one before ':' and inside « ».
_NO_BREAK_SPACES = "\u00a0\u202f"


def header_text(text: str) -> str:
    """Text safe for a header: no CR, LF or other control characters, one line."""
    cleaned = "".join(c if c.isprintable() or c in _NO_BREAK_SPACES else " " for c in text)
    return " ".join(part for part in cleaned.split(" ") if part)


class EmailRenderer:
    def __init__(self, site: SiteInfo, *, confirm_days: int, cache_size: int = 4096) -> None:
        self.site = site
        self.confirm_days = confirm_days  # how long a confirmation link is valid, as told
        self._environments: dict[str, Environment] = {}
        self._bodies: OrderedDict[tuple[Any, ...], RenderedEmail] = OrderedDict()
        self._cache_size = cache_size

    # -- languages --------------------------------------------------------------------------

    def translations(self, language: str) -> NullTranslations:
        return translations(language, self.site.locale_dir)

    def environment(self, language: str) -> Environment:
        if language not in self._environments:
            self._environments[language] = gettext_environment(
                TEMPLATES / "email", self.translations(language), keep_trailing_newline=True
            )
        return self._environments[language]

    def translate(self, language: str, message: str) -> str:
        return self.translations(language).gettext(message)

    def format_date(self, day: date, language: str) -> str:
        return format_date(day, format="long", locale=babel_locale(language))

    def topic_name(self, topic_id: str, language: str) -> str:
        return self.site.topic_name(topic_id, language)

    # -- digests ----------------------------------------------------------------------------

    def digest(self, subscriber: Subscriber, items: list[Item], now: datetime) -> RenderedEmail:
        """The digest with placeholders; the same object for the same language, items, topics."""
        key = (
            subscriber.language,
            subscriber.topics,
            tuple(item.id for item in items),
            now.astimezone(ZoneInfo(subscriber.timezone)).date(),
        )
        found = self._bodies.get(key)
        if found is None:
            found = self._render_digest(subscriber, items, key[3])
            self._bodies[key] = found
            if len(self._bodies) > self._cache_size:
                self._bodies.popitem(last=False)
        return found

    def _render_digest(self, subscriber: Subscriber, items: list[Item], day: date) -> RenderedEmail:
        language = subscriber.language
        groups = self._groups(subscriber, items)
        site = self.site
        context = {
            "language": language,
            "site_title": site.title_in(language),
            "count": len(items),
            "date": self.format_date(day, language),
            "groups": groups,
            "why": WHY,
            "preferences_url": PREFERENCES,
            "unsubscribe_url": UNSUBSCRIBE,
            "view_url": VIEW,
            "covers": self.covers(subscriber),
        }
        _ = self.translations(language)
        if len(items) == 1:
            # The colon is the catalog's: French writes a non-breaking space before it.
            subject = _.gettext("%(site)s: %(title)s") % {
                "site": site.title_in(language),
                "title": items[0].title,
            }
        else:
            topics = ", ".join(group["name"] for group in groups)
            subject = _.ngettext(
                "%(site)s: %(count)d new story", "%(site)s: %(count)d new stories", len(items)
            ) % {"site": site.title_in(language), "count": len(items)}
            if topics:
                subject += f" ({topics})"
        context["title"] = subject
        return self._render("digest", language, header_text(subject), context)

    def _groups(self, subscriber: Subscriber, items: list[Item]) -> list[dict[str, Any]]:
        """Items by topic, in the order of the config; an item shows under its first topic."""
        language = subscriber.language
        order = list(self.site.topic_ids)
        by_topic: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            wanted = [t for t in item.topics if not subscriber.topics or t in subscriber.topics]
            wanted.sort(key=lambda t: order.index(t) if t in order else len(order))
            topic = wanted[0] if wanted else ""
            by_topic.setdefault(topic, []).append(self._item_view(item, language))
        ordered = sorted(by_topic, key=lambda t: order.index(t) if t in order else len(order))
        other = self.translate(language, "Other news")
        return [
            {"name": self.topic_name(t, language) if t else other, "entries": by_topic[t]}
            for t in ordered
        ]

    def _item_view(self, item: Item, language: str) -> dict[str, Any]:
        url = absolute_http_url(item.url) or item_page_url(
            self.site.base_url, item.id, item.language
        )
        text = plain_text(item.summary)
        if len(text) > _TEXT_SUMMARY_LIMIT:
            text = text[:_TEXT_SUMMARY_LIMIT].rsplit(" ", 1)[0] + " …"
        return {
            "title": item.title,
            "url": url,
            "summary_html": clean_html(item.summary, url),
            "summary_text": text,
            "date": self.format_date(item.published_at.date(), language),
        }

    def covers(self, subscriber: Subscriber) -> str:
        """What a digest covers, for its header: "Argali, Saiga antelope · English"."""
        language = subscriber.language
        if subscriber.topics:
            topics = ", ".join(self.topic_name(t, language) for t in subscriber.topics)
        else:
            topics = self.translate(language, "all topics")
            topics = topics[:1].upper() + topics[1:]
        name = babel_locale(language).languages.get(language) or language
        return f"{topics} · {name[:1].upper() + name[1:]}"

    def why(self, subscriber: Subscriber) -> str:
        """ "Why you get this" in the subscriber's language, with the schedule and topics."""
        language = subscriber.language
        _ = self.translations(language)
        if subscriber.topics:
            topics = ", ".join(self.topic_name(t, language) for t in subscriber.topics)
        else:
            topics = _.gettext("all topics")
        at = f"{subscriber.send_time:%H:%M}"
        if subscriber.frequency == "immediate":
            schedule = _.gettext("as soon as new stories arrive")
        elif subscriber.frequency == "daily":
            schedule = _.gettext("daily at %(time)s (%(timezone)s)") % {
                "time": at,
                "timezone": subscriber.timezone,
            }
        else:
            weekday = get_day_names("wide", locale=babel_locale(language))[subscriber.weekday]
            schedule = _.gettext("weekly on %(weekday)s at %(time)s (%(timezone)s)") % {
                "weekday": weekday,
                "time": at,
                "timezone": subscriber.timezone,
            }
        return _.gettext(
            "You receive this at %(email)s because you subscribed to %(topics)s, "
            "%(schedule)s. You can change this at any time."
        ) % {"email": subscriber.email, "topics": topics, "schedule": schedule}

    # -- confirmation and welcome -----------------------------------------------------------

    def confirmation(self, language: str, confirm_url: str) -> RenderedEmail:
        site = self.site
        subject = self.translate(language, "Please confirm your subscription to %(site)s") % {
            "site": site.title_in(language)
        }
        context = {
            "language": language,
            "site_title": site.title_in(language),
            "title": subject,
            "confirm_url": confirm_url,
            "days": self.confirm_days,
        }
        return self._render("confirm", language, header_text(subject), context)

    def welcome(self, subscriber: Subscriber, personal: Personal) -> RenderedEmail:
        site = self.site
        language = subscriber.language
        subject = self.translate(language, "Welcome to %(site)s") % {
            "site": site.title_in(language)
        }
        context = {
            "language": language,
            "site_title": site.title_in(language),
            "title": subject,
            "why": WHY,
            "preferences_url": PREFERENCES,
            "unsubscribe_url": UNSUBSCRIBE,
        }
        return personalise(
            self._render("welcome", language, header_text(subject), context), personal
        )

    def _render(
        self, name: str, language: str, subject: str, context: dict[str, Any]
    ) -> RenderedEmail:
        env = self.environment(language)
        text = env.get_template(f"{name}.txt").render(context)
        page = env.get_template(f"{name}.html").render(context)
        return RenderedEmail(subject, text, css_inline.inline(page))
