"""Turning a rendered email into an RFC 5322 message. Pure: `now` is a parameter.

multipart/alternative with text/plain first and text/html last; non-ASCII headers encoded by
Python's email package under `policy.SMTP` (RFC 2047 for subjects and display names), CRLF
line ends. Every header value passes through `header_text` first, so no CR or LF from an
item's title can start a header of its own. Digests carry List-Id, List-Unsubscribe and
List-Unsubscribe-Post (RFC 2369, RFC 8058), and optionally a DKIM signature over them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache

from cmsfeed.digest.render import RenderedEmail, header_text
from cmsfeed.subscribers import ascii_email

# Long lines rather than folding: a folded List-Unsubscribe URL would be RFC 2047-encoded.
SMTP_POLICY = policy.SMTP.clone(max_line_length=998)
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)
# Each named twice, once more than it occurs ("oversigning", RFC 6376 section 8.15): a second
# List-Unsubscribe (or From) added in transit, where a client reads first, breaks the signature.
_SIGNED_HEADERS = [*DKIM_HEADERS, *DKIM_HEADERS]


@dataclass(frozen=True, slots=True)
class Sender:
    address: str
    name: str


@dataclass(frozen=True, slots=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes


def check_dkim_key(pem: bytes) -> bytes:
    """`pem` with LF line ends, once dkimpy can sign with it; else ValueError (one line)."""
    import dkim  # imported only when signing: dkimpy pulls in DNS support

    pem = pem.replace(b"\r\n", b"\n")  # dkimpy finds the PEM body by LF line ends only
    try:
        dkim.crypto.parse_pem_private_key(pem)
    except dkim.crypto.UnparsableKeyError as err:
        raise ValueError("not an RSA private key in PEM form (PKCS#1 or PKCS#8)") from err
    return pem


def build_message(
    rendered: RenderedEmail,
    *,
    sender: Sender,
    to: str,
    message_id: str,
    now: datetime,
    list_id: str | None = None,
    unsubscribe_url: str | None = None,
) -> bytes:
    """The message as bytes, ready for SMTP.

    The headers that may be non-ASCII (From, Subject, List-Id) are encoded by the email
    package once per distinct value and cached; the per-recipient headers are ASCII by
    construction (IDNA addresses, URLs, dates). Bodies are UTF-8 in base64, which keeps every
    line short whatever the links substituted into them.
    """
    head = _encoded_headers(
        header_text(sender.name),
        sender.address,
        header_text(rendered.subject),
        header_text(list_id or ""),
    )
    boundary = "=_cmsfeed_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]
    lines = [
        f"To: {_ascii_header(ascii_email(to))}",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {_ascii_header(message_id)}",
    ]
    if unsubscribe_url:
        lines += [
            f"List-Unsubscribe: <{_ascii_header(unsubscribe_url)}>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ]
    lines += [
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
    ]
    parts = []
    for subtype, body in (("plain", rendered.text), ("html", rendered.html)):
        encoded = base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")
        parts.append(
            f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + encoded
        )
    return (
        head
        + "\r\n".join(lines).encode("ascii")
        + b"\r\n"
        + b"".join(parts)
        + f"--{boundary}--\r\n".encode()
    )


def _ascii_header(value: str) -> str:
    cleaned = header_text(value)
    if not cleaned.isascii():
        raise ValueError(f"header value must be ASCII: {cleaned!r}")
    return cleaned


@lru_cache(maxsize=1024)
def _encoded_headers(name: str, address: str, subject: str, list_id: str) -> bytes:
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = _address(name, address)
    message["Subject"] = subject
    if list_id:
        message["List-Id"] = list_id
    return message.as_bytes(policy=SMTP_POLICY).split(b"\r\n\r\n", 1)[0] + b"\r\n"


def _address(name: str, address: str) -> Address:
    local, _, domain = ascii_email(address).rpartition("@")
    return Address(display_name=header_text(name), username=local, domain=domain)


def message_bytes(raw: bytes, dkim_key: DkimKey | None = None) -> bytes:
    """`raw`, with a DKIM signature in front when a key is given."""
    if dkim_key is None:
        return raw
    import dkim  # imported only when signing: dkimpy pulls in DNS support

    signature = dkim.sign(
        raw,
        dkim_key.selector.encode(),
        dkim_key.domain.encode(),
        dkim_key.private_key,
        include_headers=_SIGNED_HEADERS,
    )
    return bytes(signature) + raw
