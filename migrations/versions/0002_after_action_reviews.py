"""After-action reviews: each organisation's rating and encrypted note once an incident is resolved.

Revision ID: 0002_reviews
Revises: be6175eb88ab
"""
from alembic import op
import sqlalchemy as sa

import solidarity.fields

revision = "0002_reviews"
down_revision = "be6175eb88ab"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.Enum("reporter", "responder", name="reviewrole", native_enum=False, length=20),
                  nullable=False),
        sa.Column("author_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("subject_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("note_ct", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", solidarity.fields.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_reviews_author_id_users")),
        sa.ForeignKeyConstraint(["author_organisation_id"], ["organisations.id"],
                                name=op.f("fk_reviews_author_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_reviews_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subject_organisation_id"], ["organisations.id"],
                                name=op.f("fk_reviews_subject_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("incident_id", "author_organisation_id", "subject_organisation_id",
                            name=op.f("uq_reviews_incident_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_reviews_subject_role", ["subject_organisation_id", "role"], unique=False)


def downgrade():
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_subject_role")
        batch_op.drop_index(batch_op.f("ix_reviews_incident_id"))
    op.drop_table("reviews")
