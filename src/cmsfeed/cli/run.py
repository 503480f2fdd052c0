"""`cmsfeed run`: the main job."""

from __future__ import annotations

import sys

import click

from cmsfeed.cli.app import EXIT_FAILURE, Context, cli, pass_context, reports_errors
from cmsfeed.cli.ingest import print_report, run_ingest
from cmsfeed.cli.items import list_items


@cli.command()
@pass_context
@reports_errors
def run(context: Context) -> None:
    """Ingest every source and show what is in the store."""
    report = run_ingest(context)
    print_report(report, context.out, context.err)
    context.out.print()
    click.get_current_context().invoke(list_items, topics=(), language=None, since=None,
                                       limit=20, output="table")
    if not report.ok:
        sys.exit(EXIT_FAILURE)
