"""Inbound SMS by MessageSid (webhook retries answered once) and heartbeats/the scheduler lease (issue 12).

Revision ID: 0009_inbound_heartbeats
Revises: 0007_encrypted_names
"""
from alembic import op
import sqlalchemy as sa

import solidarity.fields

revision = "0009_inbound_heartbeats"
down_revision = "0007_encrypted_names"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("beat_at", solidarity.fields.UTCDateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=True),
        sa.Column("lease_until", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_heartbeats")),
    )
    op.create_table(
        "inbound_sms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("received_at", solidarity.fields.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reply_ct", sa.LargeBinary(), nullable=True),
        sa.Column("data_key_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_keys.id"], name=op.f("fk_inbound_sms_data_key_id_data_keys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_sms")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_inbound_sms_message_sid")),
    )
    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_sms_received_at"), ["received_at"], unique=False)


def downgrade():
    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_sms_received_at"))
    op.drop_table("inbound_sms")
    op.drop_table("heartbeats")
