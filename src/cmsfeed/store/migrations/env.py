"""Alembic environment: run by `cmsfeed.store.migrate`, never by the alembic command alone."""

from alembic import context

from cmsfeed.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
