"""`cmsfeed subscribers`: the operator's view of who gets digests (subscriptions/admin.py
does the work; this module reads options and prints)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cmsfeed.cli.app import EXIT_FAILURE, Context, cli, pass_context, reports_errors
from cmsfeed.cli.tables import FORMATS as LIST_FORMATS
from cmsfeed.cli.tables import KEY, SHORT, print_rows
from cmsfeed.errors import SubscriberError
from cmsfeed.subscribers import FREQUENCIES, WEEKDAYS, Subscriber, describe_schedule
from cmsfeed.subscriptions import admin
from cmsfeed.subscriptions.choices import SiteChoices
from cmsfeed.subscriptions.options import COLUMNS, Options


@cli.group()
def subscribers() -> None:
    """List, add, change, remove, erase, export and import digest subscribers."""


def offered(context: Context) -> SiteChoices:
    return SiteChoices(tuple(context.config.site.languages), tuple(context.config.topic_ids()))


@subscribers.command("list")
@click.option("--format", "output", type=LIST_FORMATS, default="table", show_default=True)
@pass_context
@reports_errors
def list_subscribers(context: Context, output: str) -> None:
    """Every subscriber, with their topics, language, schedule, status and origin (config,
    web, cli or import: who added them)."""
    found = context.store.list_subscribers()
    if output == "json":
        records = [admin.subscriber_as_json(s) for s in found]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    rows = [
        (
            sub.email,
            sub.language,
            ", ".join(sub.topics) or "all",
            describe_schedule(sub),
            sub.status,
            sub.origin,
        )
        for sub in found
    ]
    columns = [("email", KEY), ("lang", SHORT), ("topics", SHORT), ("schedule", SHORT)]
    print_rows(context.out, [*columns, ("status", SHORT), ("origin", SHORT)], rows, output)
    if output != "plain":
        context.out.print(f"{len(found)} subscriber(s)")


@subscribers.command("add")
@click.argument("email")
@click.option("--lang", "language", metavar="CODE", help="Default: the first of site.languages.")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="ID",
    help="A topic (repeatable). Default: every topic.",
)
@click.option("--frequency", type=click.Choice(FREQUENCIES), help="Default: daily.")
@click.option("--weekday", type=click.Choice(WEEKDAYS), help="For weekly digests. Default: mon.")
@click.option("--time", "send_time", metavar="HH:MM", help="Default: 08:00.")
@click.option("--tz", "timezone", metavar="ZONE", help="An IANA time zone. Default: UTC.")
@click.option(
    "--update",
    is_flag=True,
    help="If the address is known, change only the options given (never its status).",
)
@pass_context
@reports_errors
def add_subscriber(
    context: Context,
    email: str,
    language: str | None,
    topics: tuple[str, ...],
    frequency: str | None,
    weekday: str | None,
    send_time: str | None,
    timezone: str | None,
    update: bool,
) -> None:
    """Add a confirmed subscriber (the operator's action: no confirmation email).

    A known address is refused, unless --update. Example: add anna@example.org --lang ru
    --topic argali --frequency weekly --weekday wed --time 10:00 --tz Asia/Almaty
    """
    options = Options(language, topics or None, frequency, weekday, send_time, timezone)
    digests = context.store
    added = admin.add_subscriber(digests, email, options, offered(context), context.clock(), update)
    saved = added.subscriber
    if added.change is None:
        click.echo(f"{saved.email}: subscribed ({_describe(saved)})")
    elif added.change:
        click.echo(f"{saved.email}: updated ({added.change})")
    else:
        click.echo(f"{saved.email}: unchanged ({_describe(saved)})")


def _describe(subscriber: Subscriber) -> str:
    topics = ", ".join(subscriber.topics) or "all topics"
    return f"{describe_schedule(subscriber)}, {topics}, {subscriber.language}"


@subscribers.command("remove")
@click.argument("email")
@pass_context
@reports_errors
def remove_subscriber(context: Context, email: str) -> None:
    """End a subscription: no more digests; its history (digests sent, bounces) is kept.
    Only the reader can subscribe again, by signing up."""
    address, cancelled = admin.remove_subscriber(context.store, email, context.clock())
    if cancelled is None:
        click.echo(f"{address}: already unsubscribed; nothing changed")
    else:
        click.echo(f"{address}: removed; {cancelled} digest(s) not yet sent cancelled")


@subscribers.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
@reports_errors
def erase_subscriber(context: Context, email: str, yes: bool) -> None:
    """Delete everything held about an address (a privacy request): the subscription, its
    history, bounces and complaints. Its digests stay counted in `digest status`, without
    the address. Consider `export` first."""
    if not yes:
        click.confirm(f"Erase everything held about {email}?", abort=True)
    configured = [settings.email for settings in context.config.subscribers]
    address, erased = admin.erase_subscriber(context.store, email, configured)
    click.echo(
        f"{address}: erased ({erased.events} history event(s), {erased.bounces} bounce(s); "
        f"{erased.digests_kept} digest(s) kept without the address, "
        f"{erased.digests_cancelled} of them cancelled before sending)"
    )


@subscribers.command("export")
@click.argument("email")
@click.option("--format", "output", type=click.Choice(["json", "csv"]), default="json")
@pass_context
@reports_errors
def export_subscriber(context: Context, email: str, output: str) -> None:
    """Everything held about an address: subscription, preferences, origin, history,
    digests (outbox rows) and bounces. CSV: one line per value (section, number, field,
    value)."""
    exported = admin.export_subscriber(context.store, email)
    if output == "csv":
        click.echo(admin.export_as_csv(exported), nl=False)
    else:
        click.echo(json.dumps(exported, ensure_ascii=False, indent=2))


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
        raise SubscriberError(email, admin.NO_SUCH)
    requeued = digests.reactivate_subscriber(found.id, context.clock())
    if requeued is None:
        raise SubscriberError(found.email, f"not suspended (status: {found.status})")
    click.echo(f"{found.email}: active again; {requeued} cancelled digest(s) queued again")


@subscribers.command("import", epilog=f"Columns: {','.join(COLUMNS)}")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Change known addresses (only the cells given).")
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some are bad.")
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@pass_context
@reports_errors
def import_subscribers(
    context: Context, path: Path, update: bool, skip_bad: bool, dry_run: bool
) -> None:
    """Add confirmed subscribers from a CSV file whose columns are the options of `add`
    without their dashes: email (required), lang, topic (several: separated by spaces,
    commas or semicolons), frequency, weekday, time, tz. An empty cell is an option not
    given. Every row is checked first and every bad row reported by line and column;
    nothing is written if any row is bad, unless --skip-bad. Known addresses are skipped,
    unless --update. Exits 1 when a row was rejected.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM, as spreadsheets write, is no cell
    except UnicodeDecodeError as err:
        raise SubscriberError(str(path), f"not UTF-8 text (byte {err.start})") from err
    report = admin.import_subscribers(
        context.store,
        text,
        offered(context),
        context.clock(),
        update=update,
        skip_bad=skip_bad,
        dry_run=dry_run,
    )
    plan = report.plan
    for problem in plan.problems:
        click.echo(f"error: {path}:{problem}", err=True)
    added = report.added if report.written else len(plan.new)
    updated = len(plan.changes)
    # An address another process added meanwhile was not written: it counts as skipped.
    skipped = len(plan.skipped) + len(plan.new) - added
    summary = f"{added} added, {updated} updated, {skipped} skipped, {plan.rejected} rejected"
    if report.written:
        click.echo(summary)
    elif dry_run:
        click.echo(f"{summary} (dry run: nothing written)")
    else:
        click.echo(
            f"nothing written: {plan.rejected} bad row(s); fix them, or use --skip-bad to "
            f"import the rest (would be: {summary})"
        )
    if plan.problems:
        sys.exit(EXIT_FAILURE)
