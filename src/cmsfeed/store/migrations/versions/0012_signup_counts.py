"""Sign-up counters in the store, so every worker shares one limit and a restart keeps it.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.store.schema import UtcDateTime

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "signup_counts",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_signup_counts"),
    )
    op.create_index("ix_signup_counts_expires_at", "signup_counts", ["expires_at"])


def downgrade() -> None:
    op.drop_table("signup_counts")
