"""`cmsfeed bounces`: read returned mail and spam complaints and act on them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cmsfeed.bounce_mailbox import bounce_settings, import_bounces
from cmsfeed.cli.app import Context, cli, pass_context, reports_errors
from cmsfeed.wiring import site_secret

FORMATS = click.Choice(["text", "json"])


@cli.group()
def bounces() -> None:
    """Bounces and complaints from the bounce mailbox (see docs/digests.md)."""


@bounces.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output", type=FORMATS, default="text", show_default=True)
@pass_context
@reports_errors
def import_command(context: Context, path: Path, output: str) -> None:
    """Act on the bounces and complaints in PATH: a Maildir, an mbox file, a message file or a
    folder of .eml files. One line per message; what is not acted on is left in place."""
    settings = bounce_settings(context.config, site_secret(context.config, context.environ))
    report = import_bounces(path, context.store, settings, context.clock)
    if output == "json":
        rows = [
            {"message": outcome.label, "processed": outcome.acted, "outcome": outcome.line}
            for outcome in report.outcomes
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for outcome in report.outcomes:
        click.echo(str(outcome))
    click.echo(report.summary())
