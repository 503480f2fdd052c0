"""The composition root: the one place that turns config.toml into working parts. Does I/O.

`run`, `serve`, `digest`, `bounces` and the other commands build what they use here: the store,
the transport (SMTP, or the local Maildir without `smtp.host`), the secret that signs links
(from the environment, else a 0600 file made on first use), the DKIM key, the email renderer,
the `DigestComposer` and the `Delivery` that digest rounds run with. Everything below this
module takes plain values and the parts built here; nothing else reads config to wire.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from cmsfeed.config import Config
from cmsfeed.delivery import Delivery, DeliverySettings
from cmsfeed.digest.compose import DigestComposer
from cmsfeed.digest.message import DkimKey, Sender, check_dkim_key
from cmsfeed.digest.render import EmailRenderer
from cmsfeed.errors import ConfigError
from cmsfeed.ingest.run import Ingester
from cmsfeed.jobs import publish_feeds
from cmsfeed.mail import MaildirTransport, SmtpTransport, Transport
from cmsfeed.mail.smtp import SmtpSettings
from cmsfeed.model import Clock
from cmsfeed.private_files import private_file
from cmsfeed.store import Store


def open_store(config: Config) -> Store:
    """The store `[store] url` names, upgraded to the current schema."""
    return Store.open(config.store.url)


def build_ingester(config: Config, store: Store, clock: Clock) -> Ingester:
    """The ingester of every configured source; its language models load once, on first use."""
    return Ingester(config, store, clock)


def feed_publisher(config: Config, store: Store, clock: Clock) -> Callable[[], None]:
    """What an ingest that changed the store does next, outside a web server: render and record
    the feeds at site.base_url (nothing without one: `run` and `serve` render on their own)."""
    site = config.site_info() if config.site.base_url is not None else None
    return partial(publish_feeds, site, store, clock)


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


def build_transport(config: Config, environ: Mapping[str, str]) -> Transport:
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
    """The DKIM key of `[digests.dkim]`, checked now rather than at the first send."""
    dkim = config.digests.dkim
    if dkim is None:
        return None
    where = "config.toml: digests.dkim.key_path"
    try:
        key = check_dkim_key(Path(dkim.key_path).read_bytes())
    except OSError as err:
        raise ConfigError([f"{where}: cannot read {dkim.key_path} ({err.strerror})"]) from err
    except ValueError as err:
        raise ConfigError([f"{where}: {dkim.key_path}: {err}"]) from err
    return DkimKey(dkim.selector, dkim.domain, key)


def build_renderer(config: Config) -> EmailRenderer:
    return EmailRenderer(config.site_info(), confirm_days=config.digests.confirm_days)


def build_composer(config: Config, secret: bytes) -> DigestComposer:
    """The composer of every message, with the site's address as `config` has it (for `run`
    without site.base_url: the address served, see Config.served_at)."""
    renderer = build_renderer(config)
    sender = Sender(config.smtp.from_address, config.smtp.from_name)
    host = config.digests.list_id or urlsplit(renderer.site.base_url).hostname
    title = config.site.titles()[config.site.default_language]
    bounces = config.bounces
    return DigestComposer(
        renderer=renderer,
        secret=secret,
        sender=sender,
        list_id=f"{title} <digests.{host or 'localhost'}>",
        dkim_key=load_dkim_key(config),
        bounce_address=bounces.bounce_address(sender.address) if bounces.verp else None,
    )


def delivery_settings(config: Config) -> DeliverySettings:
    digests = config.digests
    return DeliverySettings(
        send_when_empty=digests.send_when_empty,
        concurrency=digests.concurrency,
        lease_seconds=digests.lease_seconds,
        retry_seconds=digests.retry_seconds,
        max_attempts=digests.max_attempts,
        max_hard_failures=digests.max_hard_failures,
    )


def build_delivery(
    config: Config,
    digests: Store,
    clock: Clock,
    environ: Mapping[str, str],
    transport: Transport | None = None,
) -> Delivery:
    """What digest rounds run with; `transport` replaces the configured one (tests, mostly)."""
    return Delivery(
        digests=digests,
        transport=transport or build_transport(config, environ),
        clock=clock,
        composer=build_composer(config, site_secret(config, environ)),
        settings=delivery_settings(config),
    )


__all__ = [
    "build_composer",
    "build_delivery",
    "build_ingester",
    "build_renderer",
    "build_transport",
    "delivery_settings",
    "feed_publisher",
    "load_dkim_key",
    "open_store",
    "site_secret",
]
