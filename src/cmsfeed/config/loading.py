"""Reading config.toml: the file, the CMSFEED_* overlay, relative paths, and every problem at
once, each naming the file (or the variable) and the key. Reads the file and the environment.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cmsfeed.config.consistency import consistency_problems
from cmsfeed.config.sections import StoreConfig
from cmsfeed.config.settings import Config
from cmsfeed.errors import ConfigError

ENV_PREFIX = "CMSFEED_"
ENV_SEPARATOR = "__"

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
    problems += consistency_problems(config, label)
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
