"""Getting a source's bytes: a local file, or HTTP with conditional GET. Does I/O.

The ETag and Last-Modified a server sent are remembered per source (in the store) and sent
back, so an unchanged feed costs a 304 and no parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import httpx

from cmsfeed import __version__
from cmsfeed.config import SourceConfig
from cmsfeed.errors import SourceError
from cmsfeed.store import SourceState

USER_AGENT = f"cmsfeed/{__version__} (+https://github.com/cmsfeed/cmsfeed)"


@dataclass(frozen=True, slots=True)
class Fetched:
    """`data` is None when the server said the source has not changed (304)."""

    data: bytes | None
    state: SourceState
    url: str | None = None


def fetch_source(
    source: SourceConfig, state: SourceState, client: httpx.Client, now: datetime
) -> Fetched:
    if source.path is not None:
        try:
            return Fetched(Path(source.path).read_bytes(), replace(state, checked_at=now))
        except OSError as err:
            raise SourceError(source.id, f"cannot read {source.path}: {err.strerror}") from err
    assert source.url is not None
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        response = client.get(source.url, headers=headers)
    except httpx.TimeoutException as err:
        raise SourceError(source.id, f"{source.url}: timed out ({type(err).__name__})") from err
    except httpx.HTTPError as err:
        raise SourceError(source.id, f"{source.url}: {err or type(err).__name__}") from err
    if response.status_code == 304:
        return Fetched(None, replace(state, checked_at=now, last_error=None), source.url)
    if response.status_code >= 400:
        raise SourceError(
            source.id, f"{source.url}: HTTP {response.status_code} {response.reason_phrase}"
        )
    return Fetched(
        response.content,
        replace(
            state,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            checked_at=now,
            last_error=None,
        ),
        str(response.url),
    )


def http_client(timeout_seconds: float, user_agent: str | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout_seconds),
        headers={"User-Agent": user_agent or USER_AGENT},
        follow_redirects=True,
    )
