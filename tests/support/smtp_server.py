"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 in a thread, recording what
arrives, refusing or dropping on purpose when told (see Handler); the conftest `smtp_server`
fixture runs one per test. support.smtp_faults builds the server that misbehaves stage by stage."""

from __future__ import annotations

import asyncio
import email
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from support.ports import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Records what arrives; `rcpt_replies` and `data_replies` make it refuse on purpose."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: dict[str, str] = field(default_factory=dict)
    drop_data_for: set[str] = field(default_factory=set)
    delay: float = 0.0  # a slow server, so that a test can kill a sender mid-round
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0]
        if self.delay:
            await asyncio.sleep(self.delay)
        if recipient in self.drop_data_for:
            self.drop_data_for.discard(recipient)
            server.transport.close()
            return "421 closing"
        reply = self.data_replies.get(recipient)
        if reply:
            return reply
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    bytes(envelope.original_content or envelope.content),
                )
            )
        return "250 2.0.0 OK queued as test"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


class SmtpServer:
    def __init__(self) -> None:
        self.handler = Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)
