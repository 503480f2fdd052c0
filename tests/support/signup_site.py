"""The sign-up site as a fixture: the application `cmsfeed run` serves (`support.signup`), on a
real uvicorn server, sending through a real SMTP server (aiosmtpd on 127.0.0.1), on the store of
the test's backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.clock import FixedClock
from support.config import digest_config
from support.digest import open_stores
from support.signup import ENV, serving, signup, signup_app
from support.smtp_server import SmtpServer

__all__ = ["ENV", "signup", "signup_site"]


@pytest.fixture(name="site")
def signup_site(
    tmp_path: Path, store_url: str
) -> Iterator[tuple[str, SmtpServer, object, FixedClock]]:
    with SmtpServer() as smtp:
        config = digest_config(tmp_path, smtp.port, store_url=store_url, signups_per_hour=3)
        store, digests = open_stores(config)
        clock = FixedClock()
        try:
            with serving(signup_app(config, digests, clock, smtp.port)) as base:
                yield base, smtp, (config, store, digests), clock
        finally:
            store.close()
