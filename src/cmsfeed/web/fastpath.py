"""The hot path: GET and HEAD of a rendered file, answered straight from memory.

A plain ASGI middleware in front of the Starlette routes: a request for a path the
`FeedService` holds (no query string) is answered with headers prepared once per file and
content coding; everything else goes on to the routes. The rules are those of
`resources` (the same as the `respond` of the routes), only without building Request and
Response objects, which costs more than the answer itself for a cached feed.
"""

from __future__ import annotations

from typing import Any

from cmsfeed.web.address import SCOPE_KEY, FeedServices
from cmsfeed.web.resources import Resource, choose_encoding, is_not_modified

_ENCODINGS: dict[bytes, str] = {}


class CachedFiles:
    def __init__(self, app: Any, services: FeedServices, max_age: int) -> None:
        self.app = app
        self.services = services
        self.cache_control = f"public, max-age={max_age}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("query_string")
        ):
            path = scope["path"][1:]
            if path == "" or path.endswith("/"):
                path += "index.html"
            # Most requests name no proxy address: the listening one's site, without an await.
            service = (
                await self.services.for_scope(scope)
                if SCOPE_KEY in scope
                else self.services.default
            )
            resource = service.resource(path)
            if resource is not None:
                await self._answer(resource, scope, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, resource: Resource, scope: Any, send: Any) -> None:
        accept = b""
        conditions: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept = value
            elif name in (b"if-none-match", b"if-modified-since"):
                conditions[name.decode()] = value.decode("latin-1")
        encoding = _ENCODINGS.get(accept)
        if encoding is None:
            encoding = choose_encoding(accept.decode("latin-1"))
            if len(_ENCODINGS) < 256:
                _ENCODINGS[accept] = encoding
        headers = resource.raw_headers(encoding, self.cache_control)
        if conditions and is_not_modified(resource.content_hash, resource.changed_at, conditions):
            await send({"type": "http.response.start", "status": 304, "headers": headers[0]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers[1]})
        body = b"" if scope["method"] == "HEAD" else resource.body_for(encoding)
        await send({"type": "http.response.body", "body": body})
