"""Second thoughts on the unsubscribe pages: "weekly instead", and "undo". Does I/O (store).

The unsubscribe page offers an active reader a weekly digest instead (`POST /weekly?token=...`,
on the page's own unsubscribe token: it asks less than unsubscribing, which that token already
allows; the service's `weekly_instead` makes the change, bound to the reader's version).
The page after unsubscribing offers an undo (`POST /resubscribe?token=...`): the service's
resubscribe token, handed only to whoever ended an active subscription and good only while
nothing changed since (subscriptions/service.py), so pressing an old unsubscribe link again
gives nobody a way to sign the reader back up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmsfeed.subscribers import Subscriber

if TYPE_CHECKING:
    from cmsfeed.web.subscriptions import SubscriptionPages


def weekly_offer(
    pages: SubscriptionPages, subscriber: Subscriber | None, token: str
) -> list[dict[str, str]]:
    """The unsubscribe page's offer of a weekly digest (none to a weekly reader, nor to one
    who is no longer subscribed)."""
    if subscriber is None or subscriber.status != "active" or subscriber.frequency == "weekly":
        return []
    language = subscriber.language
    return [
        {
            "text": pages.translate(language, "Too many emails? Get one digest a week."),
            "action": "weekly?" + urlencode({"token": token}),
            "button": pages.translate(language, "Weekly instead"),
        }
    ]


def undo_offer(pages: SubscriptionPages, language: str, token: str) -> list[dict[str, str]]:
    """The undo offered after an unsubscribe, on the service's resubscribe `token`."""
    return [
        {
            "text": pages.translate(language, "Unsubscribed by mistake?"),
            "action": "resubscribe?" + urlencode({"token": token}),
            "button": pages.translate(language, "Undo"),
        }
    ]


def second_thought_routes(pages: SubscriptionPages) -> list[BaseRoute]:
    async def weekly(request: Request) -> Response:
        token = request.query_params.get("token", "")
        result = pages.service.weekly_instead(token, pages.clock())
        return pages.answer(result, result.language or pages.language_of(request))

    return [Route("/weekly", weekly, methods=["POST"])]
