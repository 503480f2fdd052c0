"""The mail delivery tests' starting point: a delivery over a store holding subscribers and
three items, the clock a day on; and one digest round run to its end."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cmsfeed.delivery import Delivery, run_round
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from cmsfeed.wiring import build_delivery
from support.clock import FixedClock
from support.config import digest_config
from support.digest import open_stores
from support.items import make_item

ENV = {"CMSFEED_SECRET": "s3cret"}


def setup(
    tmp_path: Path,
    store_url: str,
    port: int | None,
    subscribers: list[Subscriber],
    **digests: object,
) -> tuple[Delivery, Store, FixedClock]:
    config = digest_config(tmp_path, port, store_url=store_url, **digests)
    store, digest_store = open_stores(config)
    clock = FixedClock()
    for sub in subscribers:
        digest_store.save_subscriber(sub, clock())
    clock.advance(hours=1)
    store.upsert_items(
        [
            make_item("Argali survey", topics=("argali",)),
            make_item("Saiga calving", topics=("saiga",)),
            make_item("Сайгаки: отёл", topics=("saiga",), language="ru"),
        ],
        clock(),
    )
    clock.advance(days=1)
    return build_delivery(config, digest_store, clock, ENV), digest_store, clock


def send_round(delivery: Delivery) -> object:
    async def go() -> object:
        try:
            return await run_round(delivery)
        finally:
            await delivery.transport.close()

    return asyncio.run(go())
