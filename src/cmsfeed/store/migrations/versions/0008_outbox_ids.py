"""Outbox ids are never handed out twice, on SQLite too.

A bounce's VERP token names an outbox id. Without AUTOINCREMENT, SQLite gives the id of the
newest row again once that row is deleted (its subscriber removed), so a late bounce for the
removed reader's digest would name another reader's row. PostgreSQL's sequence never reuses
an id: nothing to do there. Ids freed before this migration can still come back once.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass  # the copy of the table under the new table options is the whole change


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "outbox", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass  # the copy of the table under the old table options is the whole change
