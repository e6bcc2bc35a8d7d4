"""The case conversation (issue 15): messages, readers' places, contact requests, the reporter's
history choice.

Revision ID: 0012_messages
Revises: 0006_proven_phones
"""
from alembic import op
import sqlalchemy as sa

import solidarity.fields

revision = "0012_messages"
down_revision = "0006_proven_phones"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thread_history_shared", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        "incident_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("private_to_id", sa.Uuid(), nullable=True),
        sa.Column("help_type", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", solidarity.fields.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_incident_messages_author_id_users")),
        sa.ForeignKeyConstraint(["author_organisation_id"], ["organisations.id"],
                                name=op.f("fk_incident_messages_author_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_incident_messages_incident_id_incidents"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["private_to_id"], ["organisations.id"],
                                name=op.f("fk_incident_messages_private_to_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_messages")),
        sa.UniqueConstraint("incident_id", "seq", name=op.f("uq_incident_messages_incident_id")),
    )
    with op.batch_alter_table("incident_messages", schema=None) as batch_op:
        batch_op.create_index("ix_incident_messages_author", ["author_id", "created_at"], unique=False)
    op.create_table(
        "incident_thread_readers",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.Column("muted_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notice_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_incident_thread_readers_incident_id_incidents"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_incident_thread_readers_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "user_id", name=op.f("pk_incident_thread_readers")),
    )
    with op.batch_alter_table("incident_thread_readers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_thread_readers_user_id"), ["user_id"], unique=False)
    op.create_table(
        "incident_contact_shares",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_at", solidarity.fields.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_incident_contact_shares_incident_id_incidents"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_incident_contact_shares_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("incident_id", "organisation_id", name=op.f("pk_incident_contact_shares")),
    )


def downgrade():
    op.drop_table("incident_contact_shares")
    with op.batch_alter_table("incident_thread_readers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_thread_readers_user_id"))
    op.drop_table("incident_thread_readers")
    with op.batch_alter_table("incident_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_messages_author")
    op.drop_table("incident_messages")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("thread_history_shared")
