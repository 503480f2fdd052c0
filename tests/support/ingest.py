"""A real HTTP server for ingest tests: uvicorn serving a small Starlette app in a thread.

The app serves fixture files from tests/data/sources/ with ETag and Last-Modified and answers
a matching conditional request with 304; it also fails on purpose (HTTP 500, a slow answer).
Every request is recorded, so tests can check what cmsfeed sent.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"
LAST_MODIFIED = "Mon, 02 Dec 2024 10:00:00 GMT"
# How long /slow keeps a client waiting at most; the test's timeout is far shorter.
SLOW_SECONDS = 10.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class NewsServer:
    """What the server saw; `url(path)` is the address of one of its pages."""

    base_url: str = ""
    requests: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def seen(self, path: str) -> list[Seen]:
        return [request for request in self.requests if request.path == path]

    @property
    def conditional_hits(self) -> int:
        """Requests answered 304 Not Modified."""
        return sum(1 for request in self.requests if request.status == 304)


CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".jsonl": "application/x-ndjson",
}


def make_app(server: NewsServer) -> Starlette:
    def record(request: Request, status: int) -> None:
        server.requests.append(Seen(request.url.path, dict(request.headers), status))

    async def fixture(request: Request) -> Response:
        path = SOURCES / request.path_params["name"]
        if not path.is_file():
            record(request, 404)
            return Response("not found", status_code=404)
        body = path.read_bytes()
        etag = f'"{len(body):x}-{hash(body) & 0xFFFFFF:x}"'
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("if-none-match") == etag:
            record(request, 304)
            return Response(status_code=304, headers=validators)
        record(request, 200)
        return Response(
            body,
            headers=validators,
            media_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
        )

    async def broken(request: Request) -> Response:
        record(request, 500)
        return Response("database is down", status_code=500)

    async def slow(request: Request) -> Response:
        record(request, 200)
        # The server is slow, not the test: it answers when released or after SLOW_SECONDS.
        await asyncio.to_thread(server.release.wait, SLOW_SECONDS)
        return Response("too late", media_type="text/plain")

    return Starlette(
        routes=[
            Route("/sources/{name}", fixture),
            Route("/broken", broken),
            Route("/slow", slow),
        ]
    )


@contextmanager
def running_server() -> Iterator[NewsServer]:
    """Start the server on a free port of 127.0.0.1; stop it (and release slow answers) after."""
    state = NewsServer()
    # Binding the socket here means the port is known and accepting before the thread runs.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    host, port = listener.getsockname()
    state.base_url = f"http://{host}:{port}"
    config = uvicorn.Config(
        make_app(state), log_level="warning", lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
