"""Digest rounds: queue what is due, then send the outbox. Does I/O through what it is given.

`queue_round` streams subscribers from the store in chunks, asks the pure `digest.select` what
each due subscriber gets, and queues it (outbox row + cursor, one transaction). `send_outbox`
claims queued rows with a lease, renders each digest (once per language and set of items,
personalised cheaply), sends it through the transport with its deterministic Message-ID and
records the reply. `Mailer` holds the pieces; tests build one around a real SMTP server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from cmsfeed import metrics
from cmsfeed.config import Config, SubscriberConfig
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
from cmsfeed.errors import ConfigError, DeliveryError, SubscriberError
from cmsfeed.mail import MaildirTransport, SmtpTransport, Transport
from cmsfeed.mail.smtp import SmtpSettings
from cmsfeed.model import Clock, Item
from cmsfeed.private_files import private_file
from cmsfeed.store.digests import DigestStore, OutboxRow, new_lease_owner
from cmsfeed.subscribers import (
    Subscriber,
    check_timezone,
    due_slot,
    normalize_email,
    parse_send_time,
    parse_weekday,
)

log = logging.getLogger(__name__)
# Items are shared by many digests of a round; the cache is bounded, not per round.
ITEM_CACHE_SIZE = 10_000
_MAX_BACKOFF = timedelta(hours=6)


@dataclass
class RoundReport:
    due: int = 0
    queued: int = 0
    empty: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suspended: int = 0
    cancelled: int = 0

    def summary(self) -> str:
        return (
            f"{self.due} due, {self.queued} queued, {self.empty} with nothing new; "
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed, "
            f"{self.suspended} suspended"
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


async def send_outbox(
    mailer: Mailer,
    report: RoundReport | None = None,
    *,
    stop: asyncio.Event | None = None,
    batch_size: int = 200,
) -> RoundReport:
    """Send every queued row that is due; return when none is left (or `stop` is set).

    Rows claimed by this call are finished before it returns, so a stop lets in-flight sends
    end. Rows waiting for a retry later than now are left for a later round.
    """
    report = report or RoundReport()
    settings = mailer.config.digests
    lease = timedelta(seconds=settings.lease_seconds)
    items: dict[str, Item] = {}
    while stop is None or not stop.is_set():
        owner = new_lease_owner()
        rows = mailer.digests.claim(owner, mailer.clock(), batch_size, lease)
        if not rows:
            break
        if len(items) > ITEM_CACHE_SIZE:  # cleared before, not after, working out what is missing
            items.clear()
        missing = sorted({i for row in rows for i in row.item_ids} - items.keys())
        items.update(mailer.digests.get_items(missing))
        await asyncio.gather(*(_send_row(mailer, row, items, report) for row in rows))
    return report


async def _send_row(
    mailer: Mailer, row: OutboxRow, items: Mapping[str, Item], report: RoundReport
) -> None:
    settings = mailer.config.digests
    subscriber = row.subscriber
    digests = mailer.digests
    if subscriber.status != "active":
        digests.mark_failed(
            row,
            f"not sent: subscriber is {subscriber.status}",
            mailer.clock(),
            hard=False,
            max_hard_failures=settings.max_hard_failures,
            status="cancelled",
        )
        report.cancelled += 1
        return
    chosen = [items[item_id] for item_id in row.item_ids if item_id in items]
    _, raw = mailer.digest_message(
        subscriber, chosen, row.message_id, row.created_at, mailer.clock()
    )
    started = time.perf_counter()
    try:
        reply = await mailer.transport.send(mailer.sender.address, subscriber.email, raw)
    except DeliveryError as err:
        _observe_send(mailer, started)
        now = mailer.clock()
        if err.permanent or row.attempts >= settings.max_attempts:
            suspended = digests.mark_failed(
                row, str(err), now, hard=err.permanent, max_hard_failures=settings.max_hard_failures
            )
            report.failed += 1
            report.suspended += int(suspended)
            metrics.DIGESTS_FAILED.inc()
        else:
            delay = timedelta(seconds=settings.retry_seconds * 2 ** (row.attempts - 1))
            digests.mark_retry(row, str(err), now + min(delay, _MAX_BACKOFF))
            report.retried += 1
            metrics.DIGESTS_RETRIED.inc()
        log.warning("digest %s to %s: %s", row.period, subscriber.email, err)
        return
    _observe_send(mailer, started)
    digests.mark_sent(row, reply, mailer.clock())
    report.sent += 1
    metrics.DIGESTS_SENT.inc()


def _observe_send(mailer: Mailer, started: float) -> None:
    kind = "smtp" if isinstance(mailer.transport, SmtpTransport) else "maildir"
    metrics.MAIL_SEND_SECONDS.labels(kind).observe(time.perf_counter() - started)


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


def subscriber_from_settings(
    settings: SubscriberConfig | Mapping[str, Any], origin: str
) -> Subscriber:
    """A subscriber from a [[subscribers]] table (or an imported record), validated."""
    if not isinstance(settings, SubscriberConfig):
        try:
            settings = SubscriberConfig.model_validate(dict(settings))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "record"
            raise SubscriberError(
                str(dict(settings).get("email", "record")), f"{where}: {first['msg']}"
            ) from err
    return Subscriber(
        email=normalize_email(settings.email),
        language=settings.language,
        topics=tuple(settings.topics),
        frequency=settings.frequency,
        weekday=parse_weekday(settings.weekday),
        send_time=parse_send_time(settings.time),
        timezone=check_timezone(settings.timezone),
        status="active",
        origin=origin,
    )


def import_configured(config: Config, digests: DigestStore, now: datetime) -> int:
    """Save the subscribers declared in config.toml; the file wins over the store for their
    preferences, but not over a subscriber's own unsubscribe or a suspension for bounces."""
    for settings in config.subscribers:
        subscriber = subscriber_from_settings(settings, "config")
        existing = digests.get_subscriber(subscriber.email)
        if existing is not None and existing.status in ("unsubscribed", "suspended"):
            subscriber = replace(subscriber, status=existing.status)
        digests.save_subscriber(subscriber, now)
    return len(config.subscribers)
