"""Explicit story identity: the story key shared by language versions, what it was made from,
and a digest of the story that lets an unchanged one skip tagging.

Existing rows are filled from what their keys tell: a key "source|..." equal to the source
and the item's URL was made from the URL, any other "source|..." from the source's own id,
and "source:day:title" is a fingerprint. Keys made from a URL are rewritten to the canonical
URL (`cmsfeed.identity.canonical_url`) unless another row already holds that key; item ids
never change. `story_hash` stays empty until the story is next ingested.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from cmsfeed.identity import canonical_url

revision = "0004"
down_revision = "0003"

_items = sa.table(
    "items",
    sa.column("id", sa.String),
    sa.column("key", sa.Text),
    sa.column("source_id", sa.String),
    sa.column("url", sa.Text),
    sa.column("language", sa.String),
    sa.column("translation_group", sa.String),
    sa.column("story_key", sa.Text),
    sa.column("identity", sa.String),
)


def upgrade() -> None:
    op.add_column("items", sa.Column("story_key", sa.Text))
    op.add_column(
        "items", sa.Column("identity", sa.String(16), nullable=False, server_default="id")
    )
    op.add_column("items", sa.Column("story_hash", sa.String(32)))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _items.c.id,
            _items.c.key,
            _items.c.source_id,
            _items.c.url,
            _items.c.language,
            _items.c.translation_group,
        )
    ).all()
    taken = {row.key for row in rows}
    changes = []
    for row in rows:
        story_key = row.key
        suffix = f"#{row.language}"
        if row.translation_group is not None and row.key.endswith(suffix):
            story_key = row.key[: -len(suffix)]  # a translation: "<story key>#<language>"
        else:
            suffix = ""
        prefix = f"{row.source_id}|"
        if not story_key.startswith(prefix):
            identity = "fingerprint"
        elif row.url is not None and story_key == prefix + row.url:
            identity = "url"
            canonical = prefix + canonical_url(row.url)
            if canonical + suffix not in taken:
                taken.add(canonical + suffix)
                story_key = canonical
        else:
            identity = "id"
        changes.append(
            {
                "row_id": row.id,
                "new_key": story_key + suffix,
                "new_story_key": story_key,
                "new_identity": identity,
            }
        )
    if changes:
        connection.execute(
            sa.update(_items)
            .where(_items.c.id == sa.bindparam("row_id"))
            .values(
                key=sa.bindparam("new_key"),
                story_key=sa.bindparam("new_story_key"),
                identity=sa.bindparam("new_identity"),
            ),
            changes,
        )
    op.create_index("ix_items_story_key", "items", ["story_key"])
    op.create_index("ix_items_source_id_published_at", "items", ["source_id", "published_at"])


def downgrade() -> None:
    op.drop_index("ix_items_source_id_published_at", table_name="items")
    op.drop_index("ix_items_story_key", table_name="items")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table would
    # cascade the deletion of every item's topics.
    for column in ("story_hash", "identity", "story_key"):
        op.drop_column("items", column)
