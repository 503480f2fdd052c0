"""Delivery into a local Maildir folder: the embedded default. Does I/O (disk).

Maildir writes each message to tmp/ and renames it into new/, so a crash never leaves half a
message behind. Any mail client (mutt -f DIR, Thunderbird with a Maildir account) reads it.
Each message holds a subscriber's address and links that act for them: folders are 0700 and
messages 0600 (see private_files).
"""

from __future__ import annotations

import mailbox
from pathlib import Path

from cmsfeed.errors import DeliveryError
from cmsfeed.private_files import private_file, private_folder
from cmsfeed.smtp_outcome import classify_reply


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = f"maildir {path}"
        self._mailbox: mailbox.Maildir | None = None

    def _open(self) -> mailbox.Maildir:
        if self._mailbox is None:
            private_folder(self.path)
            for folder in ("tmp", "new", "cur"):
                private_folder(self.path / folder)
            self._mailbox = mailbox.Maildir(str(self.path), create=True)
        return self._mailbox

    def deliver(self, recipient: str, message: bytes) -> str:
        try:
            key = self._open().add(message)
            # mailbox writes 0666 less the umask; inside 0700 folders nobody else can reach the
            # file before this narrows it.
            private_file(self.path / "new" / key)
        except OSError as err:  # a full or unwritable disk is nobody's address: pause
            outcome = classify_reply("local", None, f"cannot write to the Maildir: {err.strerror}")
            raise DeliveryError(str(self.path), outcome.message, outcome=outcome) from err
        return f"250 delivered to Maildir as {key}"

    async def send(self, sender: str, recipient: str, message: bytes) -> str:
        return self.deliver(recipient, message)  # a small local write: no thread needed

    async def close(self) -> None:
        self._mailbox = None
