"""RSS and Atom sources, read with feedparser. Pure: bytes in.

feedparser tolerates broken feeds; a document with no entries that it could not parse (or
that is no feed at all, such as an HTML error page) is a failed source (`SourceError`), a
malformed one whose entries could still be read is a warning, and one bad entry is one problem.
"""

from __future__ import annotations

from calendar import timegm
from collections.abc import Sequence
from datetime import UTC, datetime
from time import struct_time
from typing import Any

import feedparser

from cmsfeed.dates import parse_date
from cmsfeed.errors import DateError, SourceError
from cmsfeed.model import ParseResult, Problem, Story, language_code


def parse_feed(
    data: bytes,
    source_id: str,
    *,
    feed_url: str | None = None,
    locales: Sequence[str] = ("en",),
) -> ParseResult:
    """`locales`: the languages whose month names a date feedparser cannot read may use."""
    # Without a content type feedparser flags every document as doubtful; XML is what we expect.
    # Its own sanitizer stays off: `prepare` cleans every summary with nh3 and reports what it
    # removed (a `javascript:` link, a script), which it could not see once feedparser had.
    parsed = feedparser.parse(
        data,
        response_headers={"content-location": feed_url or "", "content-type": "application/xml"},
        sanitize_html=False,
    )
    stories: list[Story] = []
    problems: list[Problem] = []
    if parsed.bozo:
        reason = parsed.get("bozo_exception") or "not an RSS or Atom document"
        if not parsed.entries:
            raise SourceError(source_id, f"malformed feed: {reason}")
        problems.append(
            Problem(
                source_id,
                "",
                f"malformed feed ({reason}); kept the "
                f"{len(parsed.entries)} entries that could be read",
                rejected=False,
            )
        )
    elif not parsed.version and not parsed.entries:
        raise SourceError(source_id, "not an RSS or Atom document (is the URL a web page?)")
    for number, entry in enumerate(parsed.entries, start=1):
        position = f"entry {number}"
        try:
            published_at = _entry_time(entry, "published", locales) or _entry_time(
                entry, "updated", locales
            )
        except DateError as err:
            problems.append(Problem(source_id, position, f"bad date: {err}"))
            continue
        if published_at is None:
            problems.append(Problem(source_id, position, "no published or updated date"))
            continue
        updated_at = _safe_time(entry, "updated", locales)
        link = entry.get("link")
        stories.append(
            Story(
                position=position,
                title=entry.get("title", ""),
                summary_html=_content(entry),
                published_at=published_at,
                updated_at=updated_at,
                url=link or None,
                key=entry.get("id") or None,  # the guid or Atom id; without it, the link
                image_url=_image(entry),
                language=_declared_language(entry, parsed.feed),
            )
        )
    return ParseResult(stories, problems)


def _declared_language(entry: Any, feed: Any) -> str | None:
    """The language the feed declares for an entry (xml:lang, RSS <language>), as "en".

    Only a fallback: a text long enough to tell is identified as what it is.
    """
    for detail in (entry.get("summary_detail"), entry.get("title_detail")):
        if detail and detail.get("language"):
            return language_code(str(detail["language"]))
    return language_code(str(feed.get("language") or ""))


def _entry_time(entry: Any, name: str, locales: Sequence[str]) -> datetime | None:
    # `in` before reading: feedparser answers a missing "updated" with "published" (and a
    # DeprecationWarning); an entry that was never updated has no updated time.
    parsed: struct_time | None = (
        entry[f"{name}_parsed"]  # noqa: SIM401  (see above)
        if f"{name}_parsed" in entry
        else None
    )
    if parsed is not None:
        return datetime.fromtimestamp(timegm(parsed), UTC)
    raw = entry[name] if name in entry else None  # noqa: SIM401  (see above)
    if raw:  # feedparser could not read it; ours reports why instead of guessing
        return parse_date(raw, locales=locales)
    return None


def _safe_time(entry: Any, name: str, locales: Sequence[str]) -> datetime | None:
    try:
        return _entry_time(entry, name, locales)
    except DateError:
        return None


def _content(entry: Any) -> str:
    for content in entry.get("content") or []:
        if content.get("value"):
            return str(content["value"])
    return str(entry.get("summary", ""))


def _image(entry: Any) -> str | None:
    for thumbnail in entry.get("media_thumbnail") or []:
        if thumbnail.get("url"):
            return str(thumbnail["url"])
    for enclosure in entry.get("enclosures") or []:
        if str(enclosure.get("type", "")).startswith("image/") and enclosure.get("href"):
            return str(enclosure["href"])
    return None
