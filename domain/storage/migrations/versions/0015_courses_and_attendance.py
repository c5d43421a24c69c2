"""courses and service packages (offers, what clients bought, their units); attendance of a
booking (check-in, check-out, no-show) and its check-in code

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=True),
        sa.Column("late_policy", sa.String(length=8), nullable=False),
        sa.Column("on_sale", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_offers")),
        sa.UniqueConstraint("key", name=op.f("uq_course_offers_key")),
    )
    op.create_table(
        "client_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("late_policy", sa.String(length=8), nullable=False),
        sa.Column("bought_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("sold_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_courses_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["course_offers.id"],
            name=op.f("fk_client_courses_offer_id_course_offers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_courses")),
        sa.UniqueConstraint("item", name=op.f("uq_client_courses_item")),
    )
    op.create_index(
        op.f("ix_client_courses_client_id"), "client_courses", ["client_id"], unique=False
    )
    op.create_table(
        "course_offer_units",
        sa.Column("offer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("programme_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count > 0", name=op.f("ck_course_offer_units_count_positive")),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["course_offers.id"],
            name=op.f("fk_course_offer_units_offer_id_course_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_course_offer_units_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", "programme_id", name=op.f("pk_course_offer_units")),
    )
    op.create_table(
        "course_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("forfeited", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_course_units_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["client_courses.id"],
            name=op.f("fk_course_units_course_id_client_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_course_units_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_units")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_course_units_booking_id")),
        sa.UniqueConstraint("course_id", "position", name=op.f("uq_course_units_course_id")),
    )
    op.create_index(op.f("ix_course_units_course_id"), "course_units", ["course_id"], unique=False)
    for column in ("checked_in_at", "checked_out_at", "no_show_at"):
        op.add_column("bookings", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.add_column("bookings", sa.Column("check_in_token", sa.String(length=24), nullable=True))
    op.create_index(op.f("ix_bookings_check_in_token"), "bookings", ["check_in_token"], unique=True)


def downgrade() -> None:
    # plain DROP COLUMN: a batch copy of `bookings` on SQLite would trip its foreign keys
    op.drop_index(op.f("ix_bookings_check_in_token"), table_name="bookings")
    for column in ("check_in_token", "no_show_at", "checked_out_at", "checked_in_at"):
        op.drop_column("bookings", column)
    op.drop_index(op.f("ix_course_units_course_id"), table_name="course_units")
    op.drop_table("course_units")
    op.drop_table("course_offer_units")
    op.drop_index(op.f("ix_client_courses_client_id"), table_name="client_courses")
    op.drop_table("client_courses")
    op.drop_table("course_offers")
