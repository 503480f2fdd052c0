"""Delivery over SMTP with aiosmtplib. Does I/O (network).

A pool of at most `concurrency` connections, each reused for message after message and
reopened after any error (so a connection in an unknown state is never reused). A rate limit
spaces messages `1 / rate_per_second` apart across the pool. One recipient per message, so a
refusal is about that recipient: 4xx replies and network failures raise a temporary
`DeliveryError`, 5xx replies a permanent one. The password comes from the environment.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiosmtplib

from cmsfeed.errors import DeliveryError
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
        self.limiter = RateLimiter(rate_per_second)
        self._idle: asyncio.Queue[aiosmtplib.SMTP | None] = asyncio.Queue()
        for _ in range(concurrency):
            self._idle.put_nowait(None)  # a free slot, connected on first use
        self._all: set[aiosmtplib.SMTP] = set()
        self.connections_opened = 0

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            local_hostname=s.local_hostname,
            timeout=s.timeout,
            tls_context=s.tls_context,
            username=s.username,
            password=s.password if s.username else None,
        )
        await client.connect()
        self.connections_opened += 1
        self._all.add(client)
        return client

    async def send(self, sender: str, recipient: str, message: bytes) -> str:
        await self.limiter.acquire()
        client = await self._idle.get()
        try:
            if client is None or not client.is_connected:
                client = await self._connect()
            errors, reply = await client.sendmail(
                ascii_email(sender), [ascii_email(recipient)], message
            )
            if errors:  # one recipient: only reached if aiosmtplib reports a partial refusal
                code, text = next(iter(errors.values()))
                raise _refused(recipient, code, text)
            if not self.keep_open:
                await client.quit()
                self._all.discard(client)
                client = None
            return reply
        except aiosmtplib.SMTPRecipientsRefused as err:
            await self._discard(client)
            client = None
            first = err.recipients[0]
            raise _refused(recipient, first.code, first.message) from err
        except aiosmtplib.SMTPResponseException as err:
            await self._discard(client)
            client = None
            raise _refused(recipient, err.code, err.message) from err
        except UnicodeError as err:  # an address no ASCII envelope can carry
            await self._discard(client)
            client = None
            raise DeliveryError(
                recipient, f"cannot be sent without SMTPUTF8: {err}", permanent=True
            ) from err
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            await self._discard(client)
            client = None
            raise DeliveryError(
                f"{self.settings.host}:{self.settings.port}",
                f"{type(err).__name__}: {err}",
                permanent=False,
            ) from err
        finally:
            self._idle.put_nowait(client)

    async def _discard(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            self._all.discard(client)
            client.close()
        return None

    async def close(self) -> None:
        for client in list(self._all):
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
        self._all.clear()


def _refused(recipient: str, code: int, text: str) -> DeliveryError:
    return DeliveryError(
        recipient, f"{code} {text}".strip(), permanent=500 <= code < 600, code=code
    )
