"""Applicants can be rejected with a reason (issue 14): organisations.rejection_reason_ct.

The new vetting status "rejected" needs no schema change: vetting_status is a plain string column.

Revision ID: 0014_rejections
Revises: 0013_request_path_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_rejections"
down_revision = "0013_request_path_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejection_reason_ct", sa.LargeBinary(), nullable=True))


def downgrade():
    op.execute("UPDATE organisations SET vetting_status = 'applied' WHERE vetting_status = 'rejected'")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("rejection_reason_ct")
