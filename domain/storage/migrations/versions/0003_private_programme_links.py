"""private programme links

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_token", sa.String(length=24), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_programmes_link_token"), ["link_token"])


def downgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_programmes_link_token"), type_="unique")
        batch_op.drop_column("link_token")
