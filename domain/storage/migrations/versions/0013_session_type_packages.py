"""package options of single session types (seed 001), and the one a session was agreed with;
the client's note on a session package

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("session_types", sa.Column("packages", sa.Text(), nullable=True))
    op.add_column("typed_sessions", sa.Column("package_key", sa.String(40), nullable=True))
    op.add_column("typed_sessions", sa.Column("package_name", sa.String(100), nullable=True))
    op.add_column("packages", sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN: a batch copy of a table on SQLite would trip its foreign keys
    op.drop_column("packages", "notes")
    op.drop_column("typed_sessions", "package_name")
    op.drop_column("typed_sessions", "package_key")
    op.drop_column("session_types", "packages")
