"""What makes two stories one item. Pure: no I/O.

A story is identified by what its source gives, in this order:

1. the source's own id (an RSS guid, an Atom id, a JSON `id`);
2. else its canonical URL (scheme and host lower-cased, default port, fragment and tracking
   parameters such as `utm_source` dropped);
3. else a fingerprint of (source, day, normalized title): the words of the title, lower-cased.

Two stories with different ids, or different URLs, are never one item. Only a fingerprinted
story can be taken for an edit of a stored one (a fixed typo changes its fingerprint); the
store finds such candidates through `edit_sketches`, never by comparing every pair.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from cmsfeed.model import Story
from cmsfeed.sanitize import plain_text, remove_xml_forbidden

IdentityKind = Literal["id", "url", "fingerprint"]
IDENTITY_KINDS: tuple[IdentityKind, ...] = ("id", "url", "fingerprint")

# An unidentified story this alike to a stored one of the same source and day is an edit of it.
EDIT_SIMILARITY = 0.8
# The fingerprint keeps this much of the title's words (the same length as keys made before
# identity was explicit, so stored keys still match).
FINGERPRINT_TITLE_CHARS = 80
# Between those 80 characters and a digest of the whole title; never part of a slug of words.
LONG_TITLE_MARK = "~"

_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that say how a reader arrived, not which page it is.
_TRACKING_PARAMETER = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|yclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi)$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class StoryIdentity:
    """The key a story is stored under (namespaced by its source) and what it was made from."""

    key: str
    kind: IdentityKind


def identify_story(
    source_id: str,
    *,
    own_id: str | None,
    url: str | None,
    title: str,
    published_at: datetime,
) -> StoryIdentity:
    """The identity of a story: its own id, else its canonical URL, else its fingerprint.

    `title` is the story's plain-text title.
    """
    if own_id is not None and own_id.strip():
        return StoryIdentity(f"{source_id}|{own_id.strip()}", "id")
    if url is not None and url.strip():
        return StoryIdentity(f"{source_id}|{canonical_url(url)}", "url")
    return StoryIdentity(fingerprint(source_id, published_at, title), "fingerprint")


def story_identity(source_id: str, story: Story) -> StoryIdentity:
    """The identity of a parsed story (which must have a publication date)."""
    assert story.published_at is not None
    if (story.key and story.key.strip()) or (story.url and story.url.strip()):
        title = ""  # not part of the identity: spare cleaning it
    else:
        # Bytes that were not UTF-8 (the story will be rejected) must not stop its screening.
        readable = story.title.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        title = plain_text(remove_xml_forbidden(readable)[0])
    return identify_story(
        source_id, own_id=story.key, url=story.url, title=title, published_at=story.published_at
    )


def canonical_url(url: str) -> str:
    """`url` in the one form that names the same page: what a reader's click cannot change.

    A URL that cannot be split (a bad port, say) is kept as written, without its fragment.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.split("#", 1)[0]
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password else "")
        host = f"{credentials}@{host}"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _TRACKING_PARAMETER.match(pair.split("=", 1)[0])
    )
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def normalized_words(text: str) -> list[str]:
    """The words of `text`, lower-cased: what case and punctuation cannot change."""
    return _WORD.findall(text.lower())


def fingerprint(source_id: str, published_at: datetime, title: str) -> str:
    words = "-".join(normalized_words(title))
    slug = words[:FINGERPRINT_TITLE_CHARS]
    if len(words) > FINGERPRINT_TITLE_CHARS:
        # Two titles of one day alike in their first 80 characters are still two stories: the
        # rest of the title counts through a digest (keys stay short and readable).
        slug += LONG_TITLE_MARK + hashlib.sha256(words.encode()).hexdigest()[:12]
    return f"{source_id}:{published_at.date().isoformat()}:{slug}"


def fingerprint_before_full_titles(key: str) -> str | None:
    """The key a long-titled story (or one of its language versions) was stored under before
    the whole title counted: its first 80 characters only. None for any other key."""
    base, separator, language = key.partition("#")
    head, mark, digest = base.rpartition(LONG_TITLE_MARK)
    if not mark or len(digest) != 12 or not all(c in "0123456789abcdef" for c in digest):
        return None
    return head + separator + language


def edit_sketches(title: str, summary_html: str) -> set[str]:
    """Index keys under which an edited version of a story finds its stored original.

    Two versions share a sketch when their summaries are the same (the title was fixed) or
    their titles are one word apart (a word replaced, added or removed): the title's words,
    and the title's words with each one left out in turn. Looking these up in a dictionary
    costs time linear in the stories, where comparing pairs would cost their square.
    """
    words = normalized_words(title)
    sketches = {"t:" + " ".join(words)}
    if len(words) > 1:
        sketches.update(
            "t:" + " ".join(words[:index] + words[index + 1 :]) for index in range(len(words))
        )
    summary_words = normalized_words(_TAG.sub(" ", summary_html))
    if summary_words:
        digest = hashlib.sha256(" ".join(summary_words).encode()).hexdigest()[:24]
        sketches.add("s:" + digest)
    return sketches


def similarity(before: str, after: str) -> float:
    """How alike two texts are, 0 to 1 (difflib's ratio on their first 1,000 characters)."""
    matcher = SequenceMatcher(None, before[:1000], after[:1000], autojunk=False)
    if matcher.real_quick_ratio() < EDIT_SIMILARITY or matcher.quick_ratio() < EDIT_SIMILARITY:
        return 0.0
    return matcher.ratio()


def story_digest(parts: Iterable[str | None]) -> str:
    """A short digest of a story's raw fields, compared before costly work is redone."""
    joined = "\x1f".join("\x00" if part is None else part for part in parts)
    return hashlib.sha256(joined.encode("utf-8", errors="surrogateescape")).hexdigest()[:32]
