"""enrolments may wait for staff confirmation; notes to the teacher

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")
OPEN = sa.text("status IN ('pending', 'active')")


def upgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        # a pending enrolment counts as enrolled too: one pending-or-active per programme
        batch_op.drop_index(
            "uq_enrolments_active_client_programme", sqlite_where=ACTIVE, postgresql_where=ACTIVE
        )
        batch_op.create_index(
            "uq_enrolments_open_client_programme",
            ["client_id", "programme_id"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.drop_column("notes")
    # pending enrolments did not exist before: they become active, as they would have started
    op.execute("UPDATE enrolments SET status = 'active' WHERE status = 'pending'")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolments_open_client_programme", sqlite_where=OPEN, postgresql_where=OPEN
        )
        batch_op.create_index(
            "uq_enrolments_active_client_programme",
            ["client_id", "programme_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
        batch_op.drop_column("notes")
        batch_op.drop_column("confirmed_at")
