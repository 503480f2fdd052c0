"""Items as JSON: an array of objects, or JSON Lines (one object a line). Pure: bytes in.

Each object has `title`, `published` and optionally `summary` (HTML), `url`, `id` (a string
or an integer), `updated`, `language`, `topics` (a list of topic ids) and `image`. Dates are
ISO 8601, RFC 822 or "02 December 2024". `title` may give one title per language of a
bilingual story, `{"en": "...", "ru": "..."}`; each language version then carries its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, tzinfo
from typing import Any

from cmsfeed.dates import parse_date
from cmsfeed.errors import DateError, SourceError
from cmsfeed.model import ParseResult, Problem, Story
from cmsfeed.sanitize import split_lines

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
FIELDS = frozenset(
    {"id", "title", "summary", "url", "published", "updated", "language", "topics", "image"}
)


def parse_json_items(
    data: bytes, source_id: str, *, locales: tuple[str, ...] = ("en",), zone: tzinfo = UTC
) -> ParseResult:
    text = data.decode("utf-8", errors="surrogateescape").lstrip("\ufeff")
    stories: list[Story] = []
    problems: list[Problem] = []
    for position, value in _objects(text, source_id, problems):
        try:
            stories.append(story_from_object(value, position, locales=locales, zone=zone))
        except ValueError as err:
            problems.append(Problem(source_id, position, str(err)))
    return ParseResult(stories, problems)


def _objects(text: str, source_id: str, problems: list[Problem]) -> Iterator[tuple[str, Any]]:
    if text.lstrip().startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as err:
            raise SourceError(source_id, f"not valid JSON: {err}") from err
        for number, value in enumerate(values, start=1):
            yield f"item {number}", value
        return
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(Problem(source_id, f"line {number}", f"not valid JSON: {err.msg}"))


def story_from_object(
    value: Any, position: str, *, locales: tuple[str, ...] = ("en",), zone: tzinfo = UTC
) -> Story:
    """A story from one JSON object; ValueError names the field that is wrong."""
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - FIELDS)
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(FIELDS))}"
        )
    own_id = value.get("id")
    if isinstance(own_id, int) and not isinstance(own_id, bool):
        own_id = str(own_id)  # many JSON APIs number their stories
        value = {**value, "id": own_id}
    titles = _titles(value.get("title"))
    for name in ("id", "summary", "url", "published", "updated", "language", "image"):
        if name in value and value[name] is not None and not isinstance(value[name], str):
            raise ValueError(f"{name}: expected a string, got {json.dumps(value[name])[:40]}")
    topics = value.get("topics")
    if topics is not None and (
        not isinstance(topics, list) or not all(isinstance(t, str) for t in topics)
    ):
        raise ValueError("topics: expected a list of topic ids")
    if not value.get("published"):
        raise ValueError("published: missing (expected e.g. 2024-12-02 or 02 December 2024)")
    try:
        published_at = parse_date(value["published"], locales=locales, zone=zone)
        updated_at = (
            parse_date(value["updated"], locales=locales, zone=zone)
            if value.get("updated")
            else None
        )
    except DateError as err:
        raise ValueError(f"bad date {err}") from err
    url = value.get("url") or None
    return Story(
        position=position,
        title=titles[0][1] if titles else "",
        summary_html=value.get("summary") or "",
        published_at=published_at,
        updated_at=updated_at,
        url=url,
        key=value.get("id") or None,  # without an id, the story is known by its URL
        language=value.get("language") or None,
        topics=tuple(topics) if topics is not None else None,
        image_url=value.get("image") or None,
        titles=titles if isinstance(value.get("title"), dict) else (),
    )


def _titles(value: Any) -> tuple[tuple[str, str], ...]:
    """`title` as (language, title) pairs: a string is one title in no declared language."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (("", value),)
    if isinstance(value, dict) and value and all(isinstance(t, str) for t in value.values()):
        bad = [code for code in value if not _LANGUAGE_CODE.match(code)]
        if bad:
            raise ValueError(
                f"title: {bad[0]!r} is not a language code; expected e.g. "
                '{"en": "...", "ru": "..."}'
            )
        return tuple((code, title) for code, title in value.items() if title.strip())
    raise ValueError(
        f"title: expected a string or an object of titles by language such as "
        f'{{"en": "...", "ru": "..."}}, got {json.dumps(value, ensure_ascii=False)[:40]}'
    )
