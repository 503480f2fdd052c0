"""Every digest carries all its items, however many batches a round is sent in."""

from __future__ import annotations

import asyncio
import mailbox
from pathlib import Path

import pytest

from cmsfeed import sending
from cmsfeed.delivery import queue_round, send_outbox
from cmsfeed.subscribers import Subscriber
from support.mail_round import setup


def test_items_loaded_by_an_earlier_batch_still_reach_later_digests(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending, "ITEM_CACHE_SIZE", 0)  # the cache overflows at every batch
    delivery, _, _ = setup(
        tmp_path,
        store_url,
        None,
        [
            Subscriber("anna@example.org", topics=("argali",)),
            Subscriber("boris@example.org", topics=("argali",)),
        ],
    )

    async def go() -> None:
        try:
            await send_outbox(delivery, queue_round(delivery, delivery.clock()), batch_size=1)
        finally:
            await delivery.transport.close()

    asyncio.run(go())
    bodies = [
        message.get_payload(0).get_payload(decode=True).decode()
        for message in mailbox.Maildir(str(tmp_path / "maildir"), create=False)
    ]
    assert len(bodies) == 2
    assert all("Argali survey" in body for body in bodies), bodies
