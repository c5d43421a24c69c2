"""the clients' ledger: charges, payments (applied once per Telegram charge), refunds,
credits, waivers

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=True),
        sa.Column("charge_for", sa.String(length=16), nullable=True),
        sa.Column("charge_id", sa.String(length=128), nullable=True),
        sa.Column("provider_charge_id", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_positive_amount")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_ledger_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
        sa.UniqueConstraint("charge_id", name=op.f("uq_ledger_charge_id")),
    )
    op.create_index(op.f("ix_ledger_client_id"), "ledger", ["client_id"], unique=False)
    op.create_index(op.f("ix_ledger_item"), "ledger", ["item"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_item"), table_name="ledger")
    op.drop_index(op.f("ix_ledger_client_id"), table_name="ledger")
    op.drop_table("ledger")
