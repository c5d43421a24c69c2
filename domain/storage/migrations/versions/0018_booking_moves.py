"""moving any booking (issue 19): a class's own policy for moving a booking (cut-off, fee,
most moves per booking), and how often a booking was moved

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("classes", sa.Column("move_cutoff_hours", sa.Integer(), nullable=True))
    op.add_column(
        "classes",
        sa.Column("move_fee_percent", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("classes", sa.Column("moves_max", sa.Integer(), nullable=True))
    op.add_column("bookings", sa.Column("moves", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # plain DROP COLUMN: a batch copy of a table on SQLite would trip its foreign keys
    op.drop_column("bookings", "moves")
    op.drop_column("classes", "moves_max")
    op.drop_column("classes", "move_fee_percent")
    op.drop_column("classes", "move_cutoff_hours")
