"""`cmsfeed items`: look at the store and correct it by hand."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from babel import Locale, UnknownLocaleError
from rich.table import Table

from cmsfeed.cli.app import EXIT_FAILURE, Context, cli, pass_context, reports_errors
from cmsfeed.cli.ingest import print_report, progress_bar
from cmsfeed.cli.tables import FORMATS as LIST_FORMATS
from cmsfeed.cli.tables import KEY, SHORT, TEXT, print_rows
from cmsfeed.dates import parse_date
from cmsfeed.errors import ConfigError, DateError, SourceError
from cmsfeed.ingest.json_items import story_from_object
from cmsfeed.ingest.run import Ingester, IngestReport, ParseOptions, SourceReport, parse_bytes
from cmsfeed.model import LATIN, Item, ParseResult
from cmsfeed.sanitize import plain_text

MANUAL_SOURCE = "manual"
FORMATS = click.Choice(["table", "json"])


@cli.group()
def items() -> None:
    """List, show, add, tag and import news items."""


@items.command("list")
@click.option(
    "--topic", "topics", multiple=True, metavar="ID", help="Items of this topic (repeatable)."
)
@click.option("--lang", "language", metavar="CODE", help="Items in this language.")
@click.option("--since", metavar="DATE", help="Items published on or after DATE (e.g. 2024-01-01).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many, newest first.")
@click.option("--format", "output", type=LIST_FORMATS, default="table", show_default=True)
@pass_context
@reports_errors
def list_items(
    context: Context,
    topics: tuple[str, ...],
    language: str | None,
    since: str | None,
    limit: int | None,
    output: str,
) -> None:
    """Items newest first, optionally by topic, language and date."""
    _check_topics(context, topics)
    _check_language(context, language)
    since_at = _parse_cli_date("--since", since) if since else None
    found = context.store.list_items(
        topics=topics or None, language=language, since=since_at, limit=limit
    )
    if output == "json":
        click.echo(json.dumps([item_as_json(item) for item in found], ensure_ascii=False, indent=2))
        return
    rows = [
        (
            item.id,
            item.published_at.date().isoformat(),
            item.language,
            ", ".join(item.topics),
            item.title,
        )
        for item in found
    ]
    columns = [("id", KEY), ("published", SHORT), ("lang", SHORT), ("topics", SHORT)]
    print_rows(context.out, [*columns, ("title", TEXT)], rows, output)
    if output != "plain":
        context.out.print(f"{len(found)} item(s)")


@items.command("show")
@click.argument("item_id")
@click.option("--format", "output", type=FORMATS, default="table", show_default=True)
@pass_context
@reports_errors
def show_item(context: Context, item_id: str, output: str) -> None:
    """Everything the store knows about one item."""
    item = context.store.get_item(item_id)
    data = item_as_json(item)
    if output == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(show_header=False, box=None)
    uncertain = data.pop("language_uncertain")
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        if key == "language" and uncertain:
            shown += " (uncertain: too little text to tell and no language declared; "
            shown += "set it with `cmsfeed items tag ID --lang CODE`)"
        table.add_row(f"[bold]{key}[/bold]", plain_text(shown) if key == "summary" else shown)
    context.out.print(table)


@items.command("add")
@click.option("--title", required=True)
@click.option(
    "--published", required=True, metavar="DATE", help="e.g. 2024-12-02 or '02 December 2024'."
)
@click.option("--summary", default="", help="HTML or plain text.")
@click.option("--url", default=None)
@click.option("--lang", "language", default=None, help="Default: identified from the text.")
@click.option(
    "--topic", "topics", multiple=True, metavar="ID", help="Default: tagged from the text."
)
@pass_context
@reports_errors
def add_item(
    context: Context,
    title: str,
    published: str,
    summary: str,
    url: str | None,
    language: str | None,
    topics: tuple[str, ...],
) -> None:
    """Add one item by hand (source "manual")."""
    _check_topics(context, topics)
    _check_language(context, language)
    value: dict[str, Any] = {
        "title": title,
        "published": published,
        "summary": summary,
        "url": url,
        "language": language,
        "topics": list(topics) if topics else None,
    }
    try:
        story = story_from_object(
            {k: v for k, v in value.items() if v is not None},
            "--title",
            locales=tuple(context.config.site.languages),
        )
    except ValueError as err:
        raise SourceError(MANUAL_SOURCE, str(err)) from err
    prepared, problems = (
        Ingester(context.config, context.store, context.clock)
        .preparer(MANUAL_SOURCE)
        .prepare(story)
    )
    for problem in problems:
        context.err.print(str(problem), markup=False)
    if not prepared:
        sys.exit(EXIT_FAILURE)
    # Each `items add` is a fetch of its own: without reidentify=False, another story added by
    # hand on the same day would be taken for an edit of this one and overwritten.
    context.store.upsert_items(prepared, context.clock(), reidentify=False)
    if language is not None and len(prepared) == 1:
        # The operator said which language it is: that is a correction, as `items tag` makes,
        # not a fallback for a text too short to tell.
        context.store.tag_item(prepared[0].id, language=language)
    for item in prepared:
        click.echo(item.id)


@items.command("tag")
@click.argument("item_id")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="ID",
    help="Set the topics to exactly these (repeatable).",
)
@click.option("--no-topics", is_flag=True, help="Clear the topics.")
@click.option("--lang", "language", metavar="CODE", help="Set the language.")
@pass_context
@reports_errors
def tag_item(
    context: Context, item_id: str, topics: tuple[str, ...], no_topics: bool, language: str | None
) -> None:
    """Set an item's topics and/or language by hand; re-ingesting keeps the choice."""
    if not topics and not no_topics and language is None:
        raise click.UsageError("give --topic, --no-topics or --lang")
    _check_topics(context, topics)
    _check_language(context, language)
    item = context.store.tag_item(
        item_id, topics=list(topics) if topics or no_topics else None, language=language
    )
    click.echo(f"{item.id}: language {item.language}, topics {', '.join(item.topics) or 'none'}")


@items.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["listing", "json", "feed", "html"]), required=True)
@click.option(
    "--source",
    "source_id",
    default=None,
    metavar="ID",
    help="The source id to file the items under. Default: the file's name.",
)
@pass_context
@reports_errors
def import_items(context: Context, path: Path, kind: str, source_id: str | None) -> None:
    """Ingest one file once, without declaring it as a source.

    Exits 0 when everything went in, 1 when some stories were rejected.
    """
    if kind == "html":
        raise click.UsageError("html needs selectors: declare it as a source in config.toml")
    source_id = source_id or path.stem
    options = ParseOptions(locales=tuple(context.config.site.languages))
    try:
        parsed = parse_bytes(kind, path.read_bytes(), source_id, options)  # type: ignore[arg-type]
    except SourceError as err:
        report = IngestReport([SourceReport(source_id, failure=err.problem)])
    else:
        report = _store(context, source_id, parsed)
    print_report(report, context.out, context.err)
    if not report.ok:
        sys.exit(EXIT_FAILURE)


def _store(context: Context, source_id: str, parsed: ParseResult) -> IngestReport:
    ingester = Ingester(context.config, context.store, context.clock)
    report = SourceReport(source_id)
    with progress_bar(context.err) as progress:
        ingester.store_stories(source_id, parsed, report, progress)
    return IngestReport([report])


def item_as_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "summary": item.summary,
        "language": item.language,
        "language_uncertain": item.language_uncertain,
        "published": item.published_at.isoformat(),
        "updated": item.updated_at.isoformat(),
        "first_seen": item.first_seen_at.isoformat() if item.first_seen_at else None,
        "topics": list(item.topics),
        "url": item.url,
        "translations": list(item.translations),
        "source": item.source_id,
    }


def _check_topics(context: Context, topics: tuple[str, ...]) -> None:
    known = context.config.topic_ids()
    for topic in topics:
        if topic not in known:
            raise ConfigError([f"--topic: unknown topic {topic!r}; configured: {', '.join(known)}"])


def _check_language(context: Context, language: str | None) -> None:
    """A site language, or another ISO 639-1 code: stories in other languages are kept too."""
    if language is None or language in context.config.site.languages:
        return
    try:
        known = language != LATIN and Locale.parse(language).language == language
    except (ValueError, UnknownLocaleError):
        known = False
    if not known:
        raise ConfigError(
            [
                f"--lang: {language!r} is not a language code; expected one of site.languages "
                f"({', '.join(context.config.site.languages)}) or another ISO 639-1 code"
            ]
        )


def _parse_cli_date(option: str, text: str) -> datetime:
    try:
        return parse_date(text)
    except DateError as err:
        raise click.BadParameter(err.problem, param_hint=option) from err
