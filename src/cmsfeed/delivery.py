"""Digest rounds: queue what is due, then send the outbox. Does I/O through what it is given.

`queue_round` streams subscribers from the store in chunks, asks the pure `digest.select` what
each due subscriber gets, and queues it (outbox row + cursor, one transaction). `send_outbox`
(cmsfeed.sending) claims queued rows in small leased batches, renders each digest (once per
language and set of items, personalised cheaply), sends it through the transport with its
deterministic Message-ID and records the reply, or whose fault the failure was. `Mailer`
holds the pieces; tests build one around a real SMTP server.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from cmsfeed import metrics
from cmsfeed.bounces.verp import verp_address
from cmsfeed.config import Config
from cmsfeed.digest.links import preferences_link, unsubscribe_link, view_link
from cmsfeed.digest.message import (
    DkimKey,
    Sender,
    build_message,
    check_dkim_key,
    message_bytes,
)
from cmsfeed.digest.render import EmailRenderer, Personal, RenderedEmail, personalise
from cmsfeed.digest.select import plan_round, window_start
from cmsfeed.errors import ConfigError
from cmsfeed.mail import MaildirTransport, SmtpTransport, Transport
from cmsfeed.mail.smtp import SmtpSettings
from cmsfeed.model import Clock, Item
from cmsfeed.private_files import private_file
from cmsfeed.sending import RoundReport, send_outbox
from cmsfeed.store.digests import DigestStore, OutboxRow
from cmsfeed.subscribers import (
    Subscriber,
    due_slot,
)


@dataclass
class Mailer:
    config: Config
    digests: DigestStore
    transport: Transport
    clock: Clock
    secret: bytes
    renderer: EmailRenderer = field(init=False)
    dkim_key: DkimKey | None = None

    def __post_init__(self) -> None:
        self.renderer = EmailRenderer(
            self.config.site_info(), confirm_days=self.config.digests.confirm_days
        )

    @property
    def sender(self) -> Sender:
        return Sender(self.config.smtp.from_address, self.config.smtp.from_name)

    @property
    def domain(self) -> str:
        return self.config.smtp.from_address.rpartition("@")[2] or "localhost"

    @property
    def list_id(self) -> str:
        name = self.config.digests.list_id or urlsplit(self.renderer.site.base_url).hostname
        title = self.config.site.titles()[self.config.site.default_language]
        return f"{title} <digests.{name or 'localhost'}>"

    def envelope_sender(self, row: OutboxRow) -> str:
        """MAIL FROM of a digest: with bounces.verp, an address naming its row (bounces/verp.py)."""
        bounces = self.config.bounces
        if not bounces.verp:
            return self.sender.address
        return verp_address(self.secret, row.id, bounces.bounce_address(self.sender.address))

    def personal(self, subscriber: Subscriber) -> Personal:
        base = self.renderer.site.base_url
        return Personal(
            unsubscribe_link(base, self.secret, subscriber.id),
            preferences_link(base, self.secret, subscriber.id),
            self.renderer.why(subscriber),
        )

    def compose(
        self,
        rendered: RenderedEmail,
        to: str,
        message_id: str,
        now: datetime,
        unsubscribe_url: str | None = None,
    ) -> bytes:
        raw = build_message(
            rendered,
            sender=self.sender,
            to=to,
            message_id=message_id,
            now=now,
            list_id=self.list_id if unsubscribe_url else None,
            unsubscribe_url=unsubscribe_url,
        )
        return message_bytes(raw, self.dkim_key)

    def digest_message(
        self,
        subscriber: Subscriber,
        items: list[Item],
        message_id: str,
        covered_at: datetime,
        now: datetime,
    ) -> tuple[RenderedEmail, bytes]:
        personal = replace(
            self.personal(subscriber),
            view_url=view_link(
                self.renderer.site.base_url, self.secret, subscriber, items, covered_at
            ),
        )
        rendered = personalise(self.renderer.digest(subscriber, items, covered_at), personal)
        return rendered, self.compose(
            rendered, subscriber.email, message_id, now, personal.unsubscribe_url
        )


def queue_round(mailer: Mailer, now: datetime, report: RoundReport | None = None) -> RoundReport:
    """Queue a digest for every subscriber due at `now`; one transaction per chunk."""
    report = report or RoundReport()
    digests = mailer.digests
    for chunk in digests.iter_subscribers(statuses=["active"]):
        due = [sub for sub in chunk if due_slot(sub, now) is not None]
        if not due:
            continue
        lower = min(window_start(sub, now) for sub in due)
        candidates = digests.available_items(lower, now, {sub.language for sub in due})
        covered = digests.covered_items([sub.id for sub in due], lower)
        decisions = plan_round(
            due,
            candidates,
            covered,
            now,
            send_when_empty=mailer.config.digests.send_when_empty,
            domain=mailer.domain,
        )
        report.due += len(decisions)
        report.empty += sum(1 for d in decisions if d.message_id is None)
        queued = digests.queue_digests(decisions, now)
        report.queued += queued
        metrics.DIGESTS_QUEUED.inc(queued)
    return report


async def run_round(
    mailer: Mailer, now: datetime | None = None, *, stop: asyncio.Event | None = None
) -> RoundReport:
    """One round: queue what is due at `now` (default: the clock), then send the outbox."""
    report = queue_round(mailer, now or mailer.clock())
    return await send_outbox(mailer, report, stop=stop)


# -- wiring helpers ---------------------------------------------------------------------------


def site_secret(config: Config, environ: Mapping[str, str]) -> bytes:
    """The key that signs links: from the environment, else a file made on first use."""
    value = environ.get(config.digests.secret_env)
    if value:
        return value.encode()
    path = Path(config.digests.secret_path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
    private_file(path)  # 0600 whatever the umask, and narrowed if an older version made it wider
    return path.read_text().strip().encode()


def make_transport(config: Config, environ: Mapping[str, str]) -> Transport:
    """SMTP when smtp.host is set, else the local Maildir folder."""
    smtp = config.smtp
    if smtp.host is None:
        return MaildirTransport(Path(config.digests.maildir))
    password = smtp.password(environ)
    if smtp.username and smtp.password_env and password is None:
        raise ConfigError(
            [
                f"environment {smtp.password_env}: not set, but smtp.username is; "
                "put the SMTP password in it"
            ]
        )
    return SmtpTransport(
        SmtpSettings(
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=password,
            local_hostname=config.digests.local_hostname,
        ),
        concurrency=config.digests.concurrency,
        rate_per_second=config.digests.rate_per_second,
    )


def load_dkim_key(config: Config) -> DkimKey | None:
    dkim = config.digests.dkim
    if dkim is None:
        return None
    where = "config.toml: digests.dkim.key_path"
    try:
        key = check_dkim_key(Path(dkim.key_path).read_bytes())
    except OSError as err:
        raise ConfigError([f"{where}: cannot read {dkim.key_path} ({err.strerror})"]) from err
    except ValueError as err:  # checked now, not at the first send of a round
        raise ConfigError([f"{where}: {dkim.key_path}: {err}"]) from err
    return DkimKey(dkim.selector, dkim.domain, key)


def make_mailer(
    config: Config,
    digests: DigestStore,
    clock: Clock,
    environ: Mapping[str, str],
    transport: Transport | None = None,
) -> Mailer:
    return Mailer(
        config=config,
        digests=digests,
        transport=transport or make_transport(config, environ),
        clock=clock,
        secret=site_secret(config, environ),
        dkim_key=load_dkim_key(config),
    )


__all__ = ["Mailer", "RoundReport", "queue_round", "run_round", "send_outbox"]
