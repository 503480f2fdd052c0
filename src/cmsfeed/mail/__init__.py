"""Transports: how a finished message leaves cmsfeed. Does I/O (network or disk).

A transport is passed in to whatever sends (the digest sender, the web app's confirmation
mails), so tests and the embedded default plug in another one:

- `SmtpTransport`: aiosmtplib, TLS or STARTTLS, AUTH, a pool of reused connections with
  bounded concurrency and a rate limit;
- `MaildirTransport`: a local Maildir folder any mail client can open, used when no SMTP
  server is configured.

`send` returns the server's reply on success and raises `DeliveryError`, whose `outcome` says
whose fault the failure was (`cmsfeed.smtp_outcome`).
"""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    @property
    def server(self) -> str:
        """Where messages go ("host:port", "maildir PATH"): what a stored pause is about."""

    async def send(self, sender: str, recipient: str, message: bytes) -> str:
        """Hand `message` to the server for `recipient`; its reply, or DeliveryError."""

    async def close(self) -> None:
        """Close what the transport holds open (connections); it may be used again after."""


from cmsfeed.mail.maildir import MaildirTransport  # noqa: E402
from cmsfeed.mail.smtp import SmtpTransport  # noqa: E402

__all__ = ["MaildirTransport", "SmtpTransport", "Transport"]
