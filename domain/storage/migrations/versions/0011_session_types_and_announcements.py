"""session types, multi and single sessions, staff reservations, group announcements (seed 001)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# `classes` and `bookings` get plain columns in place, not in batch mode: a batch copy on
# SQLite drops the table, and with it (ON DELETE CASCADE) the rows that hang off it.


def upgrade() -> None:
    op.create_table(
        "session_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("break_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=True),
        sa.Column("hold_minutes", sa.Integer(), server_default="1440", nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_session_types_duration_positive")),
        sa.CheckConstraint("break_minutes >= 0", name=op.f("ck_session_types_break_not_negative")),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_session_types_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_types")),
        sa.UniqueConstraint("key", name=op.f("uq_session_types_key")),
    )
    op.create_table(
        "typed_sessions",
        sa.Column("class_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("spots_together", sa.Boolean(), nullable=False),
        sa.Column("link_token", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_typed_sessions_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["session_types.id"],
            name=op.f("fk_typed_sessions_type_id_session_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", name=op.f("pk_typed_sessions")),
        sa.UniqueConstraint("link_token", name=op.f("uq_typed_sessions_link_token")),
    )
    op.create_index(op.f("ix_typed_sessions_type_id"), "typed_sessions", ["type_id"], unique=False)
    op.add_column(
        "classes", sa.Column("listed", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.add_column("bookings", sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_bookings_hold_until"), "bookings", ["hold_until"], unique=False)
    op.create_table(
        "announce_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gone_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_announce_chats")),
    )
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["announce_chats.chat_id"],
            name=op.f("fk_announcements_chat_id_announce_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_announcements_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("chat_id", "class_id", name=op.f("uq_announcements_chat_id")),
    )
    op.create_index(op.f("ix_announcements_class_id"), "announcements", ["class_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_announcements_class_id"), table_name="announcements")
    op.drop_table("announcements")
    op.drop_table("announce_chats")
    op.drop_index(op.f("ix_bookings_hold_until"), table_name="bookings")
    op.drop_column("bookings", "hold_until")
    op.drop_column("classes", "listed")
    op.drop_index(op.f("ix_typed_sessions_type_id"), table_name="typed_sessions")
    op.drop_table("typed_sessions")
    op.drop_table("session_types")
