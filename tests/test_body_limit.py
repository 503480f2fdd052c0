"""Request bodies are limited while they are read: a real uvicorn server, a client streaming
10 MiB, and the bytes the application was handed (and the memory the process took) counted."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsfeed.store import Store
from cmsfeed.web.body_limit import BODY_LIMIT, BodyLimit
from support.clock import FixedClock
from support.config import digest_config
from support.signup import csrf_of, serving, signup_app
from support.smtp_server import SmtpServer

MIB = 1024 * 1024
CHUNK = 16 * 1024


def stream(total: int) -> Iterator[bytes]:
    """A body sent in chunks without a Content-Length (chunked transfer encoding)."""
    sent = 0
    while sent < total:
        piece = min(CHUNK, total - sent)
        sent += piece
        yield b"email=" + b"x" * (piece - 6) if sent == piece else b"x" * piece


class Reader:
    """An application that reads the whole body, as a form handler does, and counts it."""

    def __init__(self) -> None:
        self.received = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]  # lifespan.startup, then .shutdown
                await send({"type": f"{event}.complete"})
                if event == "lifespan.shutdown":
                    return
        while True:
            message = await receive()
            self.received += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = str(self.received).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("size", [0, 100, BODY_LIMIT])
def test_a_body_within_the_limit_reaches_the_application_whole(size: int) -> None:
    reader = Reader()
    with serving(BodyLimit(reader)) as base:
        answer = httpx.post(base + "/", content=b"x" * size)
        chunked = httpx.post(base + "/", content=stream(size))
    assert answer.status_code == chunked.status_code == 200
    assert answer.text == str(size) and reader.received == 2 * size


def test_a_streamed_body_past_the_limit_is_cut_off_while_read() -> None:
    reader = Reader()
    with serving(BodyLimit(reader)) as base:
        answer = httpx.post(base + "/", content=stream(10 * MIB), timeout=30)
    assert answer.status_code == 413
    # The chunk that passed the limit was never handed on: the application got at most the
    # limit, whatever the client sent (uvicorn reads at most 64 KiB at a time).
    assert reader.received <= BODY_LIMIT


def test_a_declared_length_past_the_limit_is_refused_unread() -> None:
    reader = Reader()
    with serving(BodyLimit(reader)) as base:
        answer = httpx.post(
            base + "/",
            content=stream(BODY_LIMIT + 1),
            headers={"content-length": str(BODY_LIMIT + 1)},
        )
    assert answer.status_code == 413 and reader.received == 0


def test_ten_mebibytes_to_the_sign_up_form_cost_no_memory(tmp_path: Path) -> None:
    clock = FixedClock()
    with SmtpServer() as smtp:
        config = digest_config(tmp_path, smtp.port)
        store = Store.open(config.store.url)
        with (
            serving(signup_app(config, store, clock, smtp.port)) as base,
            httpx.Client(base_url=base, timeout=30) as web,
        ):
            csrf = csrf_of(web.get("/subscribe"))
            headers = {"content-type": "application/x-www-form-urlencoded"}
            tracemalloc.start()
            try:
                answer = web.post("/subscribe", content=stream(10 * MIB), headers=headers)
                _current, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert answer.status_code == 413
            assert peak < 2 * MIB  # server and client together, in this process
            # The server is none the worse: a real sign-up goes through.
            ok = web.post("/subscribe", data={"email": "after@example.org", "csrf": csrf})
            assert ok.status_code == 200
        store.close()
    assert len(smtp.handler.to("after@example.org")) == 1
