"""Delivery over SMTP with aiosmtplib. Does I/O (network).

A pool of at most `concurrency` connections, each reused for message after message and
reopened after any error but a refusal of one recipient (so a connection in an unknown state
is never reused). A rate limit spaces messages `1 / rate_per_second` apart across the pool.

A session is opened and a message sent one SMTP step at a time (connect, EHLO, STARTTLS, AUTH,
MAIL FROM, RCPT TO, DATA), so that every failure is classified by its stage and reply
(`cmsfeed.smtp_outcome`) and raised as a `DeliveryError` carrying that outcome: a wrong
password is the session's fault, not the reader's. One recipient per message. The password
comes from the environment.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiosmtplib

from cmsfeed.errors import DeliveryError
from cmsfeed.smtp_outcome import Outcome, Stage, Verdict, classify_reply
from cmsfeed.subscribers import ascii_email


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls, tls or none
    username: str | None = None
    password: str | None = None
    local_hostname: str | None = None
    timeout: float = 30.0
    tls_context: ssl.SSLContext | None = None


class RateLimiter:
    """At most `rate` acquisitions per second, spaced evenly; `monotonic` is injectable."""

    def __init__(self, rate: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.monotonic = monotonic
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)  # pacing the server, not waiting for the schedule


class SmtpTransport:
    def __init__(
        self,
        settings: SmtpSettings,
        *,
        concurrency: int = 8,
        rate_per_second: float = 50.0,
        keep_open: bool = True,
    ) -> None:
        """`keep_open=False` closes each connection after its message (for a caller that
        sends rarely, or whose event loop may end before `close` is awaited)."""
        self.settings = settings
        self.keep_open = keep_open
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._loop: asyncio.AbstractEventLoop | None = None
        self._all: set[aiosmtplib.SMTP] = set()
        self.connections_opened = 0
        self._bind()

    def _bind(self) -> None:
        """A fresh pool and rate limit for the running event loop: asyncio queues, locks and
        connections belong to one loop, and a CLI command runs one loop per round."""
        self.limiter = RateLimiter(self.rate_per_second)
        self._idle: asyncio.Queue[aiosmtplib.SMTP | None] = asyncio.Queue()
        for _ in range(self.concurrency):
            self._idle.put_nowait(None)  # a free slot, connected on first use
        self._all.clear()

    @property
    def server(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    async def _connect(self, step: list[Stage]) -> aiosmtplib.SMTP:
        """Open a session one step at a time, so a failure names its stage."""
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.security == "tls",
            start_tls=False,
            local_hostname=s.local_hostname,
            timeout=s.timeout,
            tls_context=s.tls_context,
        )
        step[0] = "connect"
        await client.connect()
        try:
            step[0] = "ehlo"
            await client.ehlo()
            if s.security == "starttls":
                step[0] = "tls"
                await client.starttls()
            if s.username:
                step[0] = "auth"
                await client.login(s.username, s.password or "")
        except BaseException:
            client.close()  # a session that failed half-way is never reused
            raise
        self.connections_opened += 1
        self._all.add(client)
        return client

    async def send(self, sender: str, recipient: str, message: bytes) -> str:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._bind()
        await self.limiter.acquire()
        client = await self._idle.get()
        step: list[Stage] = ["connect"]
        try:
            if client is None or not client.is_connected:
                client = None
                client = await self._connect(step)
            step[0] = "encode"
            envelope_from, envelope_to = ascii_email(sender), ascii_email(recipient)
            options = [f"SIZE={len(message)}"] if client.supports_extension("size") else []
            step[0] = "mail"
            await client.mail(envelope_from, options=options)
            step[0] = "rcpt"
            await client.rcpt(envelope_to)
            step[0] = "data"
            reply = await client.data(message)
            if not self.keep_open:
                await client.quit()
                self._all.discard(client)
                client = None
            return f"{reply.code} {reply.message}"
        except UnicodeError as err:  # an address no ASCII envelope can carry
            outcome = classify_reply("encode", None, f"cannot be sent without SMTPUTF8: {err}")
            raise DeliveryError(recipient, outcome.message, outcome=outcome) from err
        except aiosmtplib.SMTPResponseException as err:
            if isinstance(err, aiosmtplib.SMTPConnectResponseError):
                step[0] = "greeting"
            outcome = classify_reply(step[0], err.code, err.message)
            client = await self._after_refusal(client, outcome)
            subject = recipient if outcome.stage in ("rcpt", "data") else self.server
            raise DeliveryError(subject, outcome.reply, outcome=outcome) from err
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            if isinstance(err, ssl.SSLError) or isinstance(err.__cause__, ssl.SSLError):
                step[0] = "tls"
            outcome = classify_reply(step[0], None, f"{type(err).__name__}: {err}".strip())
            await self._discard(client)
            client = None
            raise DeliveryError(self.server, outcome.reply, outcome=outcome) from err
        finally:
            self._idle.put_nowait(client)

    async def _after_refusal(
        self, client: aiosmtplib.SMTP | None, outcome: Outcome
    ) -> aiosmtplib.SMTP | None:
        """Keep a session that refused only this recipient (after RSET); drop any other, and
        every one when connections are not kept open (their event loop may end next)."""
        if (
            self.keep_open
            and client is not None
            and outcome.verdict is not Verdict.PAUSE
            and client.is_connected
        ):
            try:
                await client.rset()
                return client
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                pass
        await self._discard(client)
        return None

    async def _discard(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            self._all.discard(client)
            client.close()

    async def close(self) -> None:
        for client in list(self._all):
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
        self._all.clear()
