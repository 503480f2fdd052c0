"""Second thoughts on the unsubscribe pages: "weekly instead", and "undo". Does I/O (store).

The unsubscribe page offers a weekly digest instead (`POST /weekly?token=...`, on the page's
own unsubscribe token: it asks less than unsubscribing, which that token already allows).
The page after unsubscribing offers an undo (`POST /undo?token=...`) on a token of its own,
good for a day and handed only to whoever ended an active subscription, so pressing an old
unsubscribe link again gives nobody a way to sign the reader back up. An undo never brings
back a subscriber who was suspended or who complained of spam.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmsfeed.digest.links import make_token, read_token
from cmsfeed.errors import TokenError
from cmsfeed.subscribers import Subscriber

if TYPE_CHECKING:
    from cmsfeed.web.subscriptions import SubscriptionPages

UNDO_FOR = timedelta(days=1)


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


def undo_offer(pages: SubscriptionPages, before: Subscriber | None) -> list[dict[str, str]]:
    """The undo offered after an unsubscribe; `before` is the subscriber as they were."""
    if before is None or before.status != "active":
        return []
    token = make_token(pages.composer.secret, "undo", before.id, pages.clock() + UNDO_FOR)
    return [
        {
            "text": pages.translate(before.language, "Unsubscribed by mistake?"),
            "action": "undo?" + urlencode({"token": token}),
            "button": pages.translate(before.language, "Undo"),
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

    async def undo(request: Request) -> Response:
        found = subscriber_of(request, "undo")
        if found is None:
            return pages.bad_link(pages.language_of(request))
        if found.status == "unsubscribed" and (pages.digests.complained_at(found.email) is None):
            found = pages.digests.save_subscriber(replace(found, status="active"), pages.clock())
        if found.status != "active":
            return pages.bad_link(found.language)
        return pages.message(
            found.language,
            pages.translate(found.language, "You are still subscribed"),
            pages.composer.renderer.why(found),
        )

    return [
        Route("/weekly", weekly, methods=["POST"]),
        Route("/undo", undo, methods=["POST"]),
    ]
