"""config.toml: loaded and validated once, at start-up. Reads the file and the environment.

Every problem is reported at once, one line each, naming the file (or the environment
variable) and the key path: `config.toml: topics[1].terms.ru: expected a list of strings, got 5`.
Unknown keys are errors, so that a typo never silently falls back to a default.

Any value can be overridden by an environment variable `CMSFEED_<SECTION>__<KEY>` (the
pydantic-settings convention, e.g. `CMSFEED_STORE__URL`), which wins over the file. The
overlay is done here rather than by pydantic-settings so that an error in a value that came
from the environment names the variable, not the file. Secrets never live in the file: the
SMTP password is read from the variable that `smtp.password_env` names.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cmsfeed.errors import ConfigError
from cmsfeed.feeds.urls import tag_authority
from cmsfeed.model import LATIN, Frequency, SiteInfo, TopicDefinition, Weekday

ENV_PREFIX = "CMSFEED_"
ENV_SEPARATOR = "__"
_SLUG = r"^[a-z0-9][a-z0-9-]*$"
_LANGUAGE = r"^[a-z]{2,3}$"


def _string_list(value: object) -> object:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PydanticCustomError("string_list", "expected a list of strings")
    return value


def _time_zone(value: object) -> object:
    if not isinstance(value, str):
        raise PydanticCustomError("time_zone", "expected an IANA time zone name such as 'UTC'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "expected an IANA time zone name such as 'Asia/Almaty'"
        ) from None
    return value


def _absolute_url(value: object) -> object:
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
        raise PydanticCustomError("url", "expected an absolute http(s) URL")
    return value


def _bounce_address(value: object) -> object:
    if not isinstance(value, str) or not re.match(r"^[^@\s+]+@[^@\s]+$", value):
        raise PydanticCustomError(
            "bounce_address", "expected an address such as bounces@example.org (without '+')"
        )
    return value


StringList = Annotated[list[str], BeforeValidator(_string_list)]
TimeZoneName = Annotated[str, BeforeValidator(_time_zone)]
AbsoluteUrl = Annotated[str, BeforeValidator(_absolute_url)]
BounceAddress = Annotated[str, BeforeValidator(_bounce_address)]
Slug = Annotated[str, Field(pattern=_SLUG, max_length=64)]
LanguageCode = Annotated[str, Field(pattern=_LANGUAGE)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A text the reader sees in their language: one string for every language, or a table with one
# per language, `{ en = "…", ru = "…" }`, that must name every language of site.languages.
PerLanguageText = str | dict[LanguageCode, str]


class SiteConfig(_Section):
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


class StoreConfig(_Section):
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


class IngestConfig(_Section):
    interval_minutes: int = Field(60, ge=1)
    timeout_seconds: float = Field(20.0, gt=0)
    user_agent: str | None = None
    max_summary_bytes: int = Field(256 * 1024, ge=1024)
    batch_size: int = Field(500, ge=1, le=10_000)
    # A story in a language outside site.languages: "keep" stores it under its own code (it
    # appears in the all-languages feeds only); "skip" reports it and stores nothing.
    other_languages: Literal["keep", "skip"] = "keep"
    # Processes that tag a large source (language models load once in each); default: the cores.
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)


class SelectorsConfig(_Section):
    item: str
    title: str
    date: str
    link: str | None = None
    summary: str | None = None
    image: str | None = None
    date_attribute: str | None = None


SourceKind = Literal["listing", "html", "feed", "json"]


class SourceConfig(_Section):
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


class TopicConfig(_Section):
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


class FeedsConfig(_Section):
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


class SmtpConfig(_Section):
    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    from_address: str = "cmsfeed@localhost"
    from_name: str = "cmsfeed"

    def password(self, environ: Mapping[str, str]) -> str | None:
        return environ.get(self.password_env) if self.password_env else None


_TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class DkimConfig(_Section):
    selector: str
    domain: str
    key_path: str


class DigestsConfig(_Section):
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


class BouncesConfig(_Section):
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


def _networks(value: object) -> object:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PydanticCustomError("networks", "expected a list of IP addresses or networks")
    for entry in value:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise PydanticCustomError(
                "networks",
                "expected IP addresses or networks such as '127.0.0.1' or '10.0.0.0/8', "
                "got {entry}",
                {"entry": repr(entry)},
            ) from None
    return value


class WebConfig(_Section):
    """What `cmsfeed run` and `serve` believe of the requests they get."""

    # Proxies (addresses or networks) whose Host and X-Forwarded-Proto/-Host/-Port headers
    # say the public address, when site.base_url is unset; from anyone else they are ignored.
    trusted_proxies: Annotated[list[str], BeforeValidator(_networks)] = Field(default_factory=list)
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


class LogConfig(_Section):
    """Logs of `cmsfeed run` and `serve`: one line per event, as text or JSON."""

    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class SubscriberConfig(_Section):
    email: str
    language: LanguageCode = "en"
    topics: list[Slug] = Field(default_factory=list)  # empty: every topic
    frequency: Frequency = "daily"
    weekday: Weekday = "mon"
    time: Annotated[str, Field(pattern=_TIME_OF_DAY)] = "08:00"
    timezone: TimeZoneName = "UTC"


class Config(_Section):
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


_EXPECTATIONS = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "missing": "required key is missing",
    "extra_forbidden": "unknown key (check its spelling against the README)",
}


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, overlay and validate the configuration; raise ConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    label = path.name
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError([f"{path}: cannot read the configuration ({err.strerror})"]) from err
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError([f"{label}: not UTF-8 (byte {err.start})"]) from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{label}: not valid TOML: {err}"]) from err
    problems = _secret_problems(data, label)
    origins = _overlay_environment(data, environ, problems)
    _resolve_paths(data, path.parent.resolve())
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        problems += [_describe(error, label, origins) for error in err.errors()]
        raise ConfigError(problems) from err
    problems += _consistency_problems(config, label)
    if problems:
        raise ConfigError(problems)
    return config


def _describe(error: Mapping[str, Any], label: str, origins: Mapping[tuple[str, ...], str]) -> str:
    location = tuple(str(part) for part in error["loc"])
    key_path = _key_path(error["loc"])
    origin = next((env for loc, env in origins.items() if location[: len(loc)] == loc), None)
    if origin:
        subject = f"environment {origin}"
    elif key_path:
        subject = f"{label}: {key_path}"
    else:
        subject = label
    kind = error["type"]
    if kind in _EXPECTATIONS:
        problem = _EXPECTATIONS[kind]
    elif kind == "literal_error":
        problem = "expected " + error["ctx"]["expected"]
    elif kind == "string_pattern_mismatch":
        problem = (
            "expected lowercase letters, digits and dashes"
            if "a-z0-9" in error["ctx"]["pattern"]
            else "expected a language code such as 'en' or 'ru'"
        )
    else:
        problem = error["msg"].removeprefix("Value error, ")
        problem = problem[0].lower() + problem[1:]
    # A store URL may hold a password: its error names only the scheme it found.
    # (A list of networks names the one entry that is wrong.)
    if kind not in ("missing", "extra_forbidden", "store_url", "networks") and "input" in error:
        problem += f", got {_show(error['input'])}"
    return f"{subject}: {problem}"


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _show(value: object) -> str:
    text = (
        json.dumps(value, ensure_ascii=False, default=str)
        if not isinstance(value, str)
        else repr(value)
    )
    return text if len(text) <= 60 else text[:57] + "..."


def _secret_problems(data: dict[str, Any], label: str) -> list[str]:
    smtp = data.get("smtp")
    if isinstance(smtp, dict) and "password" in smtp:
        smtp.pop("password")
        return [
            f"{label}: smtp.password: secrets do not belong in the file; put the password in "
            "an environment variable and name it in smtp.password_env"
        ]
    return []


def _overlay_environment(
    data: dict[str, Any], environ: Mapping[str, str], problems: list[str]
) -> dict[tuple[str, ...], str]:
    """Apply CMSFEED_<SECTION>__<KEY> variables; return which key paths came from which one."""
    origins: dict[tuple[str, ...], str] = {}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or ENV_SEPARATOR not in name:
            continue
        keys = name[len(ENV_PREFIX) :].lower().split(ENV_SEPARATOR)
        if not all(keys):
            problems.append(f"environment {name}: expected CMSFEED_<SECTION>__<KEY>")
            continue
        table = data
        for key in keys[:-1]:
            child = table.setdefault(key, {})
            if not isinstance(child, dict):
                problems.append(f"environment {name}: {key} is not a table that keys can be set in")
                break
            table = child
        else:
            table[keys[-1]] = _environment_value(environ[name])
            origins[tuple(keys)] = name
    return origins


def _environment_value(text: str) -> Any:
    """Lists and tables are written as JSON (as pydantic-settings does); all else stays text."""
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Relative paths in the file are relative to the file, not to the working directory."""
    site = data.get("site")
    if isinstance(site, dict) and isinstance(site.get("locale_dir"), str):
        site["locale_dir"] = str((base / site["locale_dir"]).resolve())
    store = data.get("store")
    if isinstance(store, dict) and isinstance(store.get("url"), str):
        store["url"] = resolve_sqlite_url(store["url"], base)
    for source in data.get("sources") or []:
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            source["path"] = str((base / source["path"]).resolve())
    digests = data.get("digests")
    if isinstance(digests, dict):
        for key in ("maildir", "secret_path"):
            if isinstance(digests.get(key), str):
                digests[key] = str((base / digests[key]).resolve())
        dkim = digests.get("dkim")
        if isinstance(dkim, dict) and isinstance(dkim.get("key_path"), str):
            dkim["key_path"] = str((base / dkim["key_path"]).resolve())
    bounces = data.get("bounces")
    if isinstance(bounces, dict) and isinstance(bounces.get("maildir"), str):
        bounces["maildir"] = str((base / bounces["maildir"]).resolve())


def resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def default_store_url(base: Path) -> str:
    return resolve_sqlite_url(StoreConfig().url, base)


def _consistency_problems(config: Config, label: str) -> list[str]:
    problems: list[str] = []
    languages = set(config.site.languages)
    for key in ("title", "description"):
        text = getattr(config.site, key)
        if isinstance(text, str):
            continue
        for language in config.site.languages:
            if not text.get(language, "").strip():
                problems.append(
                    f"{label}: site.{key}.{language}: expected the {key} in every language of "
                    f"site.languages {config.site.languages}, {language!r} is missing"
                )
        for language in text:
            if language not in languages:
                problems.append(
                    f"{label}: site.{key}.{language}: not one of site.languages {sorted(languages)}"
                )
    if config.site.locale_dir is not None and not Path(config.site.locale_dir).is_dir():
        problems.append(
            f"{label}: site.locale_dir: expected a folder of gettext catalogs, "
            f"{config.site.locale_dir!r} is not a folder"
        )
    for kind, ids in (
        ("sources", [s.id for s in config.sources]),
        ("topics", [t.id for t in config.topics]),
    ):
        seen: set[str] = set()
        for index, entry_id in enumerate(ids):
            if entry_id in seen:
                problems.append(f"{label}: {kind}[{index}].id: {entry_id!r} is used twice")
            seen.add(entry_id)
    for index, topic in enumerate(config.topics):
        for key, phrases in (("terms", topic.terms), ("exclude", topic.exclude)):
            for language, terms in phrases.items():
                where = f"{label}: topics[{index}].{key}.{language}"
                if language not in languages and language != LATIN:
                    problems.append(
                        f"{where}: not one of site.languages {sorted(languages)} "
                        f"or '{LATIN}' for Latin names"
                    )
                if (not terms and key == "terms") or any(not term.strip() for term in terms):
                    problems.append(f"{where}: expected non-empty {key}")
    for index, source in enumerate(config.sources):
        if source.language is not None and source.language not in languages:
            problems.append(
                f"{label}: sources[{index}].language: {source.language!r} is not one of "
                f"site.languages {sorted(languages)}"
            )
    if config.feeds.hub_url and config.site.base_url is None:
        problems.append(
            f"{label}: feeds.hub_url: a WebSub hub fetches the feeds at their public address; "
            "set site.base_url too"
        )
    topic_ids = set(config.topic_ids())
    for index, subscriber in enumerate(config.subscribers):
        if subscriber.language not in languages:
            problems.append(
                f"{label}: subscribers[{index}].language: {subscriber.language!r} is "
                f"not one of site.languages {sorted(languages)}"
            )
        for topic_id in subscriber.topics:
            if topic_id not in topic_ids:
                problems.append(f"{label}: subscribers[{index}].topics: no topic {topic_id!r}")
    return problems
