"""Lockdown: organisations.locked_at (issue 7).

Revision ID: 0004_lockdown
Revises: 0003_sign_in
"""
from alembic import op
import sqlalchemy as sa

import solidarity.fields

revision = "0004_lockdown"
down_revision = "0003_sign_in"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("locked_at")
