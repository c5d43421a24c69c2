"""a client's own time zone, and the language of an announcement chat

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("time_zone", sa.String(64), nullable=True))
    op.add_column("announce_chats", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN: a batch copy of `clients` on SQLite would trip its foreign keys
    op.drop_column("announce_chats", "language")
    op.drop_column("clients", "time_zone")
