"""A real SMTP server (aiosmtpd on 127.0.0.1) that misbehaves on demand, stage by stage:
no service at the greeting, wrong password at AUTH, a refused sender at MAIL FROM, refused
recipients at RCPT, every message refused at DATA, or no server at all on its port; each
fault is switched off again by setting the attribute back to None (or calling `up`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from support.ports import free_port
from support.smtp_server import Handler

USER, PASSWORD = "cmsfeed", "right password"


@dataclass
class FaultyHandler(Handler):
    greeting_reply: str | None = None
    mail_reply: str | None = None
    data_reply_all: str | None = None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply_all:
            return self.data_reply_all
        return await super().handle_DATA(server, session, envelope)

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        good = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
        good = good and auth_data.password == PASSWORD.encode()
        return AuthResult(success=good, handled=False)


class FaultySmtp(SMTP):
    async def _handle_client(self) -> None:
        reply = self.event_handler.greeting_reply
        if reply:  # refuse service at the greeting, then hang up
            await self.push(reply)
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()


class FaultyController(Controller):
    def factory(self) -> SMTP:
        return FaultySmtp(self.handler, **self.SMTP_kwargs)


class FaultyServer:
    """Offers AUTH (USER, PASSWORD) without TLS; a wrong password is refused with 535."""

    def __init__(self) -> None:
        self.handler = FaultyHandler()
        self.port = free_port()
        self.controller: FaultyController | None = None

    def up(self) -> None:
        self.controller = FaultyController(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.handler.authenticate,
            auth_require_tls=False,
        )
        self.controller.start()

    def down(self) -> None:
        """Nothing listens on the port: connections are refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> FaultyServer:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()
