"""programme kinds, waiting list, enrolments, make-ups

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_periods")),
        sa.UniqueConstraint("key", name=op.f("uq_billing_periods_key")),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_enrolments_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_enrolments_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_enrolments_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            "uq_enrolments_active_client_programme",
            ["client_id", "programme_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "waitlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_waitlist_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_waitlist_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_waitlist_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist")),
    )
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_waitlist_offer_expires_at"), ["offer_expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_waitlist_queue", ["session_id", "class_id", "status", "requested_at"], unique=False
        )
        batch_op.create_index(
            "uq_waitlist_open_client_class",
            ["class_id", "client_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'offered') AND class_id IS NOT NULL"),
            postgresql_where=sa.text("status IN ('waiting', 'offered') AND class_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_waitlist_open_client_session",
            ["session_id", "client_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'offered') AND session_id IS NOT NULL"),
            postgresql_where=sa.text("status IN ('waiting', 'offered') AND session_id IS NOT NULL"),
        )

    op.create_table(
        "makeup_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("source_booking_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usable_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("used_booking_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_makeup_credits_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_makeup_credits_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_booking_id"],
            ["bookings.id"],
            name=op.f("fk_makeup_credits_source_booking_id_bookings"),
        ),
        sa.ForeignKeyConstraint(
            ["used_booking_id"],
            ["bookings.id"],
            name=op.f("fk_makeup_credits_used_booking_id_bookings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_makeup_credits")),
        sa.UniqueConstraint("source_booking_id", name=op.f("uq_makeup_credits_source_booking_id")),
        sa.UniqueConstraint("used_booking_id", name=op.f("uq_makeup_credits_used_booking_id")),
    )
    with op.batch_alter_table("makeup_credits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_makeup_credits_client_id"), ["client_id"], unique=False
        )

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolment_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("by_staff", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_bookings_enrolment_id"), ["enrolment_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_enrolment_id_enrolments"),
            "enrolments",
            ["enrolment_id"],
            ["id"],
        )

    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_overload", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("waiting_list", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("promotion", sa.String(length=8), server_default="auto", nullable=False)
        )
        batch_op.add_column(
            sa.Column("offer_hold_minutes", sa.Integer(), server_default="120", nullable=False)
        )

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rank", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="payg", nullable=False)
        )
        batch_op.add_column(
            sa.Column("category", sa.String(length=60), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("public", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("colour", sa.String(length=7), nullable=True))
        batch_op.add_column(
            sa.Column("cancel_notice_hours", sa.Integer(), server_default="24", nullable=False)
        )
        batch_op.add_column(
            sa.Column("makeups_carry_over", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("makeups_carry_over")
        batch_op.drop_column("cancel_notice_hours")
        batch_op.drop_column("colour")
        batch_op.drop_column("public")
        batch_op.drop_column("valid_until")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("rank")
        batch_op.drop_column("category")
        batch_op.drop_column("kind")

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("rank")

    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_column("offer_hold_minutes")
        batch_op.drop_column("promotion")
        batch_op.drop_column("waiting_list")
        batch_op.drop_column("max_overload")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_bookings_enrolment_id_enrolments"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_bookings_enrolment_id"))
        batch_op.drop_column("by_staff")
        batch_op.drop_column("enrolment_id")

    with op.batch_alter_table("makeup_credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_makeup_credits_client_id"))

    op.drop_table("makeup_credits")
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_waitlist_open_client_session",
            sqlite_where=sa.text("status IN ('waiting', 'offered') AND session_id IS NOT NULL"),
            postgresql_where=sa.text("status IN ('waiting', 'offered') AND session_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_waitlist_open_client_class",
            sqlite_where=sa.text("status IN ('waiting', 'offered') AND class_id IS NOT NULL"),
            postgresql_where=sa.text("status IN ('waiting', 'offered') AND class_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_waitlist_queue")
        batch_op.drop_index(batch_op.f("ix_waitlist_offer_expires_at"))
        batch_op.drop_index(batch_op.f("ix_waitlist_client_id"))

    op.drop_table("waitlist")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolments_active_client_programme",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_enrolments_client_id"))

    op.drop_table("enrolments")
    op.drop_table("billing_periods")
