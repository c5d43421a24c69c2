"""monthly fees, custom fee schedules and attendance credits (seed 003)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# `programmes` is altered in place, not in batch mode: a batch copy on SQLite drops the table,
# and with it (ON DELETE CASCADE) every enrolment and class.


def upgrade() -> None:
    op.add_column("programmes", sa.Column("monthly_fee_minor", sa.Integer(), nullable=True))
    op.add_column(
        "programmes", sa.Column("fee_due_day", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column("programmes", sa.Column("attendance_credits", sa.Integer(), nullable=True))
    op.create_table(
        "programme_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_programme_fees_positive_amount")),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_programme_fees_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_fees")),
        sa.UniqueConstraint("programme_id", "due_on", name=op.f("uq_programme_fees_programme_id")),
    )
    op.create_table(
        "attendance_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_attendance_credits_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_attendance_credits_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_attendance_credits_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_credits")),
        sa.UniqueConstraint(
            "client_id",
            "programme_id",
            "period_start",
            name=op.f("uq_attendance_credits_client_id"),
        ),
    )
    op.create_index(
        op.f("ix_attendance_credits_client_id"), "attendance_credits", ["client_id"], unique=False
    )
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("credit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_bookings_credit_id_attendance_credits"),
            "attendance_credits",
            ["credit_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_bookings_credit_id"), ["credit_id"], unique=False)
    op.create_index(
        "uq_ledger_fee_item",
        "ledger",
        ["item"],
        unique=True,
        sqlite_where=sa.text("charge_for = 'monthly_fee'"),
        postgresql_where=sa.text("charge_for = 'monthly_fee'"),
    )


def downgrade() -> None:
    op.drop_index("uq_ledger_fee_item", table_name="ledger")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_index(op.f("ix_bookings_credit_id"))
        batch.drop_constraint(op.f("fk_bookings_credit_id_attendance_credits"), type_="foreignkey")
        batch.drop_column("credit_id")
    op.drop_index(op.f("ix_attendance_credits_client_id"), table_name="attendance_credits")
    op.drop_table("attendance_credits")
    op.drop_table("programme_fees")
    op.drop_column("programmes", "attendance_credits")
    op.drop_column("programmes", "fee_due_day")
    op.drop_column("programmes", "monthly_fee_minor")
