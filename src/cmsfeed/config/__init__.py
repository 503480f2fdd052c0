"""config.toml: loaded and validated once, at start-up. Reads the file and the environment.

Every problem is reported at once, one line each, naming the file (or the environment
variable) and the key path: `config.toml: topics[1].terms.ru: expected a list of strings, got 5`.
Unknown keys are errors, so that a typo never silently falls back to a default.

Any value can be overridden by an environment variable `CMSFEED_<SECTION>__<KEY>` (the
pydantic-settings convention, e.g. `CMSFEED_STORE__URL`), which wins over the file. The
overlay is done here rather than by pydantic-settings so that an error in a value that came
from the environment names the variable, not the file. Secrets never live in the file: the
SMTP password is read from the variable that `smtp.password_env` names.

The package: `fields` (what a value must look like), `sections` (one model per table),
`settings` (`Config`, the whole file), `consistency` (checks across keys), `loading` (the
file, the overlay, the messages). It imports the model (cmsfeed.model), never the reverse:
the pure core takes the plain values built here.
"""

from __future__ import annotations

from cmsfeed.config.loading import (
    ENV_PREFIX,
    ENV_SEPARATOR,
    default_store_url,
    load_config,
    resolve_sqlite_url,
)
from cmsfeed.config.sections import (
    STORE_SCHEMES,
    BouncesConfig,
    DigestsConfig,
    DkimConfig,
    FeedsConfig,
    IngestConfig,
    LogConfig,
    SelectorsConfig,
    SiteConfig,
    SmtpConfig,
    SourceConfig,
    SourceKind,
    StoreConfig,
    SubscriberConfig,
    TopicConfig,
    WebConfig,
)
from cmsfeed.config.settings import Config

__all__ = [
    "ENV_PREFIX",
    "ENV_SEPARATOR",
    "STORE_SCHEMES",
    "BouncesConfig",
    "Config",
    "DigestsConfig",
    "DkimConfig",
    "FeedsConfig",
    "IngestConfig",
    "LogConfig",
    "SelectorsConfig",
    "SiteConfig",
    "SmtpConfig",
    "SourceConfig",
    "SourceKind",
    "StoreConfig",
    "SubscriberConfig",
    "TopicConfig",
    "WebConfig",
    "default_store_url",
    "load_config",
    "resolve_sqlite_url",
]
