"""clients who blocked the bot are marked unreachable until they write again

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: a batch copy of `clients` on SQLite drops the table, which
# its foreign keys refuse (SQLite has had ADD and DROP COLUMN since 3.35).


def upgrade() -> None:
    op.add_column(
        "clients", sa.Column("unreachable_since", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("clients", "unreachable_since")
