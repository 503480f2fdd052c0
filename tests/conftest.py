"""Shared fixtures: real databases, a fixed clock, and configs written to a temporary folder.

The `store_url` fixture runs each store-backed test on a fresh SQLite file and, when
CMSFEED_TEST_POSTGRES_URL names a PostgreSQL server (./scripts/test starts one), also on a
fresh PostgreSQL database: one test suite, both backends. `--backend sqlite|postgresql|all`
chooses (default `all`: PostgreSQL too when the variable is set); test ids end in `[sqlite]`
or `[postgresql]`, so `-k postgresql` also selects. A test that needs PostgreSQL (several
worker processes on one database) takes the `postgres_url` fixture and is skipped without it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy

from cmsfeed.config import Config, load_config
from cmsfeed.store import Store
from support.clock import FixedClock
from support.config import write_bundled_config
from support.digest import OPENED
from support.smtp_faults import FaultyServer
from support.smtp_server import SmtpServer

POSTGRES_URL = os.environ.get("CMSFEED_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=["sqlite", "postgresql", "all"],
        default="all",
        help="store backend(s) for store-backed tests (default: all available; "
        "PostgreSQL needs CMSFEED_TEST_POSTGRES_URL, see ./scripts/test)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--backend") == "postgresql" and not POSTGRES_URL:
        raise pytest.UsageError(
            "--backend postgresql needs CMSFEED_TEST_POSTGRES_URL "
            "(./scripts/test starts a server and sets it)"
        )


def selected_backends(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--backend")
    return BACKENDS if chosen == "all" else [chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_url" in metafunc.fixturenames:
        backends = selected_backends(metafunc.config)
        metafunc.parametrize("store_url", backends, ids=backends, indirect=True)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd on 127.0.0.1) recording what arrives: support.smtp_server."""
    with SmtpServer() as running:
        yield running


@pytest.fixture
def faulty_smtp_server() -> Iterator[FaultyServer]:
    """A real SMTP server that misbehaves on demand, stage by stage: support.smtp_faults."""
    with FaultyServer() as running:
        yield running


@pytest.fixture
def clock() -> FixedClock:
    """The tests' one clock (support.clock), at T0 until the test moves it."""
    return FixedClock()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; yields its URL."""
    assert POSTGRES_URL is not None
    name = f"cmsfeed_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store URL on the backend of this parametrization (see pytest_generate_tests)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'cmsfeed.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for tests that only make sense there (several workers)."""
    if not POSTGRES_URL or request.config.getoption("--backend") == "sqlite":
        pytest.skip("needs PostgreSQL: run ./scripts/test (sets CMSFEED_TEST_POSTGRES_URL)")
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(autouse=True)
def _close_opened_stores() -> Iterator[None]:
    """Close the stores support.digest.open_stores opened during the test."""
    yield
    while OPENED:
        OPENED.pop().close()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()


@pytest.fixture
def make_config(tmp_path: Path, store_url: str) -> Callable[..., Config]:
    """Write config.toml (the bundled topics and site, plus `extra` TOML) and load it: see
    support.config.write_bundled_config. `sources` is TOML for [[sources]] tables."""

    def make(
        sources: str | None = None, extra: str = "", environ: dict[str, str] | None = None
    ) -> Config:
        return load_config(write_bundled_config(tmp_path, store_url, sources, extra), environ or {})

    return make
