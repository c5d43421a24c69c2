"""entry passes: what pay-as-you-go programmes sell, what clients bought, which booking used one

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pass_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_pass_offers_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_offers")),
        sa.UniqueConstraint("programme_id", "key", name=op.f("uq_pass_offers_programme_id")),
    )
    op.create_table(
        "client_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("bought_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "used >= 0 AND used <= entries", name=op.f("ck_client_passes_used_within_entries")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_passes_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["pass_offers.id"], name=op.f("fk_client_passes_offer_id_pass_offers")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_client_passes_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_passes")),
        sa.UniqueConstraint("item", name=op.f("uq_client_passes_item")),
    )
    op.create_index(
        op.f("ix_client_passes_client_id"), "client_passes", ["client_id"], unique=False
    )
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("pass_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_bookings_pass_id_client_passes"), "client_passes", ["pass_id"], ["id"]
        )
        batch.create_index(op.f("ix_bookings_pass_id"), ["pass_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_index(op.f("ix_bookings_pass_id"))
        batch.drop_constraint(op.f("fk_bookings_pass_id_client_passes"), type_="foreignkey")
        batch.drop_column("pass_id")
    op.drop_index(op.f("ix_client_passes_client_id"), table_name="client_passes")
    op.drop_table("client_passes")
    op.drop_table("pass_offers")
