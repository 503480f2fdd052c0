"""`Config`: the whole of config.toml as one validated value, and the plain `SiteInfo` that
feeds, pages and emails are given instead of it. No I/O.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cmsfeed.config.fields import Section
from cmsfeed.config.sections import (
    BouncesConfig,
    DigestsConfig,
    FeedsConfig,
    IngestConfig,
    LogConfig,
    SiteConfig,
    SmtpConfig,
    SourceConfig,
    StoreConfig,
    SubscriberConfig,
    TopicConfig,
    WebConfig,
)
from cmsfeed.errors import ConfigError
from cmsfeed.feeds.urls import tag_authority
from cmsfeed.model import SiteInfo


class Config(Section):
    site: SiteConfig = Field(default_factory=SiteConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    topics: list[TopicConfig] = Field(default_factory=list)
    feeds: FeedsConfig = Field(default_factory=FeedsConfig)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    digests: DigestsConfig = Field(default_factory=DigestsConfig)
    subscribers: list[SubscriberConfig] = Field(default_factory=list)
    bounces: BouncesConfig = Field(default_factory=BouncesConfig)
    log: LogConfig = Field(default_factory=LogConfig)
    web: WebConfig = Field(default_factory=WebConfig)

    def source(self, source_id: str) -> SourceConfig:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources) or "none"
        raise ConfigError([f"sources: no source with id {source_id!r} (configured: {known})"])

    def topic_ids(self) -> list[str]:
        return [topic.id for topic in self.topics]

    def served_at(self, served_base: str) -> Config:
        """This configuration with `site.base_url` filled by the address being served, if unset
        (`cmsfeed run`: the links in its emails lead to itself)."""
        if self.site.base_url is not None:
            return self
        return self.model_copy(
            update={"site": self.site.model_copy(update={"base_url": served_base})}
        )

    def site_info(self, served_base: str | None = None, *, signup_here: bool = False) -> SiteInfo:
        """The plain value that feeds, pages and emails take instead of the configuration.

        Links are built on `site.base_url`, else on `served_base` (the address `run` or `serve`
        answers at); with neither, ConfigError names the key. `signup_here`: this process
        takes sign-ups (`run`); else the buttons lead to `web.signup_url`, to base_url's form,
        or nowhere.
        """
        site = self.site
        base_url = site.base_url or served_base
        if base_url is None:
            raise ConfigError(
                [
                    "site.base_url: not set; links in files and emails made outside "
                    "`cmsfeed run` or `serve` need the public address (set it in config.toml "
                    "or CMSFEED_SITE__BASE_URL)"
                ]
            )
        if signup_here:
            signup_url: str | None = base_url + "subscribe"
        elif self.web.signup_url:
            signup_url = self.web.signup_url
        else:
            signup_url = site.base_url + "subscribe" if site.base_url else None
        return SiteInfo(
            base_url=base_url,
            signup_url=signup_url,
            titles=site.titles(),
            descriptions=site.descriptions(),
            languages=tuple(site.languages),
            author_name=site.author_name,
            author_email=site.author_email,
            topic_names={topic.id: dict(topic.name) for topic in self.topics},
            # Entry ids never follow the address a request came in on (a proxy may pass
            # several host names): without base_url they rest on `localhost` or the configured
            # feeds.tag_authority, never on served_base.
            authority=tag_authority(site.base_url or "http://localhost/", self.feeds.tag_authority),
            entries=self.feeds.entries,
            ttl_minutes=self.feeds.ttl_minutes,
            hub_url=self.feeds.hub_url,
            locale_dir=Path(site.locale_dir) if site.locale_dir else None,
        )
