"""Second thoughts on the unsubscribe pages: "weekly instead", and "undo". Does I/O (store).

The unsubscribe page offers a weekly digest instead (`POST /weekly?token=...`, on the page's
own unsubscribe token: it asks less than unsubscribing, which that token already allows).
The page after unsubscribing offers an undo (`POST /resubscribe?token=...`): the service's
resubscribe token, handed only to whoever ended an active subscription and good only while
nothing changed since (subscriptions/service.py), so pressing an old unsubscribe link again
gives nobody a way to sign the reader back up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmsfeed.digest.links import read_token
from cmsfeed.errors import TokenError
from cmsfeed.subscribers import Subscriber

if TYPE_CHECKING:
    from cmsfeed.web.subscriptions import SubscriptionPages


def weekly_offer(
    pages: SubscriptionPages, subscriber: Subscriber | None, token: str
) -> list[dict[str, str]]:
    """The unsubscribe page's offer of a weekly digest (none to a weekly reader)."""
    if subscriber is None or subscriber.frequency == "weekly":
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

    def subscriber_of(request: Request, purpose: Any) -> Subscriber | None:
        try:
            found = read_token(
                pages.composer.secret, request.query_params.get("token", ""), purpose, pages.clock()
            )
        except TokenError:
            return None
        return pages.digests.get_subscriber(found) if isinstance(found, str) else None

    async def weekly(request: Request) -> Response:
        found = subscriber_of(request, "unsubscribe")
        if found is None:
            return pages.bad_link(pages.language_of(request))
        # The status is kept: an unsubscribed reader comes back by signing up.
        saved = pages.digests.save_subscriber(replace(found, frequency="weekly"), pages.clock())
        language = saved.language
        return pages.message(
            language, pages.translate(language, "Saved"), pages.composer.renderer.why(saved)
        )

    return [
        Route("/weekly", weekly, methods=["POST"]),
    ]
