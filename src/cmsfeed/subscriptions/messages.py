"""The confirmation and welcome emails of the subscription service: rendered and composed by a
`DigestComposer`, sent by a transport. Does I/O (the transport; the limit's store).

The service asks only for `SubscriptionMail` (subscriptions/service.py); this is the one the
pages use, so neither they nor the CLI need know how a message is made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from cmsfeed.digest.compose import DigestComposer
from cmsfeed.digest.links import link
from cmsfeed.mail import Transport
from cmsfeed.subscribers import Subscriber

log = logging.getLogger(__name__)


class ComposedMail:
    """`SubscriptionMail` over a composer and a transport. `allow_confirmation(email)` (when
    given) says whether the address may get another confirmation mail today: past its
    allowance nothing is sent, and the caller's page says the same as ever, so that a
    stranger never learns that someone signed this address up today."""

    def __init__(
        self,
        composer: DigestComposer,
        transport: Transport,
        allow_confirmation: Callable[[str], bool] | None = None,
    ) -> None:
        self.composer = composer
        self.transport = transport
        self.allow_confirmation = allow_confirmation

    async def send_confirmation(self, wanted: Subscriber, token: str, now: datetime) -> None:
        allow = self.allow_confirmation
        if allow is not None and not await asyncio.to_thread(allow, wanted.email):
            log.warning("confirmation to %s not sent: today's allowance is spent", wanted.email)
            return
        composer = self.composer
        url = link(composer.renderer.site.base_url, "confirm", token)
        rendered = composer.renderer.confirmation(wanted.language, url)
        message_id = f"<confirm.{token[-24:]}@{composer.domain}>"
        raw = composer.compose(rendered, wanted.email, message_id, now)
        await self.transport.send(composer.sender.address, wanted.email, raw)

    async def send_welcome(self, subscriber: Subscriber, now: datetime) -> None:
        composer = self.composer
        personal = composer.personal(subscriber)
        rendered = composer.renderer.welcome(subscriber, personal)
        message_id = f"<welcome.{subscriber.id}.{subscriber.version}@{composer.domain}>"
        raw = composer.compose(
            rendered, subscriber.email, message_id, now, personal.unsubscribe_url
        )
        await self.transport.send(composer.sender.address, subscriber.email, raw)
