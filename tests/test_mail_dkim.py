"""DKIM signing of digests (`[digests.dkim]`): a digest sent through a real SMTP server
(aiosmtpd on 127.0.0.1) verifies with dkimpy against the public key of a key made in the test,
its signature covers the RFC 8058 headers, and a changed or added List-Unsubscribe breaks it.
A key that cannot be read or parsed is one line of configuration error naming the path."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from pathlib import Path

import dkim
import pytest

from cmsfeed.delivery import run_round
from cmsfeed.errors import ConfigError
from cmsfeed.subscribers import Subscriber
from cmsfeed.wiring import build_delivery, load_dkim_key
from support.clock import FixedClock
from support.config import digest_config, write_config
from support.digest import SECRET, open_stores
from support.items import make_item
from support.smtp_server import SmtpServer

SELECTOR = "digest2024"
DOMAIN = "cmsfeed.example"
SIGNED = [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
]


def make_key_pair(folder: Path) -> tuple[Path, bytes]:
    """A fresh 2048-bit RSA key (made by openssl) and its DKIM TXT record."""
    private = folder / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    return make_key_pair(tmp_path_factory.mktemp("dkim"))


def txt_lookup(record: bytes):  # type: ignore[no-untyped-def]
    """A dnsfunc for dkim.verify that knows one name: SELECTOR._domainkey.DOMAIN."""

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


def signed_digest(tmp_path: Path, store_url: str, key_path: Path) -> bytes:
    """One digest to anna, sent through a real SMTP server with DKIM configured."""
    with SmtpServer() as server:
        config = digest_config(
            tmp_path,
            server.port,
            store_url=store_url,
            dkim={"selector": SELECTOR, "domain": DOMAIN, "key_path": str(key_path)},
        )
        store, digests = open_stores(config)
        clock = FixedClock()
        digests.save_subscriber(Subscriber("anna@example.org", language="ru"), clock())
        store.upsert_items([make_item("Аргали: учёт", language="ru")], clock.advance(hours=1))
        clock.advance(days=1)
        delivery = build_delivery(config, digests, clock, {"CMSFEED_SECRET": SECRET})

        async def go() -> None:
            try:
                await run_round(delivery)
            finally:
                await delivery.transport.close()

        asyncio.run(go())
        (received,) = server.handler.received
        return received.data


def signature_tags(message: bytes) -> dict[str, str]:
    header = dkim.DKIM(message).headers[0]
    assert header[0].lower() == b"dkim-signature"
    value = b"".join(header[1].split())  # unfolded, no whitespace
    return dict(tag.decode().split("=", 1) for tag in value.split(b";") if tag)


def replace_header(message: bytes, name: bytes, value: bytes) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    lines = [
        name + b": " + value if line.lower().startswith(name.lower() + b":") else line
        for line in head.split(b"\r\n")
    ]
    assert lines != head.split(b"\r\n"), name
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_a_digest_verifies_and_signs_the_unsubscribe_headers(
    tmp_path: Path, store_url: str, key_pair: tuple[Path, bytes]
) -> None:
    key_path, record = key_pair
    message = signed_digest(tmp_path, store_url, key_path)
    assert message.startswith(b"DKIM-Signature:")
    assert dkim.verify(message, dnsfunc=txt_lookup(record))

    tags = signature_tags(message)
    assert (tags["d"], tags["s"], tags["a"]) == (DOMAIN, SELECTOR, "rsa-sha256")
    signed = tags["h"].lower().split(":")
    assert set(SIGNED) <= set(signed)
    # Signed once more than they occur: a List-Unsubscribe added later breaks the signature.
    assert signed.count("list-unsubscribe") == 2 and signed.count("list-unsubscribe-post") == 2

    # Another key published under the same name: the signature does not verify.
    _, other_record = make_key_pair(tmp_path)
    assert not dkim.verify(message, dnsfunc=txt_lookup(other_record))


@pytest.mark.parametrize("change", ["other URL", "added header", "other Post value"])
def test_a_tampered_unsubscribe_header_fails_verification(
    tmp_path: Path, store_url: str, key_pair: tuple[Path, bytes], change: str
) -> None:
    key_path, record = key_pair
    message = signed_digest(tmp_path, store_url, key_path)
    lookup = txt_lookup(record)
    assert dkim.verify(message, dnsfunc=lookup)
    evil = b"<https://evil.example/unsubscribe>"
    if change == "other URL":
        tampered = replace_header(message, b"List-Unsubscribe", evil)
    elif change == "other Post value":
        tampered = replace_header(message, b"List-Unsubscribe-Post", b"List-Unsubscribe=Yes")
    else:  # in front of the real one, where a mail client looks first
        head, _, rest = message.partition(b"\r\nTo:")
        tampered = head + b"\r\nList-Unsubscribe: " + evil + b"\r\nTo:" + rest
    assert tampered != message
    assert not dkim.verify(tampered, dnsfunc=lookup)


@pytest.mark.parametrize("problem", ["missing", "not a key", "a directory"])
def test_an_unusable_key_file_is_one_line_naming_the_path(tmp_path: Path, problem: str) -> None:
    key_path = tmp_path / "keys" / "dkim.pem"
    if problem == "not a key":
        key_path.parent.mkdir()
        key_path.write_text(
            "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
        )
    elif problem == "a directory":
        key_path.mkdir(parents=True)
    config = digest_config(
        tmp_path, None, dkim={"selector": SELECTOR, "domain": DOMAIN, "key_path": str(key_path)}
    )
    with pytest.raises(ConfigError) as raised:
        load_dkim_key(config)
    text = str(raised.value)
    assert "\n" not in text
    assert text.startswith("config.toml: digests.dkim.key_path: ")
    assert str(key_path) in text


def test_a_key_with_crlf_line_ends_signs(
    tmp_path: Path, store_url: str, key_pair: tuple[Path, bytes]
) -> None:
    key_path, record = key_pair
    crlf = tmp_path / "dkim-crlf.pem"
    crlf.write_bytes(key_path.read_bytes().replace(b"\n", b"\r\n"))
    assert dkim.verify(signed_digest(tmp_path, store_url, crlf), dnsfunc=txt_lookup(record))


def test_the_cli_reports_a_missing_key_in_one_line_and_exits_2(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        None,
        f'\n[digests.dkim]\nselector = "{SELECTOR}"\n'
        f'domain = "{DOMAIN}"\nkey_path = "missing.pem"\n',
    )
    result = subprocess.run(
        [sys.executable, "-m", "cmsfeed", "--config", str(config), "digest", "send"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "CMSFEED_SECRET": "s"},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"error: config.toml: digests.dkim.key_path: cannot read {tmp_path / 'missing.pem'} "
        "(No such file or directory)"
    )
