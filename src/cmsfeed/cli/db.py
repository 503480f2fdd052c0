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
        before = migrate.current_revision(store.engine)
        store.upgrade()
        after = migrate.current_revision(store.engine)
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
        current = migrate.current_revision(store.engine)
    finally:
        store.close()
    head = migrate.head_revision()
    state = "current" if current == head else "needs `cmsfeed db upgrade`"
    click.echo(f"{store.label}: schema {current or 'empty'}, this cmsfeed wants {head} ({state})")
