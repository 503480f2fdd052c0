"""Delivery that tells whose fault a failure is, and resumes at once after a crash.

- outbox: `cause` (why a row failed or was cancelled: bounce, deferred, refused,
  unsubscribed, suspended), and the lease owner's host, pid and process start token, so a
  worker on the same host can tell a dead owner from a live one;
- subscribers: when and why a subscriber was suspended;
- delivery_pauses: a mail server that is at fault (wrong password, refused sender, no
  service), seen by every worker and the CLI.

Revision ID: 0006
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.store.schema import UtcDateTime

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("cause", sa.String(16)))
    op.add_column("outbox", sa.Column("lease_host", sa.Text))
    op.add_column("outbox", sa.Column("lease_pid", sa.Integer))
    op.add_column("outbox", sa.Column("lease_started", sa.String(64)))
    op.create_index("ix_outbox_status_lease_until", "outbox", ["status", "lease_until"])
    op.add_column("subscribers", sa.Column("suspended_at", UtcDateTime))
    op.add_column("subscribers", sa.Column("suspended_reason", sa.Text))
    op.create_table(
        "delivery_pauses",
        sa.Column("server", sa.String(200), nullable=False),
        sa.Column("since_at", UtcDateTime, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("reply", sa.Text, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_probe_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("server", name="pk_delivery_pauses"),
    )


def downgrade() -> None:
    op.drop_table("delivery_pauses")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("suspended_reason")
        batch.drop_column("suspended_at")
    op.drop_index("ix_outbox_status_lease_until", "outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("lease_started", "lease_pid", "lease_host", "cause"):
            batch.drop_column(column)
