"""The confirmation and welcome emails of the subscription service, rendered, composed and sent
through a `Mailer`'s pieces. Does I/O (the transport).

The service asks only for `SubscriptionMail` (subscriptions/service.py); this is the one built
from today's `Mailer`, so the pages and the CLI need not know how a message is made.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cmsfeed.digest.links import link
from cmsfeed.subscribers import Subscriber

if TYPE_CHECKING:
    from cmsfeed.delivery import Mailer


class MailerMessages:
    """`SubscriptionMail` over a Mailer: its renderer, composer, sender and transport."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    async def send_confirmation(self, wanted: Subscriber, token: str, now: datetime) -> None:
        mailer = self.mailer
        url = link(mailer.renderer.site.base_url, "confirm", token)
        rendered = mailer.renderer.confirmation(wanted.language, url)
        message_id = f"<confirm.{token[-24:]}@{mailer.domain}>"
        raw = mailer.compose(rendered, wanted.email, message_id, now)
        await mailer.transport.send(mailer.sender.address, wanted.email, raw)

    async def send_welcome(self, subscriber: Subscriber, now: datetime) -> None:
        mailer = self.mailer
        personal = mailer.personal(subscriber)
        rendered = mailer.renderer.welcome(subscriber, personal)
        message_id = f"<welcome.{subscriber.id}.{subscriber.version}@{mailer.domain}>"
        raw = mailer.compose(rendered, subscriber.email, message_id, now, personal.unsubscribe_url)
        await mailer.transport.send(mailer.sender.address, subscriber.email, raw)
