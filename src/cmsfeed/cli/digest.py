"""`cmsfeed digest`: run a round by hand, look at the outbox, preview a subscriber's digest."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from cmsfeed.cli.app import Context, cli, pass_context, reports_errors
from cmsfeed.delivery import Delivery, RoundReport, run_round
from cmsfeed.digest.select import choose_items, message_id, window_start
from cmsfeed.errors import SubscriberError
from cmsfeed.lease_owner import is_running
from cmsfeed.model import Clock
from cmsfeed.store.outbox import CAUSES, STATUSES
from cmsfeed.subscriptions.starting_list import import_configured
from cmsfeed.wiring import build_delivery

FORMATS = click.Choice(["table", "json"])


@cli.group()
def digest() -> None:
    """Send digest rounds, see the outbox, preview what a subscriber gets."""


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("expected an ISO time such as 2024-12-02T08:00:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def fixed_clock(now: datetime) -> Clock:
    return lambda: now


def configured_delivery(context: Context, clock: Clock) -> Delivery:
    """Digest delivery as config.toml sets it, its subscribers imported first."""
    digests = context.store
    import_configured(context.config, digests, clock())
    return build_delivery(context.config, digests, clock, context.environ)


@digest.command("send")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-TIME",
    help="Run the round as if it were this time (default: now).",
)
@pass_context
@reports_errors
def send_digests(context: Context, now_text: str | None) -> None:
    """Build and send every digest due now; return when the round is done."""
    now = parse_now(now_text)
    delivery = configured_delivery(context, fixed_clock(now) if now else context.clock)

    async def round_once() -> RoundReport:
        try:
            return await run_round(delivery)
        finally:
            await delivery.transport.close()

    report = asyncio.run(round_once())
    click.echo(report.summary())
    if report.paused:  # the mail server is at fault: the operator must act (exit 1)
        raise SystemExit(1)


@digest.command("status")
@click.option("--format", "output", type=FORMATS, default="table", show_default=True)
@pass_context
@reports_errors
def digest_status(context: Context, output: str) -> None:
    """The outbox by status, why digests failed or were cancelled, a paused mail server, the
    rows in flight by owner, and the last errors."""
    status = context.store.outbox_status()
    running = {
        holder.lease: _running(holder.host, holder.pid, holder.started)
        for holder in status.in_flight
    }
    if output == "json":
        data = _iso(asdict(status))
        for holder in data["in_flight"]:
            holder["running"] = running[holder["lease"]]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(*STATUSES, "suspended subscribers")
    table.add_row(*(str(status.counts.get(k, 0)) for k in STATUSES), str(status.suspended))
    context.out.print(table)
    for pause in status.pauses:
        context.out.print(
            f"paused: {pause.reply} (server {pause.server}, since {pause.since_at:%Y-%m-%d %H:%M}"
            f" UTC, {pause.failures} failed tries, next try at {pause.next_probe_at:%H:%M:%S} UTC)",
            markup=False,
        )
    for reason in status.reasons:
        meaning = CAUSES.get(reason.cause or "", "cause not recorded (before 0006)")
        cause = reason.cause or "-"
        context.out.print(
            f"{reason.status} {reason.count}: {cause}: {meaning}; e.g. {reason.example}",
            markup=False,
        )
    for holder in status.in_flight:
        alive = {True: "running", False: "not running: reclaimed at once", None: "elsewhere"}
        until = f"{holder.lease_until:%Y-%m-%d %H:%M:%S} UTC" if holder.lease_until else "-"
        context.out.print(
            f"in flight {holder.rows}: {holder.host} pid {holder.pid} "
            f"({alive[running[holder.lease]]}), lease until {until}",
            markup=False,
        )
    for error in status.last_errors:
        context.out.print(
            f"{error.email} {error.period} {error.status}: {error.error}", markup=False
        )


def _running(host: str | None, pid: int | None, started: str | None) -> bool | None:
    if host is None or pid is None or started is None:
        return None
    return is_running(host, pid, started)


def _iso(value: Any) -> Any:
    """Dates as ISO 8601 strings, through dicts and lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso(item) for item in value]
    return value


@digest.command("retry")
@pass_context
@reports_errors
def retry_digests(context: Context) -> None:
    """Queue again the failed and cancelled digests whose cause was not the subscriber
    (a refusal by policy, retries used up, or a row failed before causes were recorded),
    when the subscriber is active. Bounced addresses stay failed: see `subscribers reactivate`."""
    count = context.store.retry_failed(context.clock())
    click.echo(f"{count} digest(s) queued again")


@digest.command("preview")
@click.option("--subscriber", "email", required=True, metavar="EMAIL")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
)
@click.option("--now", "now_text", metavar="ISO-TIME")
@pass_context
@reports_errors
def preview_digest(context: Context, email: str, out_dir: Path, now_text: str | None) -> None:
    """Write the .eml and .html of what EMAIL would get now; nothing is sent or recorded."""
    now = parse_now(now_text) or context.clock()
    delivery = configured_delivery(context, fixed_clock(now))
    subscriber = delivery.digests.get_subscriber(email)
    if subscriber is None:
        raise SubscriberError(email, "no such subscriber (see `cmsfeed subscribers list`)")
    start = window_start(subscriber, now)
    candidates = delivery.digests.available_items(start, now, [subscriber.language])
    covered = delivery.digests.covered_items([subscriber.id], start).get(subscriber.id, set())
    items = choose_items(subscriber, candidates, covered, now)
    composer = delivery.composer
    rendered, raw = composer.digest_message(
        subscriber, items, message_id(subscriber, "preview", composer.domain), now, now
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"digest-{subscriber.id}"
    stem.with_suffix(".eml").write_bytes(raw)
    stem.with_suffix(".html").write_text(rendered.html, encoding="utf-8")
    click.echo(f"{len(items)} item(s): {stem}.eml, {stem}.html")
