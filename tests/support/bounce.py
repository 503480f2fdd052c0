"""Helpers for the bounce tests: digests really sent (to a Maildir) on SQLite or PostgreSQL,
and the real-shaped fixtures of tests/data/bounces/ rewritten to be about those digests."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmsfeed.bounce_mailbox import BounceSettings, ImportReport, bounce_settings, import_bounces
from cmsfeed.config import BouncesConfig, Config
from cmsfeed.delivery import Delivery, run_round
from cmsfeed.mail import Transport
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config
from support.digest import open_stores
from support.items import make_item

DATA = Path(__file__).resolve().parents[1] / "data" / "bounces"
FIXTURE_DIGEST_ID = "<digest.0123456789abcdef01234567@cmsfeed.example>"
ENV = {"CMSFEED_SECRET": "s3cret"}
# The address each fixture reports, so that a test can make it a subscriber.
RECIPIENTS = {
    "postfix-hard.eml": "reader.gone@example.org",
    "gmail-hard.eml": "reader.gmail@gmail.com",
    "microsoft-hard.eml": "reader.ms@outlook.com",
    "exim-hard.eml": "reader.exim@example.net",
    "soft-mailbox-full.eml": "reader.full@example.org",
    "arf-yahoo.eml": "reader.yahoo@yahoo.com",
}


@dataclass
class Setup:
    config: Config
    delivery: Delivery
    digests: Store
    bounces: Store
    settings: BounceSettings
    clock: FixedClock
    maildir: Path

    def import_(self, path: Path | None = None, **options: Any) -> ImportReport:
        return import_bounces(
            path or self.maildir, self.bounces, self.settings, self.clock, **options
        )

    def status(self, email: str) -> str:
        found = self.digests.get_subscriber(email)
        assert found is not None
        return found.status

    def message_id(self, email: str) -> str:
        (sent,) = self.digests.sent_message_ids()[email]
        return sent

    def outbox_id(self, email: str) -> int:
        found = self.bounces.sent_by_message_id(self.message_id(email))
        assert found is not None
        return found.outbox_id

    def round(self) -> None:
        async def go() -> None:
            try:
                await run_round(self.delivery)
            finally:
                await self.delivery.transport.close()

        asyncio.run(go())


def setup(
    tmp_path: Path,
    store_url: str,
    emails: list[str],
    *,
    smtp_port: int | None = None,
    transport: Transport | None = None,
    **bounces: Any,
) -> Setup:
    """Subscribers for `emails`, an item for them, one digest round sent; a bounce Maildir."""
    config = digest_config(tmp_path, smtp_port, store_url=store_url, rate_per_second=10_000)
    config = config.model_copy(update={"bounces": BouncesConfig.model_validate(bounces)})
    store, digests = open_stores(config)
    clock = FixedClock()
    for email in emails:
        digests.save_subscriber(Subscriber(email), clock())
    clock.advance(hours=1)
    store.upsert_items([make_item("Argali survey")], clock())
    clock.advance(days=1)
    delivery = build_delivery(config, digests, clock, ENV, transport)
    maildir = tmp_path / "bounces"
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True)
    made = Setup(
        config,
        delivery,
        digests,
        store,
        bounce_settings(config, delivery.composer.secret),
        clock,
        maildir,
    )
    made.round()
    return made


def about(
    name: str,
    *,
    message_id: str | None = None,
    recipient: str | None = None,
    envelope: str | None = None,
    report_id: str | None = None,
    date: str | None = None,
) -> bytes:
    """Fixture `name` made about another digest (`message_id`, or none when ""), recipient,
    envelope address (the VERP address), report Message-ID or Date."""
    raw = (DATA / name).read_bytes()
    if not any((message_id, recipient, envelope, report_id, date)):
        return raw  # as it is (garbage.eml is not text)
    text = raw.decode("utf-8")
    if message_id is not None:
        if message_id:
            text = text.replace(FIXTURE_DIGEST_ID, message_id)
        else:  # every header quoting the digest's Message-ID goes
            text = re.sub(rf"(?im)^[a-z-]+:\s*{re.escape(FIXTURE_DIGEST_ID)}\s*\n", "", text)
            assert FIXTURE_DIGEST_ID not in text
    if recipient is not None:
        text = text.replace(RECIPIENTS[name], recipient)
        text = text.replace(RECIPIENTS[name].partition("@")[0], recipient.partition("@")[0])
    if envelope is not None:
        text = text.replace("bounces@cmsfeed.example", envelope)
    if report_id is not None:
        text = re.sub(r"(?im)^message-id:.*$", f"Message-ID: {report_id}", text, count=1)
    if date is not None:
        text = re.sub(r"(?m)^Date:.*$", f"Date: {date}", text, count=1)
    return text.encode("utf-8")


def deliver(maildir: Path, name: str, raw: bytes) -> Path:
    """Put a message into new/ as a delivering MTA would (tmp/, then a rename)."""
    temporary = maildir / "tmp" / name
    temporary.write_bytes(raw)
    final = maildir / "new" / name
    temporary.rename(final)
    return final
