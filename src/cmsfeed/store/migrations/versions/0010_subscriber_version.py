"""A version counter per subscriber, so signed links can be bound to the state they were made in.

Every change a subscriber or the operator makes (confirmation, unsubscribe, preferences saved,
suspension, reactivation, an operator's add or update) adds one. A confirmation or preferences
token names the version it was made for; once the counter has moved on, the link shows the
current state and changes nothing (web/subscriptions.py, subscriptions/service.py). Rows that
exist before this migration start at 0, which is also the version a confirmation link made
before it is read as.

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("version")
