"""A digest as a web page ("view in your browser"), at the signed URL each digest carries.

Does I/O (reads the subscriber and the items from the store). Nothing is kept per message:
the token (`cmsfeed.digest.links.view_link`) names the subscriber, the language and topics
the digest was for, its items and its time, and the page renders the same body again. A
story removed since is left out; a subscriber removed since gets the "link does not work"
page. The page carries the subscriber's own preference and unsubscribe links, as the email
did, so it is never cached or indexed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from cmsfeed.digest.links import read_token
from cmsfeed.digest.render import personalise
from cmsfeed.errors import TokenError
from cmsfeed.i18n import TEMPLATES

if TYPE_CHECKING:
    from cmsfeed.digest.compose import DigestComposer
    from cmsfeed.model import Clock
    from cmsfeed.store import Store
    from cmsfeed.web.subscriptions import SubscriptionPages


def archive_routes(
    composer: DigestComposer, digests: Store, clock: Clock, pages: SubscriptionPages
) -> list[BaseRoute]:
    # The site's icon, as its pages have it: a browser asks for /favicon.ico otherwise.
    icon = (TEMPLATES / "web" / "icon.html").read_text(encoding="utf-8").strip()

    async def digest_page(request: Request) -> Response:
        token = request.query_params.get("token", "")
        try:
            data = read_token(composer.secret, token, "view", clock())
            subscriber_id, language, topics, item_ids, covered_at = _fields(data)
        except (TokenError, ValueError, TypeError):
            return pages.bad_link(pages.language_of(request))
        found = digests.get_subscriber(subscriber_id)
        if found is None:
            return pages.bad_link(pages.language_of(request))
        subscriber = replace(found, language=language, topics=tuple(topics))
        stored = digests.get_items(item_ids)
        items = [stored[item_id] for item_id in item_ids if item_id in stored]
        rendered = composer.renderer.digest(subscriber, items, covered_at)
        personal = replace(composer.personal(subscriber), view_url=None)  # not a link to itself
        return HTMLResponse(
            personalise(rendered, personal).html.replace("</head>", f"{icon}\n</head>", 1),
            headers={"cache-control": "no-store", "x-robots-tag": "noindex"},
        )

    return [Route("/digest", digest_page, methods=["GET", "HEAD"])]


def _fields(data: Any) -> tuple[str, str, list[str], list[str], datetime]:
    subscriber_id, language, topics, item_ids, covered_at = data
    if not (
        isinstance(subscriber_id, str)
        and isinstance(language, str)
        and all(isinstance(t, str) for t in topics)
        and all(isinstance(i, str) for i in item_ids)
    ):
        raise ValueError("malformed digest token")
    return subscriber_id, language, list(topics), list(item_ids), datetime.fromisoformat(covered_at)
