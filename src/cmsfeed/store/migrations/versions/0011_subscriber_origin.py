"""Subscribers' history, and digests that outlive an erased reader.

`subscriber_events` records what the operator, the config file's starting list and imports
did to a subscriber (added, updated, removed), for `subscribers export`.
`outbox.subscriber_id` may be null: `subscribers erase` detaches a reader's digests from them
instead of deleting the rows, so `digest status` keeps counting them, anonymously.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.store.schema import UtcDateTime

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "subscriber_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "subscriber_id",
            sa.String(16),
            sa.ForeignKey(
                "subscribers.id",
                ondelete="CASCADE",
                name="fk_subscriber_events_subscriber_id_subscribers",
            ),
            nullable=False,
        ),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriber_events"),
    )
    op.create_index(
        "ix_subscriber_events_subscriber_id_at", "subscriber_events", ["subscriber_id", "at"]
    )
    # SQLite alters a column by copying the table: keep its AUTOINCREMENT (migration 0008).
    with op.batch_alter_table("outbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("subscriber_id", existing_type=sa.String(16), nullable=True)


def downgrade() -> None:
    # Digests of erased readers have no subscriber to return to: they go with the column.
    op.execute("DELETE FROM outbox WHERE subscriber_id IS NULL")
    with op.batch_alter_table("outbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("subscriber_id", existing_type=sa.String(16), nullable=False)
    op.drop_index("ix_subscriber_events_subscriber_id_at", table_name="subscriber_events")
    op.drop_table("subscriber_events")
