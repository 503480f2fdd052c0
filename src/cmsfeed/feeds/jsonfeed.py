"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written with orjson. Pure: no I/O.

feedgen has no JSON Feed, so this writes the document directly. Keys come in a fixed order
and times in RFC 3339, so the same content gives the same bytes. Links to the other language
versions of a story go in the `_cmsfeed` extension object (JSON Feed allows keys starting
with an underscore); the item's own `language` says which version it is.
"""

from __future__ import annotations

from typing import Any

import orjson

from cmsfeed.feeds.document import Entry, FeedDocument

VERSION = "https://jsonfeed.org/version/1.1"


def render_json(document: FeedDocument) -> bytes:
    site = document.site
    author: dict[str, str] = {"name": site.author_name}
    if site.author_email:
        author["url"] = f"mailto:{site.author_email}"
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": document.title,
        "home_page_url": document.html_url,
        "feed_url": document.url("json"),
        "description": document.subtitle,
        "authors": [author],
    }
    if document.language is not None:  # a feed of all languages: each item says its own
        feed["language"] = document.language
    if site.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": site.hub_url}]
    feed["items"] = [_item(entry) for entry in document.entries]
    return orjson.dumps(feed, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def _item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.link,
        "title": entry.title,
        "content_html": entry.summary_html,
        "date_published": entry.published_at.isoformat().replace("+00:00", "Z"),
        "date_modified": entry.updated_at.isoformat().replace("+00:00", "Z"),
        "language": entry.language,
    }
    if entry.image_url:
        item["image"] = entry.image_url
    if entry.topics:
        item["tags"] = [name for _topic, name in entry.topics]
    if entry.translations:
        item["_cmsfeed"] = {
            "translations": [
                {"language": t.language, "url": t.url, "title": t.title, "id": t.id}
                for t in entry.translations
            ]
        }
    return item
