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
    with op.batch_alter_table("programmes") as batch_op:
        batch_op.drop_column("move_any_class")
