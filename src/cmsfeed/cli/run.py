"""`cmsfeed run`: the main job. Ingest once (with progress and a summary), then serve the web
app and run the scheduler (ingest, digest rounds, retries) in one process until SIGTERM or
Ctrl-C, which stop taking new work and let in-flight sends finish."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import click

from cmsfeed.bounce_mailbox import read_bounce_maildir
from cmsfeed.cli.app import Context, cli, pass_context, reports_errors
from cmsfeed.cli.ingest import print_report, run_ingest
from cmsfeed.config import Config
from cmsfeed.delivery import Delivery, run_round, send_outbox
from cmsfeed.jobs import ingest_and_publish
from cmsfeed.log import configure_logging, fields
from cmsfeed.scheduler import Scheduler, schedule_keys
from cmsfeed.subscriptions.starting_list import import_configured
from cmsfeed.web.address import listening_base, mismatch_warning, proxied_emails_warning
from cmsfeed.wiring import build_delivery, build_ingester

log = logging.getLogger("cmsfeed.run")


@cli.command()
@click.option("--host", help="Address to listen on (default: site.base_url's, else 127.0.0.1).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port to listen on (default: site.base_url's, else 8080).",
)
@pass_context
@reports_errors
def run(context: Context, host: str | None, port: int | None) -> None:
    """Ingest, then serve the site and send digests on schedule until stopped."""
    configured = context.config.site.base_url
    url = urlsplit(configured or "http://127.0.0.1:8080/")
    host = host or url.hostname or "127.0.0.1"
    port = port or url.port or (443 if url.scheme == "https" else 80)
    served = listening_base(host, port)
    # Emails need an absolute address: with no base_url, the one this process answers at.
    config = context.config.served_at(served)
    # Subscribers first, so that what this ingest finds is new to them.
    digests = context.store
    count = import_configured(context.config, digests, context.clock())
    report = run_ingest(context)
    print_report(report, context.out, context.err)
    delivery = build_delivery(config, digests, context.clock, context.environ)
    smtp = context.config.smtp
    where = (
        f"SMTP {smtp.host}:{smtp.port}"
        if smtp.host
        else f"the Maildir {context.config.digests.maildir}"
    )
    context.out.print(f"{count} new subscriber(s) from config.toml; digests go to {where}")
    for warning in (
        mismatch_warning(configured, served),
        proxied_emails_warning(configured, context.config.web.trusted_proxies, served),
    ):
        if warning:
            context.err.print(warning, markup=False)
    context.out.print(
        f"serving {served} (sign-up at {config.site.base_url}subscribe); Ctrl-C or SIGTERM stops",
        markup=False,
    )
    configure_logging(context.config.log.format, context.config.log.level)
    asyncio.run(serve_and_schedule(context, config, delivery, host, port))


def bounce_job(
    context: Context, secret: bytes, stop: asyncio.Event
) -> Callable[[], Awaitable[None]] | None:
    """The scheduled read of `[bounces] maildir`, when one is set."""
    maildir = context.config.bounces.maildir
    if maildir is None:
        return None
    reported: set[str] = set()  # a message left in new/ is logged once per process

    async def read_bounces() -> None:
        if not stop.is_set():
            await asyncio.to_thread(
                read_bounce_maildir, context.config, context.store, secret, context.clock, reported
            )

    return read_bounces


async def serve_and_schedule(
    context: Context, config: Config, delivery: Delivery, host: str, port: int
) -> None:
    import uvicorn

    from cmsfeed.web import create_app
    from cmsfeed.web.subscriptions import subscription_routes

    stop = asyncio.Event()
    busy = asyncio.Lock()  # one round at a time; taken at shutdown to wait for in-flight sends

    async def digest_round() -> None:
        if stop.is_set():
            return
        async with busy:
            report = await run_round(delivery, stop=stop)
        log.info(
            "digest round",
            extra=fields(
                due=report.due,
                queued=report.queued,
                empty=report.empty,
                sent=report.sent,
                retried=report.retried,
                failed=report.failed,
                suspended=report.suspended,
                cancelled=report.cancelled,
                held=report.held,
                paused=report.paused.reply if report.paused else None,
            ),
        )

    async def retry() -> None:
        if not stop.is_set():
            async with busy:
                await send_outbox(delivery, stop=stop)

    ingester = build_ingester(context.config, context.store, context.clock)  # models load once

    async def ingest() -> None:
        if stop.is_set():
            return
        result = await asyncio.to_thread(
            ingest_and_publish, ingester, app.state.feeds.refresh_if_changed
        )  # the server renders, once
        log.info(
            "ingest",
            extra=fields(
                inserted=result.counts.inserted,
                updated=result.counts.updated,
                rejected=result.rejected,
                failed_sources=len(result.failed_sources),
            ),
        )
        await digest_round()

    def schedules() -> set[str]:
        return {
            key
            for chunk in delivery.digests.iter_subscribers(["active"])
            for key in schedule_keys(chunk)
        }

    scheduler = Scheduler(
        ingest=ingest,
        digest_round=digest_round,
        retry=retry,
        schedules=schedules,
        ingest_minutes=context.config.ingest.interval_minutes,
        retry_seconds=context.config.digests.retry_seconds,
        bounces=bounce_job(context, delivery.composer.secret, stop),
        bounce_minutes=context.config.bounces.interval_minutes,
    )
    app = create_app(
        config,
        context.store,
        context.clock,
        extra_routes=subscription_routes(
            config, delivery.composer, delivery.digests, delivery.transport, delivery.clock
        ),
        signup_here=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level=context.config.log.level,
            # X-Forwarded-* are read by the app, from web.trusted_proxies only (create_app).
            proxy_headers=False,
        )
    )

    def request_stop(*_: object) -> None:
        stop.set()
        server.should_exit = True

    # Installed before uvicorn's own, so it is what uvicorn re-raises into after shutdown.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    await scheduler.start()
    catch_up = asyncio.create_task(digest_round())  # after downtime: one digest per gap
    try:
        await server.serve()
    finally:
        request_stop()
        scheduler.shutdown()
        await catch_up
        async with busy:  # in-flight sends finish before the transport closes
            await delivery.transport.close()
        log.info("stopped")
