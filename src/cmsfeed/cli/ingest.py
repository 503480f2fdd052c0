"""`cmsfeed ingest`: fetch every source and store what is new."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from cmsfeed.cli.app import EXIT_FAILURE, Context, cli, pass_context, reports_errors
from cmsfeed.cli.tables import COUNT, KEY, print_rows
from cmsfeed.ingest.run import IngestReport
from cmsfeed.ingest.run import Progress as ProgressCallback
from cmsfeed.jobs import ingest_and_publish
from cmsfeed.model import Problem
from cmsfeed.wiring import build_ingester, feed_publisher


@cli.command()
@click.option(
    "--source",
    "source_ids",
    multiple=True,
    metavar="ID",
    help="Only this source (repeatable). Default: every enabled source.",
)
@pass_context
@reports_errors
def ingest(context: Context, source_ids: tuple[str, ...]) -> None:
    """Fetch the sources, tag the stories and store them.

    Exits 0 when everything went in, 1 when some stories or sources were rejected.
    """
    report = run_ingest(context, source_ids)
    print_report(report, context.out, context.err)
    if not report.ok:
        sys.exit(EXIT_FAILURE)


def run_ingest(context: Context, source_ids: tuple[str, ...] = ()) -> IngestReport:
    with progress_bar(context.err) as progress:
        return ingest_and_publish(
            build_ingester(context.config, context.store, context.clock),
            feed_publisher(context.config, context.store, context.clock),
            source_ids,
            progress,
        )


# Without a terminal (a systemd unit, cron, a pipe), progress is a log line this often.
PROGRESS_LINE_SECONDS = 5.0


@contextmanager
def progress_bar(console: Console) -> Iterator[ProgressCallback]:
    """A progress bar per source on a terminal; a line every few seconds when piped."""
    if not console.is_terminal:
        yield progress_lines(console, time.monotonic)
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def update(source_id: str, done: int, total: int) -> None:
            if source_id not in tasks:
                tasks[source_id] = bars.add_task(source_id, total=total)
            bars.update(tasks[source_id], completed=done)

        yield update


def progress_lines(
    console: Console, monotonic: Callable[[], float], every: float = PROGRESS_LINE_SECONDS
) -> ProgressCallback:
    """Progress as plain lines, for a log: a source that takes longer than `every` seconds
    gets a line every `every` seconds and one when it is done; a quick one stays silent."""
    last: dict[str, float] = {}  # source -> when it started, then when it last had a line
    spoken: set[str] = set()

    def update(source_id: str, done: int, total: int) -> None:
        now = monotonic()
        last.setdefault(source_id, now)
        if now - last[source_id] >= every or (done >= total and source_id in spoken):
            last[source_id] = now
            spoken.add(source_id)
            console.print(f"{source_id}: {done} of {total} stories", markup=False, highlight=False)

    return update


def print_report(report: IngestReport, out: Console, err: Console) -> None:
    rows: list[tuple[str, ...]] = []
    for source in report.sources:
        if source.failure is not None:
            rows.append((source.source_id, "—", "—", "—", "—", "—", "failed", "—"))
            continue
        counts = source.counts
        rows.append(
            (
                source.source_id,
                "not modified" if source.not_modified else str(source.stories),
                str(counts.inserted),
                str(counts.updated),
                str(counts.retagged),
                str(counts.unchanged),
                str(source.rejected),
                str(source.warnings),
            )
        )
    counted = ("stories", "new", "updated", "retagged", "unchanged", "rejected", "warnings")
    columns = [("source", KEY), *((name, COUNT) for name in counted)]
    print_rows(out, columns, rows, "table", title="Ingest")
    for source in report.sources:
        other = (("kept", source.other_languages), ("skipped", source.skipped_languages))
        for verb, languages in other:
            if languages:
                shown = ", ".join(f"{code} {n}" for code, n in sorted(languages.items()))
                out.print(
                    f"{source.source_id}: {verb} {languages.total()} in languages outside "
                    f"site.languages: {shown} (ingest.other_languages)",
                    markup=False,
                )
    # Parsing and preparing find problems in two passes; the operator reads them in file order.
    for problem in sorted(report.problems, key=_file_order):
        err.print(str(problem), markup=False)
    for source in report.failed_sources:
        err.print(f"{source.source_id}: source failed: {source.failure}", markup=False)
    if not report.ok:
        err.print(
            f"{report.rejected} stor{'y' if report.rejected == 1 else 'ies'} rejected, "
            f"{len(report.failed_sources)} source(s) failed",
            markup=False,
        )


def _file_order(problem: Problem) -> tuple[str, int, str]:
    number = re.search(r"\d+", problem.position)
    return problem.source_id, int(number.group()) if number else 0, problem.position
