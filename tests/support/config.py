"""The tests' one config builder: config.toml written to a test's folder, then loaded by the
same `load_config` the CLI uses (so relative paths, secrets and every check apply as in use).

Two starting points, one writer: `write_config` / `digest_config` (a file, or the Config loaded
from it) hold an English and Russian site with three topics (argali, saiga, Bukhara deer),
SMTP to 127.0.0.1 when given a port (else a Maildir) and `digests` settings as keywords;
`write_bundled_config` holds the bundled config's site and topics with the sample listing (the
conftest `make_config` fixture hands it out).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cmsfeed.config import Config, load_config

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "src" / "cmsfeed" / "data" / "sample" / "cms-cami-news.txt"
BUNDLED_CONFIG = REPO / "src" / "cmsfeed" / "data" / "config.toml"
BASE_URL = "http://127.0.0.1:8080/"
TOPICS = [
    {"id": "argali", "name": {"en": "Argali", "ru": "Аргали"}, "terms": {"en": ["argali"]}},
    {"id": "saiga", "name": {"en": "Saiga antelope", "ru": "Сайгак"}, "terms": {"en": ["saiga"]}},
    {
        "id": "bukhara-deer",
        "name": {"en": "Bukhara deer", "ru": "Бухарский олень"},
        "terms": {"en": ["Bukhara deer"]},
    },
]
# Fast enough that no test waits on the rate limit; retries after a minute of the FixedClock.
DIGEST_DEFAULTS: dict[str, Any] = {"rate_per_second": 10_000, "retry_seconds": 60}


def toml_value(value: Any) -> str:
    """A TOML value for a str, number, bool, list or table (inline) of them."""
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key} = {toml_value(v)}" for key, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # bool, numbers and strings read alike


def write_config(
    folder: Path,
    smtp_port: int | None = None,
    extra: str = "",
    store_url: str = "sqlite:///store.db",
    **digests: Any,
) -> Path:
    """folder/config.toml; `extra` is TOML added to the [digests] table (or tables after it)."""
    smtp = f'host = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n' if smtp_port else ""
    settings = {**DIGEST_DEFAULTS, **digests}
    topics = "".join(
        f'[[topics]]\nid = "{t["id"]}"\nname = {toml_value(t["name"])}\n'
        f"terms.en = {toml_value(t['terms']['en'])}\n\n"
        for t in TOPICS
    )
    path = folder / "config.toml"
    path.write_text(
        '[site]\ntitle = { en = "CAMI news", ru = "Новости CAMI" }\n'
        f'base_url = "{BASE_URL}"\nlanguages = ["en", "ru"]\n\n'
        f'[store]\nurl = "{store_url}"\n\n'
        f'[smtp]\n{smtp}from_address = "news@cmsfeed.example"\nfrom_name = "ЦАМИ новости"\n\n'
        '[digests]\nmaildir = "maildir"\nsecret_path = "secret.key"\n'
        + "".join(f"{key} = {toml_value(value)}\n" for key, value in settings.items())
        + f"{extra}\n\n"
        + topics,
        encoding="utf-8",
    )
    return path


def digest_config(
    folder: Path, smtp_port: int | None = None, *, store_url: str | None = None, **digests: Any
) -> Config:
    """The Config of `write_config`, on `store_url` (the conftest fixture: SQLite or
    PostgreSQL), else SQLite in `folder`."""
    path = write_config(folder, smtp_port, store_url=store_url or "sqlite:///store.db", **digests)
    return load_config(path, {})


def write_bundled_config(
    folder: Path, store_url: str, sources: str | None = None, extra: str = ""
) -> Path:
    """folder/config.toml: the bundled topics and site, plus `extra` TOML, on `store_url`.

    The site's base_url is BASE_URL (the bundled file leaves it unset: links follow the
    address served, and these tests build files and emails outside a server).
    `sources` is TOML for [[sources]] tables; by default the bundled sample listing.
    """
    shutil.copy(SEED, folder / "seed.txt")
    bundled = BUNDLED_CONFIG.read_text(encoding="utf-8")
    head, _, topics = bundled.partition("\n[[topics]]")
    head = head.split("\n[[sources]]")[0]
    head = head.replace('url = "sqlite:///var/cmsfeed.db"', f'url = "{store_url}"')
    head = head.replace('# base_url = "https://news.example.org/"', f'base_url = "{BASE_URL}"')
    default_sources = '[[sources]]\nid = "seed"\nkind = "listing"\npath = "seed.txt"\n'
    text = (
        f"{head}\n{extra}\n{sources if sources is not None else default_sources}\n"
        f"[[topics]]{topics}"
    )
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
