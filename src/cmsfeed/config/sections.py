"""The tables of config.toml, one model each, with their defaults. No I/O.

Values the pure core needs leave here as plain model values (`TopicConfig.definition`,
`Config.site_info` in config.settings); the core never imports this package.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cmsfeed.config.fields import (
    AbsoluteUrl,
    BounceAddress,
    LanguageCode,
    NetworkList,
    PerLanguageText,
    Section,
    Slug,
    StringList,
    TimeOfDay,
    TimeZoneName,
)
from cmsfeed.model import Frequency, TopicDefinition, Weekday


class SiteConfig(Section):
    title: PerLanguageText = "cmsfeed"
    description: PerLanguageText = "News about migratory species, by topic and language."
    # The public address, when it is fixed (behind a proxy, on a CDN). Unset: pages, feeds and
    # emails of `cmsfeed run` and `serve` follow the address they are served at; `build` and the
    # digest commands, which serve nothing, then ask for it.
    base_url: AbsoluteUrl | None = None
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"], min_length=1)
    author_name: str = "cmsfeed"
    author_email: str | None = None
    # A folder of your own gettext catalogs (<language>/LC_MESSAGES/cmsfeed.mo), searched before
    # the bundled ones: a language, or other words, without changing cmsfeed.
    locale_dir: str | None = None

    @field_validator("base_url")
    @classmethod
    def _ends_with_slash(cls, value: str | None) -> str | None:
        return value if value is None or value.endswith("/") else value + "/"

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def titles(self) -> dict[str, str]:
        return _per_language(self.title, self.languages)

    def descriptions(self) -> dict[str, str]:
        return _per_language(self.description, self.languages)


def _per_language(text: PerLanguageText, languages: list[str]) -> dict[str, str]:
    """Every language's text; a language a table leaves out is refused at load time."""
    if isinstance(text, str):
        return {language: text for language in languages}
    return {language: text[language] for language in languages if language in text}


# The databases cmsfeed is tested on; anything else is refused when the config is loaded, not
# at the first write.
STORE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


class StoreConfig(Section):
    url: str = "sqlite:///var/cmsfeed.db"

    @field_validator("url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme, separator, _ = value.partition("://")
        if not separator or scheme.lower() not in STORE_SCHEMES:
            # Only the scheme is named: the rest of the URL may hold a password.
            found = f"a {scheme!r} URL" if separator else "no URL"
            raise PydanticCustomError(
                "store_url",
                "expected sqlite:///PATH or postgresql://USER@HOST/DBNAME, got {found}",
                {"found": found},
            )
        return value


class IngestConfig(Section):
    interval_minutes: int = Field(60, ge=1)
    timeout_seconds: float = Field(20.0, gt=0)
    user_agent: str | None = None
    max_summary_bytes: int = Field(256 * 1024, ge=1024)
    # Stories prepared and written per transaction: on a first ingest of 100,000 stories,
    # 2,000 a batch ran some 7% faster than 500 (fewer commits, fewer calls to Lingua).
    batch_size: int = Field(2000, ge=1, le=10_000)
    # A story in a language outside site.languages: "keep" stores it under its own code (it
    # appears in the all-languages feeds only); "skip" reports it and stores nothing.
    other_languages: Literal["keep", "skip"] = "keep"
    # Processes that tag a large source (language models load once in each); default: the cores.
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)


class SelectorsConfig(Section):
    item: str
    title: str
    date: str
    link: str | None = None
    summary: str | None = None
    image: str | None = None
    date_attribute: str | None = None


SourceKind = Literal["listing", "html", "feed", "json"]


class SourceConfig(Section):
    id: Slug
    kind: SourceKind
    path: str | None = None
    url: AbsoluteUrl | None = None
    language: LanguageCode | None = None
    timezone: TimeZoneName = "UTC"
    date_format: str | None = None
    date_locale: LanguageCode | None = None
    selectors: SelectorsConfig | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _one_location(self) -> SourceConfig:
        if (self.path is None) == (self.url is None):
            raise PydanticCustomError("location", "expected exactly one of 'path' or 'url'")
        if self.kind == "html" and self.selectors is None:
            raise PydanticCustomError(
                "selectors", "an html source needs a [sources.selectors] table"
            )
        return self

    @property
    def location(self) -> str:
        return self.url or self.path or ""


class TopicConfig(Section):
    id: Slug
    name: dict[LanguageCode, str] = Field(min_length=1)
    terms: dict[LanguageCode, StringList] = Field(min_length=1)
    # Names that contain a term but are not about the topic ("Snow Leopard Trust" is, the
    # "Saiga 12" shotgun is not); a term inside one of them does not count where it occurs.
    exclude: dict[LanguageCode, StringList] = Field(default_factory=dict)

    def display_name(self, language: str) -> str:
        return self.name.get(language) or next(iter(self.name.values()))

    def definition(self) -> TopicDefinition:
        """The plain values the classifier needs (it imports no configuration)."""
        return TopicDefinition(self.id, self.terms, self.exclude)


class FeedsConfig(Section):
    entries: int = Field(50, ge=1, le=1000)
    ttl_minutes: int = Field(60, ge=1)
    # HTTP Cache-Control max-age for feeds and pages served by `cmsfeed serve`.
    max_age_seconds: int = Field(300, ge=0)
    # A WebSub hub to ping after a feed changed; feeds then carry rel="hub" links.
    hub_url: AbsoluteUrl | None = None
    # The authority of entry ids (tag:AUTHORITY,2024:item:ID); default: the host of site.base_url.
    # Set it once and never change it, or readers will show every story again.
    tag_authority: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.-]*$")
    # How often `cmsfeed serve` looks for changes in the store.
    refresh_seconds: float = Field(30.0, gt=0)


class SmtpConfig(Section):
    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    from_address: str = "cmsfeed@localhost"
    from_name: str = "cmsfeed"

    def password(self, environ: Mapping[str, str]) -> str | None:
        return environ.get(self.password_env) if self.password_env else None


class DkimConfig(Section):
    selector: str
    domain: str
    key_path: str


class DigestsConfig(Section):
    """Email digests: where they go without SMTP, how fast they are sent, how links are signed."""

    maildir: str = "var/maildir"  # used when smtp.host is not set
    send_when_empty: bool = False
    rate_per_second: float = Field(50.0, gt=0)
    concurrency: int = Field(8, ge=1, le=100)
    max_hard_failures: int = Field(3, ge=1)
    max_attempts: int = Field(8, ge=1)
    retry_seconds: float = Field(60.0, gt=0)  # first retry; doubles each time
    lease_seconds: int = Field(60, ge=10)  # renewed every third of it while sending
    secret_env: str = "CMSFEED_SECRET"
    secret_path: str = "var/secret.key"  # made on first use when secret_env is not set
    confirm_days: int = Field(7, ge=1)
    signups_per_hour: int = Field(5, ge=1)  # per client address
    confirmations_per_day: int = Field(3, ge=1)  # confirmation mails per target address
    local_hostname: str | None = None
    list_id: str | None = None  # default: the site's host
    dkim: DkimConfig | None = None


class BouncesConfig(Section):
    """Bounces and complaints: the mailbox they arrive in and what they do (docs/digests.md)."""

    maildir: str | None = None  # read by `cmsfeed run` every interval_minutes when set
    interval_minutes: int = Field(15, ge=1)
    # Each digest's envelope sender becomes `local+<signed token>@domain` of verp_address.
    verp: bool = False
    verp_address: BounceAddress | None = None  # default: see bounce_address
    soft_threshold: int = Field(3, ge=1)  # digests bouncing softly within the window: suspend
    soft_window_days: int = Field(14, ge=1)

    def bounce_address(self, from_address: str) -> str:
        """The bounce mailbox: `verp_address`, else bounces@ the domain of smtp.from_address."""
        return self.verp_address or f"bounces@{from_address.rpartition('@')[2] or 'localhost'}"


class WebConfig(Section):
    """What `cmsfeed run` and `serve` believe of the requests they get."""

    # Proxies (addresses or networks) whose Host and X-Forwarded-Proto/-Host/-Port headers
    # say the public address, when site.base_url is unset; from anyone else they are ignored.
    trusted_proxies: NetworkList = Field(default_factory=list)
    # Where `cmsfeed run` takes sign-ups, for the "Email digest" buttons of pages written by
    # `build` or served by `serve`; default: site.base_url's /subscribe, and with no base_url
    # the buttons are left out (never a link to a form that is not there).
    signup_url: AbsoluteUrl | None = None

    def is_trusted(self, address: str | None) -> bool:
        if not address or not self.trusted_proxies:
            return False
        try:
            found = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(found in ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)


class LogConfig(Section):
    """Logs of `cmsfeed run` and `serve`: one line per event, as text or JSON."""

    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class SubscriberConfig(Section):
    email: str
    language: LanguageCode = "en"
    topics: list[Slug] = Field(default_factory=list)  # empty: every topic
    frequency: Frequency = "daily"
    weekday: Weekday = "mon"
    time: TimeOfDay = "08:00"
    timezone: TimeZoneName = "UTC"
