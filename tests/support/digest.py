"""Helpers for the digest, mail, subscriber and scheduler tests: a real SMTP server
(aiosmtpd on 127.0.0.1), a store with items and a config to match."""

from __future__ import annotations

import asyncio
import email
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from cmsfeed.config import Config
from cmsfeed.store import Store
from cmsfeed.store.digests import DigestStore
from support.ports import free_port

SECRET = "test-secret-for-links"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Records what arrives; `rcpt_replies` and `data_replies` make it refuse on purpose."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: dict[str, str] = field(default_factory=dict)
    drop_data_for: set[str] = field(default_factory=set)
    delay: float = 0.0  # a slow server, so that a test can kill a sender mid-round
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0]
        if self.delay:
            await asyncio.sleep(self.delay)
        if recipient in self.drop_data_for:
            self.drop_data_for.discard(recipient)
            server.transport.close()
            return "421 closing"
        reply = self.data_replies.get(recipient)
        if reply:
            return reply
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    bytes(envelope.original_content or envelope.content),
                )
            )
        return "250 2.0.0 OK queued as test"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


class SmtpServer:
    def __init__(self) -> None:
        self.handler = Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)


def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


TOPICS = [
    {"id": "argali", "name": {"en": "Argali", "ru": "Аргали"}, "terms": {"en": ["argali"]}},
    {"id": "saiga", "name": {"en": "Saiga antelope", "ru": "Сайгак"}, "terms": {"en": ["saiga"]}},
    {
        "id": "bukhara-deer",
        "name": {"en": "Bukhara deer", "ru": "Бухарский олень"},
        "terms": {"en": ["Bukhara deer"]},
    },
]


def make_config(
    tmp_path: Path, smtp_port: int | None = None, *, store_url: str | None = None, **digests: Any
) -> Config:
    """A config on `store_url` (the conftest fixture: SQLite or PostgreSQL), else SQLite."""
    smtp: dict[str, Any] = {"from_address": "news@cmsfeed.example", "from_name": "ЦАМИ новости"}
    if smtp_port is not None:
        smtp.update(host="127.0.0.1", port=smtp_port, security="none")
    return Config.model_validate(
        {
            "site": {
                "title": {"en": "CAMI news", "ru": "Новости CAMI"},
                "base_url": "http://127.0.0.1:8080/",
                "languages": ["en", "ru"],
            },
            "store": {"url": store_url or f"sqlite:///{tmp_path / 'store.db'}"},
            "topics": TOPICS,
            "smtp": smtp,
            "digests": {
                "maildir": str(tmp_path / "maildir"),
                "secret_path": str(tmp_path / "secret.key"),
                "retry_seconds": 60,
                **digests,
            },
        }
    )


# Stores opened by `open_stores`; conftest closes them after each test, so no database
# connection outlives its test (psycopg warns about those, and warnings are errors).
OPENED: list[Store] = []


def open_stores(config: Config) -> tuple[Store, DigestStore]:
    store = Store.open(config.store.url)
    OPENED.append(store)
    return store, DigestStore(store)


def write_config(
    tmp_path: Path, smtp_port: int | None, extra: str = "", store_url: str = "sqlite:///store.db"
) -> Path:
    """A config.toml for running the CLI in a subprocess."""
    smtp = f'host = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n' if smtp_port else ""
    topics = "".join(
        f'[[topics]]\nid = "{t["id"]}"\nname = {{ en = "{t["name"]["en"]}", '
        f'ru = "{t["name"]["ru"]}" }}\nterms.en = ["{t["terms"]["en"][0]}"]\n\n'
        for t in TOPICS
    )
    path = tmp_path / "config.toml"
    path.write_text(
        '[site]\ntitle = "CAMI news"\nbase_url = "http://127.0.0.1:8080/"\n'
        'languages = ["en", "ru"]\n\n'
        f'[store]\nurl = "{store_url}"\n\n'
        f'[smtp]\n{smtp}from_address = "news@cmsfeed.example"\nfrom_name = "CAMI"\n\n'
        '[digests]\nmaildir = "maildir"\nsecret_path = "secret.key"\n'
        f"rate_per_second = 10000\n{extra}\n\n" + topics,
        encoding="utf-8",
    )
    return path
