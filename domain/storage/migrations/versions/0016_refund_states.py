"""Stars refunds in two phases: a refund asked of Telegram is recorded (requested) before it
is asked, then done, refused or unknown (domain/billing/refunds.py)

Revision ID: 0016_refund_states
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refund_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("charge_id", sa.String(length=128), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("refused_why", sa.Text(), nullable=True),
        sa.Column("ledger_id", sa.Integer(), nullable=True),
        sa.Column("others_minor", sa.Integer(), nullable=False),
        sa.Column("others_credit_minor", sa.Integer(), nullable=False),
        sa.Column("others_line_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refund_requests_positive_amount")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_refund_requests_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledger.id"], name=op.f("fk_refund_requests_ledger_id_ledger")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_requests")),
    )
    op.create_index(
        op.f("ix_refund_requests_client_id"), "refund_requests", ["client_id"], unique=False
    )
    op.create_index("ix_refund_requests_state", "refund_requests", ["state"], unique=False)
    op.create_index(
        "uq_refund_requests_charge_id",
        "refund_requests",
        ["charge_id"],
        unique=True,
        sqlite_where=sa.text("state != 'refused'"),
        postgresql_where=sa.text("state != 'refused'"),
    )


def downgrade() -> None:
    op.drop_index("uq_refund_requests_charge_id", table_name="refund_requests")
    op.drop_index("ix_refund_requests_state", table_name="refund_requests")
    op.drop_index(op.f("ix_refund_requests_client_id"), table_name="refund_requests")
    op.drop_table("refund_requests")
