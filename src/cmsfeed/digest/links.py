"""Signed links: confirmation, preferences, unsubscribe and a digest's web copy. Pure: `now`
is a parameter.

A token is `payload.signature`, both base64url: the payload is compact JSON (purpose, data,
expiry as a Unix time or 0 for never), the signature an HMAC-SHA256 of it under the site's
secret. Unsubscribe and preferences links never expire (an old email must still let one
out); confirmation links do. Tokens say nothing a reader of the email does not already know.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from cmsfeed.errors import TokenError
from cmsfeed.model import Item
from cmsfeed.subscribers import Subscriber

Purpose = Literal["confirm", "preferences", "unsubscribe", "view", "undo"]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(
    secret: bytes, purpose: Purpose, data: Any, expires_at: datetime | None = None
) -> str:
    expiry = int(expires_at.timestamp()) if expires_at is not None else 0
    payload = _encode(
        json.dumps([purpose, data, expiry], separators=(",", ":"), ensure_ascii=False).encode()
    )
    signature = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_encode(signature[:20])}"


def read_token(secret: bytes, token: str, purpose: Purpose, now: datetime) -> Any:
    """The data a valid token carries; TokenError when forged, altered, misused or expired."""
    payload, _, signature = token.partition(".")
    expected = hmac.new(secret, payload.encode("ascii", "replace"), hashlib.sha256).digest()[:20]
    try:
        given = _decode(signature)
        if not hmac.compare_digest(given, expected):
            raise ValueError("bad signature")
        found, data, expiry = json.loads(_decode(payload))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise TokenError(purpose, "this link is not valid (was it copied whole?)") from None
    if found != purpose:
        raise TokenError(purpose, "this link is meant for something else")
    if expiry and now.timestamp() > expiry:
        raise TokenError(purpose, "this link has expired; please sign up again")
    return data


def link(base_url: str, path: str, token: str) -> str:
    """An absolute link on the site: `base_url` ends with a slash."""
    return f"{base_url}{path}?{urlencode({'token': token})}"


def unsubscribe_link(base_url: str, secret: bytes, subscriber_id: str) -> str:
    return link(base_url, "unsubscribe", make_token(secret, "unsubscribe", subscriber_id))


def preferences_link(base_url: str, secret: bytes, subscriber_id: str) -> str:
    return link(base_url, "preferences", make_token(secret, "preferences", subscriber_id))


def view_link(
    base_url: str,
    secret: bytes,
    subscriber: Subscriber,
    items: Sequence[Item],
    covered_at: datetime,
) -> str:
    """The digest as a web page ("view in your browser"): the token names what it held (the
    subscriber, language and topics it was for, its items, its time), so the page renders it
    again from the store and nothing is kept per message. It never expires."""
    data = [
        subscriber.id,
        subscriber.language,
        list(subscriber.topics),
        [item.id for item in items],
        covered_at.isoformat(),
    ]
    return link(base_url, "digest", make_token(secret, "view", data))
