"""Rendered files held in memory, ready to serve, and the HTTP rules for serving them.

Pure apart from compression: nothing here reads the store or the network. A `Resource` is
one file with its strong ETag (from the content), Last-Modified (when the content last
changed), and its gzip body made once; a brotli body is made on the first request that
asks for it and kept.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

import brotli

from cmsfeed.feeds.site import Rendered

GZIP_LEVEL = 6
BROTLI_QUALITY = 6
_SUFFIXES = {"identity": "", "gzip": "-gz", "br": "-br"}


@dataclass(slots=True)
class Resource:
    path: str
    body: bytes
    media_type: str
    content_hash: str
    changed_at: datetime
    gzip_body: bytes = b""
    _brotli_body: bytes | None = field(default=None, repr=False)
    _raw_headers: dict[
        tuple[str, bytes], tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]
    ] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, file: Rendered, changed_at: datetime) -> Resource:
        return cls(
            file.path,
            file.body,
            file.media_type,
            file.content_hash,
            changed_at.astimezone(UTC).replace(microsecond=0),
            gzip.compress(file.body, GZIP_LEVEL, mtime=0),
        )

    def body_for(self, encoding: str) -> bytes:
        if encoding == "gzip":
            return self.gzip_body
        if encoding == "br":
            if self._brotli_body is None:
                self._brotli_body = brotli.compress(self.body, quality=BROTLI_QUALITY)
            return self._brotli_body
        return self.body

    def raw_headers(
        self, encoding: str, cache_control: bytes
    ) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
        """ASGI headers for a 304 and for a 200 in `encoding`, made once and kept."""
        key = (encoding, cache_control)
        found = self._raw_headers.get(key)
        if found is None:
            common = [
                (b"etag", self.etag(encoding).encode()),
                (b"last-modified", self.last_modified.encode()),
                (b"cache-control", cache_control),
                (b"vary", b"Accept-Encoding"),
            ]
            full = list(common)
            if encoding != "identity":
                full.append((b"content-encoding", encoding.encode()))
            full += [
                (b"content-length", str(len(self.body_for(encoding))).encode()),
                (b"content-type", self.media_type.encode()),
            ]
            found = self._raw_headers[key] = (common, full)
        return found

    def etag(self, encoding: str = "identity") -> str:
        # A strong validator names one representation, so each content coding has its own.
        return f'"{self.content_hash}{_SUFFIXES[encoding]}"'

    @property
    def last_modified(self) -> str:
        return format_datetime(self.changed_at, usegmt=True)


def choose_encoding(accept_encoding: str | None) -> str:
    """brotli if asked for, else gzip if accepted, else identity (q=0 refuses a coding)."""
    accepted: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        name, _, parameters = part.strip().partition(";")
        quality = 1.0
        parameters = parameters.strip()
        if parameters.startswith("q="):
            try:
                quality = float(parameters[2:])
            except ValueError:
                quality = 0.0
        if name.strip():
            accepted[name.strip().lower()] = quality
    star = accepted.get("*", 0.0)
    for coding in ("br", "gzip"):
        if accepted.get(coding, star) > 0:
            return coding
    return "identity"


def is_not_modified(
    resource_etag_base: str, changed_at: datetime, headers: Mapping[str, str]
) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        for tag in if_none_match.split(","):
            tag = tag.strip().removeprefix("W/").strip('"')
            for suffix in _SUFFIXES.values():
                if suffix and tag.endswith(suffix):
                    tag = tag[: -len(suffix)]
            if tag == resource_etag_base:
                return True
        return False
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return changed_at <= since
    return False
