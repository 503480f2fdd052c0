"""Composing the messages cmsfeed sends: a queued digest, a confirmation, a welcome, as bytes
ready for a transport. Pure: no I/O, `now` is a parameter, and every value comes in as a plain
field (the composition root, cmsfeed.wiring, builds a `DigestComposer` from config.toml).

A digest carries signed links made with the site's secret (unsubscribe, preferences, its web
copy), List-Id and List-Unsubscribe, and a DKIM signature when a key is given. Its envelope
sender is either the From address or, with VERP, an address naming its outbox row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cmsfeed.bounces.verp import verp_address
from cmsfeed.digest.links import preferences_link, unsubscribe_link, view_link
from cmsfeed.digest.message import DkimKey, Sender, build_message, message_bytes
from cmsfeed.digest.render import EmailRenderer, Personal, RenderedEmail, personalise
from cmsfeed.model import Item
from cmsfeed.subscribers import Subscriber


@dataclass(frozen=True)
class DigestComposer:
    """Turns what a reader gets into the message they receive.

    `bounce_address` is the VERP mailbox (`[bounces] verp`), or None for a plain envelope
    sender; `list_id` is the List-Id header every digest and welcome carries.
    """

    renderer: EmailRenderer
    secret: bytes
    sender: Sender
    list_id: str
    dkim_key: DkimKey | None = None
    bounce_address: str | None = None

    @property
    def domain(self) -> str:
        """The right-hand side of the Message-IDs cmsfeed makes: the From address's domain."""
        return self.sender.address.rpartition("@")[2] or "localhost"

    def envelope_sender(self, outbox_id: int) -> str:
        """MAIL FROM of a digest: with VERP, an address naming its row (bounces/verp.py)."""
        if self.bounce_address is None:
            return self.sender.address
        return verp_address(self.secret, outbox_id, self.bounce_address)

    def personal(self, subscriber: Subscriber) -> Personal:
        """The reader's own links and the line saying why they get this."""
        base = self.renderer.site.base_url
        return Personal(
            unsubscribe_link(base, self.secret, subscriber.id),
            preferences_link(base, self.secret, subscriber.id),
            self.renderer.why(subscriber),
        )

    def compose(
        self,
        rendered: RenderedEmail,
        to: str,
        message_id: str,
        now: datetime,
        unsubscribe_url: str | None = None,
    ) -> bytes:
        """The message as bytes; list headers only on mail that can be unsubscribed from."""
        raw = build_message(
            rendered,
            sender=self.sender,
            to=to,
            message_id=message_id,
            now=now,
            list_id=self.list_id if unsubscribe_url else None,
            unsubscribe_url=unsubscribe_url,
        )
        return message_bytes(raw, self.dkim_key)

    def digest_message(
        self,
        subscriber: Subscriber,
        items: list[Item],
        message_id: str,
        covered_at: datetime,
        now: datetime,
    ) -> tuple[RenderedEmail, bytes]:
        """A digest of `items` for `subscriber`: the rendered email and the message bytes."""
        personal = replace(
            self.personal(subscriber),
            view_url=view_link(
                self.renderer.site.base_url, self.secret, subscriber, items, covered_at
            ),
        )
        rendered = personalise(self.renderer.digest(subscriber, items, covered_at), personal)
        return rendered, self.compose(
            rendered, subscriber.email, message_id, now, personal.unsubscribe_url
        )


__all__ = ["DigestComposer"]
