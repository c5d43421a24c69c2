"""minimum participants: a class's minimum and when it is checked; a session's check and
staff's "run it anyway"

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain columns in place: a batch copy of `classes` on SQLite would cascade to sessions
    op.add_column("classes", sa.Column("min_participants", sa.Integer(), nullable=True))
    op.add_column("classes", sa.Column("min_check_hours", sa.Integer(), nullable=True))
    op.add_column("sessions", sa.Column("min_checked_at", sa.DateTime(timezone=True)))
    op.add_column("sessions", sa.Column("kept_on_at", sa.DateTime(timezone=True)))
    op.add_column("sessions", sa.Column("kept_on_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN, as upgrade: a batch copy on SQLite would cascade (see 0019)
    for column in ("kept_on_by", "kept_on_at", "min_checked_at"):
        op.drop_column("sessions", column)
    for column in ("min_check_hours", "min_participants"):
        op.drop_column("classes", column)
