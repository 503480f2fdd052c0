"""The pure core imports no configuration, database, network, server or scheduler library.

One table: each pure module is imported alone in a fresh interpreter and `sys.modules` is
checked, so a forbidden package pulled in indirectly (through a package `__init__`, say) counts.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = [
    "cmsfeed.config",
    "pydantic",
    "pydantic_core",  # the configuration
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
    "cmsfeed.web",
    "cmsfeed.mail",
    "cmsfeed.publish",
    "cmsfeed.delivery",
    "cmsfeed.sending",
    "cmsfeed.wiring",
    "cmsfeed.scheduler",
    "cmsfeed.jobs",
    "cmsfeed.ingest.fetch",
    "cmsfeed.ingest.run",
    "cmsfeed.cli",  # our edges
]
# The standard library's clients. feedparser imports http.client and urllib.request when it
# loads (it can fetch URLs itself); `parse_feed` only ever hands it bytes, so the feed parser
# is held to FORBIDDEN alone. (`socket` is not listed: email.utils imports it for make_msgid.)
STANDARD_CLIENTS = ["http.client", "urllib.request", "ssl", "smtplib", "asyncio"]
# Digests link to feed pages through feeds.urls; that must not load the feed writers.
FEED_WRITERS = ["feedgen", "lxml", "cmsfeed.feeds.syndication", "cmsfeed.feeds.pages"]

CORE = FORBIDDEN + STANDARD_CLIENTS


def row(module: str, forbidden: list[str]) -> object:
    return pytest.param(module, forbidden, id=module)


PURE_MODULES = [
    row("cmsfeed", CORE),  # the package __init__, loaded before any of the modules below
    row("cmsfeed.model", CORE),
    row("cmsfeed.errors", CORE),
    row("cmsfeed.dates", CORE),
    row("cmsfeed.sanitize", CORE),
    row("cmsfeed.identity", CORE),
    row("cmsfeed.i18n", CORE),
    row("cmsfeed.subscribers", CORE),
    row("cmsfeed.subscriptions.options", CORE),
    row("cmsfeed.subscriptions.import_file", CORE),
    row("cmsfeed.smtp_outcome", CORE),
    row("cmsfeed.feeds", CORE + FEED_WRITERS),
    row("cmsfeed.feeds.urls", CORE + FEED_WRITERS),
    row("cmsfeed.feeds.document", CORE + FEED_WRITERS),
    row("cmsfeed.feeds.syndication", CORE),
    row("cmsfeed.feeds.jsonfeed", CORE),
    row("cmsfeed.feeds.pages", CORE),
    row("cmsfeed.feeds.site", CORE),
    row("cmsfeed.digest.select", CORE + FEED_WRITERS),
    row("cmsfeed.digest.render", CORE + FEED_WRITERS),
    row("cmsfeed.digest.message", CORE + FEED_WRITERS),
    row("cmsfeed.digest.links", CORE + FEED_WRITERS),
    row("cmsfeed.digest.compose", CORE + FEED_WRITERS),
    row("cmsfeed.ingest", CORE),
    row("cmsfeed.ingest.listing", CORE),
    row("cmsfeed.ingest.json_items", CORE),
    row("cmsfeed.ingest.feed", FORBIDDEN),
    row("cmsfeed.ingest.html_page", CORE),
    row("cmsfeed.ingest.paragraphs", CORE),
    row("cmsfeed.ingest.ledger", CORE),
    row("cmsfeed.ingest.prepare", CORE),
    row("cmsfeed.classify", CORE),
    row("cmsfeed.classify.language", CORE),
    row("cmsfeed.classify.kyrgyz", CORE),
    row("cmsfeed.classify.topics", CORE),
    row("cmsfeed.bounces", CORE),
    row("cmsfeed.classify.stemming", CORE),
    row("cmsfeed.bounces.parse", CORE),
    row("cmsfeed.bounces.verp", CORE),
    row("cmsfeed.bounces.match", CORE),
    row("cmsfeed.subscriptions.choices", CORE),
    # Not pure (it acts on the store and sends mail) but handed both: it imports neither.
    row("cmsfeed.subscriptions.service", CORE),
]


# The edges are handed values and parts; only the composition root (cmsfeed.wiring) and the
# adapters that parse arguments read the configuration to wire things up.
WIRING = ["cmsfeed.config", "pydantic", "cmsfeed.wiring", "cmsfeed.cli"]
EDGES_WITHOUT_CONFIG = [
    row("cmsfeed.sending", WIRING),
    row("cmsfeed.mail", WIRING),
    row("cmsfeed.mail.smtp", WIRING),
    row("cmsfeed.mail.maildir", WIRING),
    row("cmsfeed.store", WIRING),
    row("cmsfeed.publish.refresh", WIRING),
]


def imported_by(module: str) -> set[str]:
    code = f"import {module}; import sys, json; print(json.dumps(sorted(sys.modules)))"
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


@pytest.mark.parametrize(("module", "forbidden"), PURE_MODULES)
def test_a_pure_module_imports_nothing_forbidden(module: str, forbidden: list[str]) -> None:
    loaded = imported_by(module)
    assert module in loaded  # the check below really saw it
    assert among(loaded, forbidden) == []


@pytest.mark.parametrize(("module", "forbidden"), EDGES_WITHOUT_CONFIG)
def test_an_edge_is_handed_its_parts_and_reads_no_config(module: str, forbidden: list[str]) -> None:
    loaded = imported_by(module)
    assert module in loaded
    assert among(loaded, forbidden) == []


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("cmsfeed.store", "sqlalchemy"),
        ("cmsfeed.ingest.fetch", "httpx"),
        ("cmsfeed.config", "pydantic"),
        ("cmsfeed.feeds.site", "feedgen"),
        ("cmsfeed.ingest.run", "cmsfeed.config"),
        ("cmsfeed.delivery", "cmsfeed.sending"),
        ("cmsfeed.cli.app", "cmsfeed.wiring"),
    ],
)
def test_the_check_would_notice_a_forbidden_import(module: str, expected: str) -> None:
    # Guards the table against a subprocess that silently imports nothing.
    assert expected in among(imported_by(module), FORBIDDEN + FEED_WRITERS + WIRING)
