"""Proven phone numbers (issue 11): phone_claims, one active person per proven number, email
blind indexes under the one normalisation (NFKC), and users.email_confirmed_at (set for everyone
already here).

Existing numbers count as proven (admins and members entered them before proof existed). Where two
active people hold the same number, the one who registered it first keeps it and the later ones
lose it (they can claim it again and prove it): the later entry is the one an attacker would make.
Stored addresses whose canonical form changes under NFKC (compatibility characters in the local
part: fullwidth letters, ligatures) get their blind index recomputed; the address itself is kept.

Revision ID: 0006_proven_phones
Revises: 0009_inbound_heartbeats
"""
import logging

import sqlalchemy as sa
from alembic import op

import solidarity.fields

revision = "0006_proven_phones"
down_revision = "0009_inbound_heartbeats"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")


def upgrade():
    op.create_table(
        "phone_claims",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("phone_ct", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", solidarity.fields.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", solidarity.fields.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", solidarity.fields.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_phone_claims_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_claims")),
    )
    with op.batch_alter_table("phone_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phone_claims_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_claims_phone_index"), ["phone_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_claims_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", solidarity.fields.UTCDateTime(timezone=True),
                                      nullable=True))
    # Everyone already here signs in as before.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    _one_active_person_per_number()
    op.create_index("uq_users_phone_active", "users", ["phone_index"], unique=True,
                    sqlite_where=sa.text("active"), postgresql_where=sa.text("active"))
    _reindex_emails()


# Typed table stubs, so ids bind the same way on both engines (no model imports: models move on).
users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("active", sa.Boolean()),
                 sa.column("created_at", sa.DateTime()), sa.column("phone_ct", sa.LargeBinary()),
                 sa.column("phone_index", sa.String()), sa.column("email_ct", sa.LargeBinary()),
                 sa.column("email_index", sa.String()))
data_keys = sa.table("data_keys", sa.column("id", sa.Uuid()), sa.column("master_kid", sa.String()),
                     sa.column("wrapped", sa.LargeBinary()))


def _one_active_person_per_number():
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.phone_index)
                        .where(users.c.active.is_(True), users.c.phone_index.is_not(None))
                        .order_by(users.c.created_at, users.c.id)).all()
    seen = set()
    for user_id, index in rows:
        if index in seen:
            conn.execute(users.update().where(users.c.id == user_id).values(phone_ct=None, phone_index=None))
            logger.warning("user %s: its phone number was also an earlier person's; removed", user_id)
        seen.add(index)


def _reindex_emails():
    """Recompute email blind indexes whose value the NFKC step changes. Needs the app's keys (the
    migration runs inside the app); rows whose key is gone keep their index."""
    from solidarity.crypto import IntegrityError, WrappedKey
    from solidarity.extensions import keyring
    from solidarity.members.contact import email_key

    conn = op.get_bind()
    ring = keyring()
    taken = set(conn.scalars(sa.select(users.c.email_index)))
    for user_id, blob, index in conn.execute(sa.select(users.c.id, users.c.email_ct, users.c.email_index)).all():
        try:
            key_id = ring.key_id_of(bytes(blob))
            master_kid, wrapped = conn.execute(sa.select(data_keys.c.master_kid, data_keys.c.wrapped)
                                               .where(data_keys.c.id == key_id)).one()
            data_key = ring.unwrap(key_id, WrappedKey(master_kid, bytes(wrapped)))
            email = ring.decrypt(data_key, bytes(blob), f"users.email:{user_id}")
        except (IntegrityError, TypeError, sa.exc.NoResultFound):
            continue
        canonical = email_key(email)
        new = ring.blind_index("users.email", canonical) if canonical else None
        if new is None or new == index:
            continue
        if new in taken:
            logger.warning("user %s: its address is another account's under the new normalisation; kept", user_id)
            continue
        conn.execute(users.update().where(users.c.id == user_id).values(email_index=new))
        taken.add(new)


def downgrade():
    op.drop_index("uq_users_phone_active", table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
    with op.batch_alter_table("phone_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_claims_created_at"))
        batch_op.drop_index(batch_op.f("ix_phone_claims_phone_index"))
        batch_op.drop_index(batch_op.f("ix_phone_claims_user_id"))
    op.drop_table("phone_claims")
