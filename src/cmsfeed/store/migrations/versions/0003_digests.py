"""Subscribers and the digest outbox.

One outbox row per (subscriber, period), unique, written in the same transaction that
advances the subscriber's cursor; senders claim rows with a lease.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.store.schema import UtcDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("send_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("confirmed_at", UtcDateTime),
        sa.Column("last_slot_at", UtcDateTime),
        sa.Column("covered_until", UtcDateTime),
        sa.Column("hard_failures", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("email", name="uq_subscribers_email"),
    )
    op.create_index("ix_subscribers_status", "subscribers", ["status"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("subscriber_id", sa.String(16), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("item_ids", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("lease_owner", sa.String(32)),
        sa.Column("lease_until", UtcDateTime),
        sa.Column("sent_at", UtcDateTime),
        sa.Column("smtp_reply", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("subscriber_id", "period", name="uq_outbox_subscriber_id_period"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            ondelete="CASCADE",
            name="fk_outbox_subscriber_id_subscribers",
        ),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_subscriber_id_created_at", "outbox", ["subscriber_id", "created_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("subscribers")
