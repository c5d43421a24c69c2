"""a programme's reschedule_to_any_class: bookings move to any class of it with the same price

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain column in place: a batch copy of `programmes` on SQLite would cascade to classes
    op.add_column(
        "programmes",
        sa.Column("move_any_class", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # plain DROP COLUMN, as upgrade: a batch copy of `programmes` would cascade (see 0019)
    op.drop_column("programmes", "move_any_class")
