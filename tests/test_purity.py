"""The pure core imports no database, network or scheduler library (checked in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys

PURE_MODULES = [
    "cmsfeed.dates",
    "cmsfeed.sanitize",
    "cmsfeed.model",
    "cmsfeed.errors",
    "cmsfeed.classify",
    "cmsfeed.classify.language",
    "cmsfeed.classify.topics",
    "cmsfeed.ingest.listing",
    "cmsfeed.ingest.html_page",
    "cmsfeed.ingest.json_items",
    "cmsfeed.ingest.prepare",
    "cmsfeed.bounces.parse",
    "cmsfeed.bounces.verp",
    "cmsfeed.bounces.match",
    "cmsfeed.ingest.paragraphs",
]
# The classifier takes plain values (model.TopicDefinition), never configuration objects.
CLASSIFY_MODULES = ["cmsfeed.classify", "cmsfeed.classify.language", "cmsfeed.classify.topics"]
CONFIGURATION = ["cmsfeed.config", "pydantic", "pydantic_core", "tomllib"]
FEED_PARSER = "cmsfeed.ingest.feed"

LIBRARIES = [
    "sqlalchemy",
    "alembic",
    "psycopg",
    "sqlite3",  # databases
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "urllib3",
    "requests",
    "aiohttp",  # HTTP clients
    "uvicorn",
    "starlette",
    "aiosmtplib",
    "aiosmtpd",  # servers and mail
    "apscheduler",  # the scheduler
    "cmsfeed.store",
    "cmsfeed.ingest.fetch",
    "cmsfeed.ingest.run",
    "cmsfeed.cli",  # our edges
]
# The standard library's clients. feedparser imports http.client and urllib.request when it
# loads (it can fetch URLs itself); `parse_feed` only ever hands it bytes, so the feed parser
# is held to LIBRARIES alone. (`socket` is not listed: email.utils imports it for make_msgid.)
STANDARD_CLIENTS = ["http.client", "urllib.request", "ssl", "smtplib", "asyncio"]


def imported_by(modules: list[str]) -> set[str]:
    code = f"import {', '.join(modules)}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout))


def among(loaded: set[str], forbidden: list[str]) -> list[str]:
    return sorted(
        name
        for name in loaded
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    )


def test_pure_modules_import_no_database_network_or_scheduler_library():
    loaded = imported_by(PURE_MODULES)
    assert set(PURE_MODULES) <= loaded  # the check below really saw them
    assert among(loaded, LIBRARIES + STANDARD_CLIENTS) == []


def test_classify_and_prepare_import_no_configuration():
    loaded = imported_by([*CLASSIFY_MODULES, "cmsfeed.ingest.prepare"])
    assert set(CLASSIFY_MODULES) <= loaded
    assert among(loaded, CONFIGURATION) == []


def test_the_feed_parser_imports_no_database_network_or_scheduler_library():
    loaded = imported_by([FEED_PARSER])
    assert FEED_PARSER in loaded
    assert among(loaded, LIBRARIES) == []


def test_the_check_would_notice_an_io_module():
    # Guards the tests above against a subprocess that silently imports nothing.
    assert among(imported_by(["cmsfeed.store"]), LIBRARIES)
    assert "httpx" in imported_by(["cmsfeed.ingest.fetch"])
    assert among(imported_by(["cmsfeed.ingest.run"]), CONFIGURATION)


PARSERS = [
    "cmsfeed.ingest.listing",
    "cmsfeed.ingest.html_page",
    "cmsfeed.ingest.json_items",
    "cmsfeed.ingest.feed",
    "cmsfeed.ingest.ledger",
    "cmsfeed.identity",
]
# Parsers take plain values (selectors, locales, a zone): no configuration objects, no
# validation library, no database layer, so they can be used and tested on bytes alone.
NOT_IN_PARSERS = ["cmsfeed.config", "pydantic", "pydantic_core", "sqlalchemy"]


def test_the_parsers_import_no_config_validation_or_database_library():
    loaded = imported_by(PARSERS)
    assert set(PARSERS) <= loaded
    assert among(loaded, NOT_IN_PARSERS + LIBRARIES) == []


def test_the_parser_check_would_notice_the_config():
    assert among(imported_by(["cmsfeed.ingest.run"]), NOT_IN_PARSERS) != []
