"""staff cancellations: a whole session cancelled (who, when, why), a booking cancelled by
staff (who, why, what they waived), a Stars refund the client was already told of

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cancelled_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("cancelled_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cancel_waived", sa.String(length=64), nullable=True))
    with op.batch_alter_table("refund_requests") as batch:
        batch.add_column(
            sa.Column("quiet", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    # plain DROP COLUMN: a batch copy of a table on SQLite drops the table, and its foreign
    # keys' ON DELETE CASCADE would empty the tables that refer to it
    op.drop_column("refund_requests", "quiet")
    for column in ("cancel_waived", "cancel_reason", "cancelled_by"):
        op.drop_column("bookings", column)
    for column in ("cancel_reason", "cancelled_by", "cancelled_at"):
        op.drop_column("sessions", column)
