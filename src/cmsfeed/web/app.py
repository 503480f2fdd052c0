"""The Starlette application: feeds, pages and /healthz. A thin adapter over `FeedService`.

`create_app` is a factory; other parts of cmsfeed add their routes through `extra_routes`
(they are matched before the catch-all that serves feeds and pages). Every feed and page
is answered from memory with a strong ETag, Last-Modified, 304s for both validators, HEAD,
gzip or brotli, and Cache-Control.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Sequence
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from cmsfeed.config import Config
from cmsfeed.feeds import urls as feed_urls
from cmsfeed.feeds.urls import FeedRequest, UnknownPathError, feed_path, parse_feed_path
from cmsfeed.metrics import RequestMetrics, exposition
from cmsfeed.model import Clock, SiteInfo
from cmsfeed.store import Store
from cmsfeed.web.address import FeedServices, PublicAddress
from cmsfeed.web.body_limit import BodyLimit
from cmsfeed.web.fastpath import CachedFiles
from cmsfeed.web.resources import Resource, choose_encoding, is_not_modified
from cmsfeed.web.service import FeedService

log = logging.getLogger(__name__)
METHODS = ["GET", "HEAD"]


def create_app(
    config: Config,
    store: Store,
    clock: Clock,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    poll: bool = True,
    hub_client: httpx.Client | None = None,
    served_base: str | None = None,
    signup_here: bool = False,
) -> Starlette:
    """The web application; `poll=False` leaves refreshing to the caller (`app.state.feeds`).

    Links follow `site.base_url`, else `served_base` (the address listened on), else for a
    request from `web.trusted_proxies` the address the proxy names (`cmsfeed.web.address`).
    `signup_here`: the app has the sign-up routes, so the "Email digest" buttons lead to them.
    """
    site = config.site_info(served_base, signup_here=signup_here)
    service = FeedService(site, store, clock, hub_client=hub_client)

    def at(base: str) -> FeedService:
        signup = base + "subscribe" if signup_here else site.signup_url
        moved = dataclasses.replace(site, base_url=base, signup_url=signup)
        return FeedService(moved, store, clock, hub_client=hub_client)

    services = FeedServices(service, at)
    max_age = config.feeds.max_age_seconds
    refresh_seconds = config.feeds.refresh_seconds

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(service.refresh_if_changed)
        task = asyncio.create_task(_poll(services, refresh_seconds)) if poll else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes: list[BaseRoute] = [
        Route("/healthz", _healthz(service), methods=METHODS),
        Route("/metrics", _metrics, methods=METHODS),
        *extra_routes,
        Route("/feeds/custom.{ext}", _custom(services, max_age), methods=METHODS),
        Route("/{path:path}", _files(services, max_age), methods=METHODS),
    ]
    # A configured base_url is the public address whatever a proxy says.
    trusted = config.web.is_trusted if config.site.base_url is None else (lambda _: False)
    proxied = (
        [Middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.web.trusted_proxies))]
        if config.web.trusted_proxies
        else []
    )
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(RequestMetrics),  # outermost: sees every answer
            Middleware(BodyLimit),  # 413 before more than 64 KiB of a body is held
            Middleware(PublicAddress, is_trusted=trusted),
            # Then the client's address (sign-up rate limit) and scheme, from the same proxies.
            *proxied,
            Middleware(CachedFiles, services=services, max_age=max_age),
        ],
    )
    app.state.feeds = service
    app.state.services = services
    return app


async def _metrics(_request: Request) -> Response:
    """Prometheus metrics of this process (see `cmsfeed.metrics`); keep it off the public
    site (the nginx example in docs/deployment.md only lets the monitoring network in)."""
    body, media_type = exposition()
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})


async def _poll(services: FeedServices, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            for service in services.all():
                await run_in_threadpool(service.refresh_if_changed)
        except Exception:  # a failed refresh keeps serving the last feeds; try again later
            log.exception("refreshing the feeds failed; serving the previous ones")


def _healthz(service: FeedService):  # type: ignore[no-untyped-def]
    async def healthz(_request: Request) -> Response:
        snapshot = service.snapshot
        if snapshot is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "files": len(snapshot.resources),
                "changed_at": snapshot.changed_at.isoformat(),
                "refreshed_at": snapshot.refreshed_at.isoformat(),
            },
            headers={"cache-control": "no-store"},
        )

    return healthz


def _files(services: FeedServices, max_age: int):  # type: ignore[no-untyped-def]
    async def files(request: Request) -> Response:
        service = await services.for_scope(request.scope)
        path = request.path_params["path"]
        if path == "" or path.endswith("/"):
            path += "index.html"
        resource = service.resource(path)
        if resource is None:
            return _not_found(service.site, path)
        return respond(request, resource, max_age)

    return files


def _custom(services: FeedServices, max_age: int):  # type: ignore[no-untyped-def]
    async def custom(request: Request) -> Response:
        service = await services.for_scope(request.scope)
        query = parse_qs(request.url.query)
        path = f"feeds/custom.{request.path_params['ext']}"
        try:
            asked = parse_feed_path(
                path, ",".join(query.get("topics", [])), next(iter(query.get("lang", [])), None)
            )
        except UnknownPathError as err:
            return _help(service.site, str(err))
        problem = _unknown(service.site, asked)
        if problem:
            return _help(service.site, problem)
        canonical = feed_path(asked.selection, asked.format)
        if canonical != f"{path}?{request.url.query}":
            return RedirectResponse(service.site.url(canonical), status_code=301)
        resource = await run_in_threadpool(service.custom_feed, asked.selection, asked.format)
        return respond(request, resource, max_age)

    return custom


def respond(request: Request, resource: Resource, max_age: int) -> Response:
    encoding = choose_encoding(request.headers.get("accept-encoding"))
    headers = {
        "etag": resource.etag(encoding),
        "last-modified": resource.last_modified,
        "cache-control": f"public, max-age={max_age}",
        "vary": "Accept-Encoding",
    }
    if is_not_modified(resource.content_hash, resource.changed_at, request.headers):
        return Response(status_code=304, headers=headers)
    body = resource.body_for(encoding)
    if encoding != "identity":
        headers["content-encoding"] = encoding
    headers["content-length"] = str(len(body))
    headers["content-type"] = resource.media_type
    return Response(b"" if request.method == "HEAD" else body, headers=headers)


def _unknown(site: SiteInfo, asked: FeedRequest) -> str | None:
    unknown = [topic for topic in asked.selection.topics if topic not in site.topic_names]
    if unknown:
        return f"unknown topic {', '.join(map(repr, unknown))}"
    language = asked.selection.language
    if language is not None and language not in site.languages:
        return f"unknown language {language!r}"
    return None


def _not_found(site: SiteInfo, path: str) -> Response:
    problem = "no such page"
    if path.startswith("feeds/"):
        try:
            problem = _unknown(site, parse_feed_path(path)) or problem
        except UnknownPathError as err:
            problem = str(err)
    return _help(site, f"/{path}: {problem}")


def _help(site: SiteInfo, problem: str) -> Response:
    lines = [
        f"Not found: {problem}.",
        "",
        f"Topics: {', '.join([feed_urls.ALL, *site.topic_ids])}",
        f"Languages: {', '.join([feed_urls.ALL, *site.languages])}",
        "Formats: atom, rss, json, html",
        f"Feeds: {site.base_url}feeds/{{topic}}/{{language}}.{{format}}, "
        f"e.g. {site.base_url}feeds/all/{site.default_language}.atom",
        f"Several topics: {site.base_url}feeds/custom.atom?topics=a,b&lang={site.default_language}",
        f"Every feed, with subscribe links: {site.base_url}",
    ]
    return PlainTextResponse(
        "\n".join(lines) + "\n", status_code=404, headers={"cache-control": "no-store"}
    )
