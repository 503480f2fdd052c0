"""Turning a rendered email into an RFC 5322 message. Pure: `now` is a parameter.

multipart/alternative with text/plain first and text/html last; headers encoded by Python's
email package under `policy.SMTP` (RFC 2047 for non-ASCII subjects and display names, CRLF
line ends). Every header value passes through `header_text` first, so no CR or LF from an
item's title can start a header of its own. Digests carry List-Id, List-Unsubscribe and
List-Unsubscribe-Post (RFC 2369, RFC 8058), and optionally a DKIM signature over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from cmsfeed.digest.render import RenderedEmail, header_text
from cmsfeed.subscribers import ascii_email

# Long lines rather than folding: a folded List-Unsubscribe URL would be RFC 2047-encoded.
SMTP_POLICY = policy.SMTP.clone(max_line_length=998)
DKIM_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"list-id",
                b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version", b"content-type")


@dataclass(frozen=True, slots=True)
class Sender:
    address: str
    name: str


@dataclass(frozen=True, slots=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes


def build_message(rendered: RenderedEmail, *, sender: Sender, to: str, message_id: str,
                  now: datetime, list_id: str | None = None,
                  unsubscribe_url: str | None = None) -> EmailMessage:
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = _address(sender.name, sender.address)
    message["To"] = _address("", to)
    message["Subject"] = header_text(rendered.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = header_text(message_id)
    if list_id:
        message["List-Id"] = header_text(list_id)
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{header_text(unsubscribe_url)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message


def _address(name: str, address: str) -> Address:
    local, _, domain = ascii_email(address).rpartition("@")
    return Address(display_name=header_text(name), username=local, domain=domain)


def message_bytes(message: EmailMessage, dkim_key: DkimKey | None = None) -> bytes:
    raw = message.as_bytes(policy=SMTP_POLICY)
    if dkim_key is None:
        return raw
    import dkim  # imported only when signing: dkimpy pulls in DNS support

    signature = dkim.sign(raw, dkim_key.selector.encode(), dkim_key.domain.encode(),
                          dkim_key.private_key, include_headers=list(DKIM_HEADERS))
    return bytes(signature) + raw
