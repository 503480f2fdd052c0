"""Items, their topics and the state of each source.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.store.schema import UtcDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("first_seen_at", UtcDateTime, nullable=False),
        sa.Column("translation_group", sa.String(16)),
        sa.Column("image_url", sa.Text),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("language_override", sa.String(8)),
        sa.Column("topics_override", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("key", name="uq_items_key"),
    )
    op.create_index("ix_items_language_published_at", "items", ["language", "published_at"])
    op.create_index("ix_items_published_at", "items", ["published_at"])
    op.create_index("ix_items_first_seen_at", "items", ["first_seen_at"])
    op.create_index("ix_items_translation_group", "items", ["translation_group"])
    op.create_table(
        "item_topics",
        sa.Column("item_id", sa.String(16), nullable=False),
        sa.Column("topic_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "topic_id", name="pk_item_topics"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], ondelete="CASCADE", name="fk_item_topics_item_id_items"
        ),
    )
    op.create_index("ix_item_topics_topic_id", "item_topics", ["topic_id", "item_id"])
    op.create_table(
        "source_states",
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("checked_at", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("source_id", name="pk_source_states"),
    )


def downgrade() -> None:
    op.drop_table("source_states")
    op.drop_table("item_topics")
    op.drop_table("items")
