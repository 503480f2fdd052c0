"""Signed links: confirmation, preferences, unsubscribe and a digest's web copy. Pure: `now`
is a parameter.

Tokens are signed by itsdangerous (`URLSafeSerializer`, HMAC-SHA256 under the site's secret,
salted with the link's purpose, so a token made for one purpose never works for another):
the payload is `[data, expiry]`, the expiry a Unix time or 0 for never. It is checked
against the `now` we are given rather than the signer's own clock (tests and the service
pass a clock). Unsubscribe and preferences links never expire (an old email must still let
one out); confirmation links do. Tokens say nothing a reader of the email does not already
know.

The page after an unsubscribe offers to undo it: its `resubscribe` token is bound to the
subscriber's version then (subscriptions/service.py) and expires like a confirmation.

Links in emails sent before itsdangerous carry the earlier format (`payload.signature`, an
HMAC-SHA256 cut to 20 bytes over `[purpose, data, expiry]`): `read_token` still reads them,
so an unsubscribe link in any email ever sent keeps working. A confirmation link of that
format was made before subscribers had versions, so it is read as made at version 0.
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

from itsdangerous import BadData, URLSafeSerializer

from cmsfeed.errors import TokenError
from cmsfeed.model import Item
from cmsfeed.subscribers import Subscriber

Purpose = Literal["confirm", "preferences", "unsubscribe", "resubscribe", "view"]


def _serializer(secret: bytes, purpose: Purpose) -> URLSafeSerializer:
    return URLSafeSerializer(
        secret, salt=f"cmsfeed.{purpose}", signer_kwargs={"digest_method": hashlib.sha256}
    )


def make_token(
    secret: bytes, purpose: Purpose, data: Any, expires_at: datetime | None = None
) -> str:
    expiry = int(expires_at.timestamp()) if expires_at is not None else 0
    return _serializer(secret, purpose).dumps([data, expiry])


def read_token(secret: bytes, token: str, purpose: Purpose, now: datetime) -> Any:
    """The data a valid token carries; TokenError when forged, altered, misused or expired."""
    try:
        data, expiry = _serializer(secret, purpose).loads(token)
    except BadData:
        data, expiry = _read_earlier_format(secret, token, purpose)
    except (ValueError, TypeError):  # signed by us, but not [data, expiry]
        raise TokenError(purpose, "this link is not valid (was it copied whole?)") from None
    if not isinstance(expiry, int):
        raise TokenError(purpose, "this link is not valid (was it copied whole?)")
    if expiry and now.timestamp() > expiry:
        raise TokenError(purpose, "this link has expired; please sign up again")
    return data


def _read_earlier_format(secret: bytes, token: str, purpose: Purpose) -> tuple[Any, Any]:
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
    if purpose == "confirm" and isinstance(data, dict) and "version" not in data:
        data = {**data, "version": 0}  # made before versions: every subscriber was at 0
    return data, expiry


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link(base_url: str, path: str, token: str) -> str:
    """An absolute link on the site: `base_url` ends with a slash."""
    return f"{base_url}{path}?{urlencode({'token': token})}"


def unsubscribe_link(base_url: str, secret: bytes, subscriber_id: str) -> str:
    return link(base_url, "unsubscribe", make_token(secret, "unsubscribe", subscriber_id))


def preferences_link(base_url: str, secret: bytes, subscriber_id: str) -> str:
    """The preferences page; the form it shows is bound to the subscriber's version then."""
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
