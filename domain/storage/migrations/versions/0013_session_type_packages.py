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
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("notes")
    with op.batch_alter_table("typed_sessions") as batch:
        batch.drop_column("package_name")
        batch.drop_column("package_key")
    with op.batch_alter_table("session_types") as batch:
        batch.drop_column("packages")
