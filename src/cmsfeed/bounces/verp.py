"""VERP: an envelope sender per digest, so a bounce names the digest it is about. Pure.

With `bounces.verp` on, a digest's MAIL FROM is `bounces+<token>@domain`, where `bounces@domain`
is the bounce mailbox and the token is the outbox row's id with an HMAC-SHA256 of it under the
site's secret. Mail servers return bounces to that address; the token tells which row (and so
which subscriber and digest) bounced, whatever the report's format.

The token is lowercase base36 and base32 (`3f-abcdefghijklmnop`): some servers change the
case of local parts, and a local part has at most 64 characters. Its MAC is truncated to 80
bits, plenty against forgery by guessing; it is domain-separated from the link tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOKEN = re.compile(r"^([0-9a-z]{1,13})-([a-z2-7]{16})$")


def _base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if not number:
            return text


def _mac(secret: bytes, ident: str) -> str:
    digest = hmac.new(secret, f"cmsfeed-verp:{ident}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()


def make_token(secret: bytes, outbox_id: int) -> str:
    if outbox_id < 0:
        raise ValueError(f"outbox id {outbox_id} is negative")
    ident = _base36(outbox_id)
    return f"{ident}-{_mac(secret, ident)}"


def read_token(secret: bytes, token: str) -> int | None:
    """The outbox id a token names, or None when it is not one of ours (or was altered)."""
    found = _TOKEN.match(token.lower())
    if found is None:
        return None
    ident, mac = found.groups()
    if not hmac.compare_digest(mac, _mac(secret, ident)):
        return None
    return int(ident, 36)


def verp_address(secret: bytes, outbox_id: int, bounce_address: str) -> str:
    """`local+token@domain` for the bounce mailbox `local@domain`."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{make_token(secret, outbox_id)}@{domain}"


def outbox_id_of(secret: bytes, address: str, bounce_address: str) -> int | None:
    """The outbox id a VERP address carries, if `address` is `local+token@domain` of
    `bounce_address` with a valid token; else None. Case does not matter."""
    text = address.strip().strip("<>").strip().lower()
    local, _, domain = text.rpartition("@")
    want_local, _, want_domain = bounce_address.lower().rpartition("@")
    prefix = want_local + "+"
    if domain != want_domain or not local.startswith(prefix):
        return None
    return read_token(secret, local[len(prefix) :])
