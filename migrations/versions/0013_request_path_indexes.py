"""Indexes that keep the request path of filing an incident independent of history (issue 17):
the fan-out cap reads one window of notifications, ranking one window of each candidate's matches.

Revision ID: 0013_request_path_indexes
Revises: 0012_messages
"""
from alembic import op

revision = "0013_request_path_indexes"
down_revision = "0012_messages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_template_created", ["template", "created_at", "incident_id"],
                              unique=False)
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.create_index("ix_matches_status_org", ["status", "organisation_id"], unique=False)
        batch_op.create_index("ix_matches_created_org", ["created_at", "organisation_id"], unique=False)


def downgrade():
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index("ix_matches_created_org")
        batch_op.drop_index("ix_matches_status_org")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_template_created")
