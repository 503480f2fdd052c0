"""Bounces and complaints read from the bounce mailbox.

One row per (returned message, subscriber) acted on, so a second import changes nothing, soft
bounces can be counted within a window and a complaint keeps its address from being mailed.

Revision ID: 0007
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.store.schema import UtcDateTime

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "bounces",
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("subscriber_id", sa.String(16), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("outbox_id", sa.Integer),
        sa.Column("matched_by", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("reported_at", UtcDateTime, nullable=False),
        sa.Column("processed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", "subscriber_id", name="pk_bounces"),
    )
    op.create_index(
        "ix_bounces_subscriber_id_reported_at", "bounces", ["subscriber_id", "reported_at"]
    )
    op.create_index("ix_bounces_email", "bounces", ["email"])
    # A bounce quoting a digest's Message-ID finds its row without a scan of the outbox.
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_id", table_name="outbox")
    op.drop_table("bounces")
