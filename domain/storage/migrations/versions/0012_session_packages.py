"""session packages (seed 002): per-class package and policy settings, packages and their slots

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _class_columns() -> list[sa.Column]:
    return [
        sa.Column("package_size", sa.Integer(), nullable=True),
        sa.Column("package_price_minor", sa.Integer(), nullable=True),
        sa.Column("cancel_cutoff_hours", sa.Integer(), nullable=True),
        sa.Column("reschedule_cutoff_hours", sa.Integer(), nullable=True),
        sa.Column("cancel_refund_percent", sa.Integer(), server_default="100", nullable=False),
        sa.Column("reschedule_fee_percent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
        sa.Column("max_per_week", sa.Integer(), nullable=True),
    ]


def upgrade() -> None:
    # plain columns in place: a batch copy of `classes` on SQLite would cascade to sessions
    for column in _class_columns():
        op.add_column("classes", column)
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("reschedule_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("cancel_refund_percent", sa.Integer(), nullable=False),
        sa.Column("reschedule_fee_percent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_packages_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_packages_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    op.create_index(op.f("ix_packages_client_id"), "packages", ["client_id"], unique=False)
    op.create_table(
        "package_slots",
        sa.Column("booking_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("override_by", sa.BigInteger(), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_package_slots_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_package_slots_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_package_slots")),
    )
    op.create_index(
        op.f("ix_package_slots_package_id"), "package_slots", ["package_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_package_slots_package_id"), table_name="package_slots")
    op.drop_table("package_slots")
    op.drop_index(op.f("ix_packages_client_id"), table_name="packages")
    op.drop_table("packages")
    for column in reversed(_class_columns()):
        op.drop_column("classes", column.name)
