"""`cmsfeed db`: the store's schema."""

from __future__ import annotations

import click

from cmsfeed.cli.app import Context, cli, pass_context, reports_errors
from cmsfeed.store import Store, migrate


@cli.group()
def db() -> None:
    """The store's schema (Alembic migrations)."""


@db.command()
@pass_context
@reports_errors
def upgrade(context: Context) -> None:
    """Bring the database schema up to date (also done automatically on start)."""
    store = Store.open(context.config.store.url, upgrade=False)
    try:
        before = store.schema_revision()
        store.upgrade()
        after = store.schema_revision()
    finally:
        store.close()
    if before == after:
        click.echo(f"{store.label}: schema is current ({after})")
    else:
        click.echo(f"{store.label}: upgraded schema {before or 'empty'} → {after}")


@db.command()
@pass_context
@reports_errors
def status(context: Context) -> None:
    """Show the schema version of the database and of this cmsfeed."""
    store = Store.open(context.config.store.url, upgrade=False)
    try:
        current = store.schema_revision()
    finally:
        store.close()
    head = migrate.head_revision()
    state = "current" if current == head else "needs `cmsfeed db upgrade`"
    click.echo(f"{store.label}: schema {current or 'empty'}, this cmsfeed wants {head} ({state})")


@db.command()
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The empty database to copy into, e.g. postgresql://cmsfeed@db/cmsfeed.",
)
@click.option(
    "--from",
    "source_url",
    metavar="URL",
    help="The database to copy from (default: store.url of the configuration).",
)
@pass_context
@reports_errors
def copy(context: Context, target_url: str, source_url: str | None) -> None:
    """Copy every item, subscriber and outbox row into another, empty database.

    Stop the workers first. The target gets the current schema; nothing is written to it
    unless the whole copy succeeds. Then point store.url (or CMSFEED_STORE__URL) at it.
    """
    source = Store.open(source_url or context.config.store.url)
    try:
        target = Store.open(target_url)
        try:
            report = source.copy_into(target)
        finally:
            target.close()
    finally:
        source.close()
    for table, rows in report.rows.items():
        click.echo(f"{table}: {rows} row(s)")
    click.echo(f"copied {source.label} → {target.label}")
