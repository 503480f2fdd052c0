"""Signed links (digest/links.py): itsdangerous tokens per purpose, expiry against the `now`
we are given, and the earlier format still read. Pure: no store, no server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsfeed.digest.links import make_token, read_token
from cmsfeed.errors import TokenError

SECRET = b"links-secret"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PURPOSES = ("confirm", "preferences", "unsubscribe", "view")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


def earlier(purpose: str, data: Any, expiry: int = 0, secret: bytes = SECRET) -> str:
    """A token as cmsfeed made them before itsdangerous: payload.HMAC-SHA256[:20]."""

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    payload = encode(json.dumps([purpose, data, expiry], separators=(",", ":")).encode())
    return f"{payload}.{encode(hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:20])}"


@given(st.sampled_from(PURPOSES), json_values)
def test_what_is_signed_is_read_back_for_its_purpose_only(purpose: Any, data: Any) -> None:
    token = make_token(SECRET, purpose, data)
    assert read_token(SECRET, token, purpose, NOW) == data
    for other in PURPOSES:
        if other != purpose:
            with pytest.raises(TokenError):
                read_token(SECRET, token, other, NOW)  # type: ignore[arg-type]
    with pytest.raises(TokenError):
        read_token(b"another-secret", token, purpose, NOW)


@given(st.text(max_size=200))
def test_any_text_is_a_token_error_never_a_crash(text: str) -> None:
    for purpose in PURPOSES:
        with pytest.raises(TokenError):
            read_token(SECRET, text, purpose, NOW)  # type: ignore[arg-type]


def test_a_confirmation_link_expires_by_the_clock_it_is_given() -> None:
    token = make_token(SECRET, "confirm", {"email": "a@example.org"}, NOW + timedelta(days=7))
    assert read_token(SECRET, token, "confirm", NOW + timedelta(days=7)) == {
        "email": "a@example.org"
    }
    with pytest.raises(TokenError, match="expired"):
        read_token(SECRET, token, "confirm", NOW + timedelta(days=7, seconds=1))


def test_links_of_the_earlier_format_are_still_read() -> None:
    assert read_token(SECRET, earlier("unsubscribe", "abc"), "unsubscribe", NOW) == "abc"
    assert read_token(SECRET, earlier("view", [1, "x"]), "view", NOW) == [1, "x"]
    # A confirmation of then was made before versions: read as made at version 0.
    assert read_token(SECRET, earlier("confirm", {"email": "a"}), "confirm", NOW) == {
        "email": "a",
        "version": 0,
    }
    for bad, purpose, why in (
        (earlier("unsubscribe", "abc", secret=b"another"), "unsubscribe", "not valid"),
        (earlier("unsubscribe", "abc")[:-2], "unsubscribe", "not valid"),
        (earlier("confirm", {}, expiry=int(NOW.timestamp()) - 1), "confirm", "expired"),
    ):
        with pytest.raises(TokenError, match=why):
            read_token(SECRET, bad, purpose, NOW)  # type: ignore[arg-type]
    with pytest.raises(TokenError, match="meant for something else"):
        read_token(SECRET, earlier("unsubscribe", "abc"), "preferences", NOW)
