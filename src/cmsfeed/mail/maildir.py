"""Delivery into a local Maildir folder: the embedded default. Does I/O (disk).

Maildir writes each message to tmp/ and renames it into new/, so a crash never leaves half a
message behind. Any mail client (mutt -f DIR, Thunderbird with a Maildir account) reads it.
"""

from __future__ import annotations

import mailbox
from pathlib import Path

from cmsfeed.errors import DeliveryError
from cmsfeed.smtp_outcome import classify_reply


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = f"maildir {path}"
        self._mailbox: mailbox.Maildir | None = None

    def _open(self) -> mailbox.Maildir:
        if self._mailbox is None:
            for folder in ("tmp", "new", "cur"):
                (self.path / folder).mkdir(parents=True, exist_ok=True)
            self._mailbox = mailbox.Maildir(str(self.path), create=True)
        return self._mailbox

    def deliver(self, recipient: str, message: bytes) -> str:
        try:
            key = self._open().add(message)
        except OSError as err:  # a full or unwritable disk is nobody's address: pause
            outcome = classify_reply("local", None, f"cannot write to the Maildir: {err.strerror}")
            raise DeliveryError(str(self.path), outcome.message, outcome=outcome) from err
        return f"250 delivered to Maildir as {key}"

    async def send(self, sender: str, recipient: str, message: bytes) -> str:
        return self.deliver(recipient, message)  # a small local write: no thread needed

    async def close(self) -> None:
        self._mailbox = None
