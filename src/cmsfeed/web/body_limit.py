"""Request bodies are limited while they are read. A pure ASGI middleware; no I/O of its own.

A request that declares a `Content-Length` over the limit is answered 413 at once, unread. A
body without one (chunked) is counted chunk by chunk as the application pulls it: the chunk
that passes the limit is never handed on, the application's read ends with `BodyTooLarge`,
and the client gets 413 if no answer has started. So no more than the limit and one chunk
(uvicorn reads 64 KiB at a time) is ever held, whatever the client sends; uvicorn stops
reading the socket while the application is not pulling.
"""

from __future__ import annotations

from typing import Any

BODY_LIMIT = 64 * 1024  # bytes: a sign-up form is well under 4 KiB


class BodyTooLarge(Exception):
    """The request body passed the limit (raised into the application's read)."""


class BodyLimit:
    def __init__(self, app: Any, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope["headers"])
        if declared is not None and declared > self.limit:
            await _too_large(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(f"request body over {self.limit} bytes")
            return message

        async def watched_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(send)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # uvicorn has refused such a request before it got here
    return None


async def _too_large(send: Any) -> None:
    body = b"Request body too large\n"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
