"""`cmsfeed subscribers`: the operator's view of who gets digests."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click

from cmsfeed.cli.app import Context, cli, pass_context, reports_errors
from cmsfeed.cli.tables import FORMATS as LIST_FORMATS
from cmsfeed.cli.tables import KEY, SHORT, print_rows
from cmsfeed.delivery import subscriber_from_settings
from cmsfeed.errors import SubscriberError
from cmsfeed.subscribers import FREQUENCIES, WEEKDAYS, Subscriber, describe_schedule

FORMATS = click.Choice(["table", "json"])


@cli.group()
def subscribers() -> None:
    """List, add, remove and import digest subscribers."""


def subscriber_as_json(subscriber: Subscriber) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "email": subscriber.email,
        "language": subscriber.language,
        "topics": list(subscriber.topics),
        "frequency": subscriber.frequency,
        "weekday": WEEKDAYS[subscriber.weekday],
        "time": f"{subscriber.send_time:%H:%M}",
        "timezone": subscriber.timezone,
        "status": subscriber.status,
        "origin": subscriber.origin,
        "confirmed_at": when(subscriber.confirmed_at),
        "last_digest_slot_at": when(subscriber.last_slot_at),
        "hard_failures": subscriber.hard_failures,
        "suspended_at": when(subscriber.suspended_at),
        "suspended_reason": subscriber.suspended_reason,
    }


@subscribers.command("list")
@click.option("--format", "output", type=LIST_FORMATS, default="table", show_default=True)
@pass_context
@reports_errors
def list_subscribers(context: Context, output: str) -> None:
    """Every subscriber, with their topics, language, schedule and status."""
    found = context.store.list_subscribers()
    if output == "json":
        click.echo(json.dumps([subscriber_as_json(s) for s in found], ensure_ascii=False, indent=2))
        return
    rows = [
        (
            sub.email,
            sub.language,
            ", ".join(sub.topics) or "all",
            describe_schedule(sub),
            sub.status,
        )
        for sub in found
    ]
    columns = [("email", KEY), ("lang", SHORT), ("topics", SHORT), ("schedule", SHORT)]
    print_rows(context.out, [*columns, ("status", SHORT)], rows, output)
    if output != "plain":
        context.out.print(f"{len(found)} subscriber(s)")


@subscribers.command("add")
@click.argument("email")
@click.option("--lang", "language", default="en", show_default=True, metavar="CODE")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="ID",
    help="A topic (repeatable). Default: every topic.",
)
@click.option("--frequency", type=click.Choice(FREQUENCIES), default="daily", show_default=True)
@click.option(
    "--weekday",
    type=click.Choice(WEEKDAYS),
    default="mon",
    show_default=True,
    help="For weekly digests.",
)
@click.option("--time", "send_time", default="08:00", show_default=True, metavar="HH:MM")
@click.option(
    "--tz",
    "timezone",
    default="UTC",
    show_default=True,
    metavar="ZONE",
    help="An IANA time zone, e.g. Asia/Almaty.",
)
@pass_context
@reports_errors
def add_subscriber(
    context: Context,
    email: str,
    language: str,
    topics: tuple[str, ...],
    frequency: str,
    weekday: str,
    send_time: str,
    timezone: str,
) -> None:
    """Add a confirmed subscriber (the operator's action: no confirmation email)."""
    record = {
        "email": email,
        "language": language,
        "topics": list(topics),
        "frequency": frequency,
        "weekday": weekday,
        "time": send_time,
        "timezone": timezone,
    }
    saved = _save(context, record, "cli")
    click.echo(
        f"{saved.email}: subscribed ({describe_schedule(saved)}, "
        f"{', '.join(saved.topics) or 'all topics'}, {saved.language})"
    )


@subscribers.command("remove")
@click.argument("email")
@pass_context
@reports_errors
def remove_subscriber(context: Context, email: str) -> None:
    """Remove a subscriber and their queued digests."""
    digests = context.store
    found = digests.get_subscriber(email)
    if found is None or not digests.remove_subscriber(found.id):
        raise SubscriberError(email, "no such subscriber (see `cmsfeed subscribers list`)")
    click.echo(f"{found.email}: removed")


@subscribers.command("reactivate")
@click.argument("email")
@pass_context
@reports_errors
def reactivate_subscriber(context: Context, email: str) -> None:
    """Undo a suspension (after the address was fixed, or it was suspended by mistake): the
    digests cancelled by it go out, and the next one covers the time away."""
    digests = context.store
    found = digests.get_subscriber(email)
    if found is None:
        raise SubscriberError(email, "no such subscriber (see `cmsfeed subscribers list`)")
    requeued = digests.reactivate_subscriber(found.id, context.clock())
    if requeued is None:
        raise SubscriberError(found.email, f"not suspended (status: {found.status})")
    click.echo(f"{found.email}: active again; {requeued} cancelled digest(s) queued again")


@subscribers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["json", "csv"]),
    help="Default: from the file's extension.",
)
@pass_context
@reports_errors
def import_subscribers(context: Context, path: Path, input_format: str | None) -> None:
    """Add confirmed subscribers from a JSON array or a CSV file (columns as in `add`)."""
    text = path.read_text(encoding="utf-8")
    kind = input_format or ("csv" if path.suffix.lower() == ".csv" else "json")
    if kind == "csv":
        records: list[dict[str, Any]] = []
        for row in csv.DictReader(io.StringIO(text)):
            record: dict[str, Any] = {k: v for k, v in row.items() if v}
            if "topics" in record:
                record["topics"] = [t for t in record["topics"].replace(";", " ").split() if t]
            records.append(record)
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as err:
            raise SubscriberError(str(path), f"not valid JSON: {err}") from err
        if not isinstance(loaded, list):
            raise SubscriberError(str(path), "expected a JSON array of subscribers")
        records = loaded
    for record in records:
        _save(context, record, "cli")
    click.echo(f"{len(records)} subscriber(s) imported")


def _save(context: Context, record: dict[str, Any], origin: str) -> Subscriber:
    subscriber = subscriber_from_settings(record, origin)
    known = set(context.config.topic_ids())
    unknown = [t for t in subscriber.topics if t not in known]
    if unknown:
        raise SubscriberError(
            subscriber.email,
            f"unknown topic(s) {', '.join(unknown)} "
            f"(configured: {', '.join(sorted(known)) or 'none'})",
        )
    if subscriber.language not in context.config.site.languages:
        raise SubscriberError(
            subscriber.email,
            f"language {subscriber.language!r} is not one "
            f"of site.languages {context.config.site.languages}",
        )
    complained = context.store.complained_at(subscriber.email)
    if complained is not None:
        raise SubscriberError(
            subscriber.email,
            f"reported a digest as spam on {complained:%Y-%m-%d}; only the reader can "
            "subscribe again, by signing up at /subscribe",
        )
    return context.store.save_subscriber(subscriber, context.clock())
