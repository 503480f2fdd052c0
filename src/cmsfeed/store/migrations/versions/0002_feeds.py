"""The state of each rendered feed: its content hash and when it last changed.

Used to render each feed once per change (the server and `cmsfeed build` compare hashes)
and to ping a WebSub hub for exactly the feeds whose content changed.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.store.schema import UtcDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "feed_states",
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
        sa.Column("pinged_at", UtcDateTime),
        sa.Column("ping_error", sa.Text),
        sa.PrimaryKeyConstraint("path", name="pk_feed_states"),
    )


def downgrade() -> None:
    op.drop_table("feed_states")
