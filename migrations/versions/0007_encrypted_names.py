"""Names encrypted: users.name and organisations.name become name_ct, sealed like contacts with the
organisation's data key (a coordinator's with its own); the timeline records who acted by user id
(actor_id), never by name.

Revision ID: 0007_encrypted_names
Revises: 0004_lockdown

The rows are converted here, in the same transaction as the schema change, with the keys the app is
configured with (Alembic runs inside the app: migrations/env.py). So no database ever has the new
code facing clear names, or clear names left behind after `db upgrade` "succeeded"; a separate
re-encrypt command would leave exactly that window, and an operator who forgets it. The price: this
revision needs SOLIDARITY_ENCRYPTION_KEYS and cannot be rendered offline (`db upgrade --sql`).
It imports only solidarity.crypto (stable, imports nothing of ours) and never the models, which
will have moved on by the time someone runs it.
"""
import uuid
from datetime import datetime, timezone

from alembic import context, op
import sqlalchemy as sa

import solidarity.fields
from solidarity.crypto import IntegrityError, Keyring, WrappedKey
from solidarity.extensions import keyring

revision = "0007_encrypted_names"
down_revision = "0004_lockdown"
branch_labels = None
depends_on = None

NAMED = ("organisations", "users")  # tables whose `name` becomes `name_ct`
KINDS = ("system", "coordinator", "member")  # timeline actor labels that name no one
UNREADABLE = "(name unreadable)"  # downgrade only: a name whose data key is gone

data_keys = sa.table(
    "data_keys", sa.column("id", sa.Uuid()), sa.column("master_kid", sa.String()),
    sa.column("wrapped", sa.LargeBinary()), sa.column("created_at", solidarity.fields.UTCDateTime(timezone=True)))
organisations = sa.table(
    "organisations", sa.column("id", sa.Uuid()), sa.column("name", sa.String()),
    sa.column("name_ct", sa.LargeBinary()), sa.column("data_key_id", sa.Uuid()))
users = sa.table(
    "users", sa.column("id", sa.Uuid()), sa.column("organisation_id", sa.Uuid()), sa.column("role", sa.String()),
    sa.column("name", sa.String()), sa.column("name_ct", sa.LargeBinary()), sa.column("data_key_id", sa.Uuid()))
timeline = sa.table(
    "incident_timeline", sa.column("id", sa.Uuid()), sa.column("incident_id", sa.Uuid()),
    sa.column("actor_label", sa.String()), sa.column("actor_id", sa.Uuid()))
incidents = sa.table("incidents", sa.column("id", sa.Uuid()), sa.column("organisation_id", sa.Uuid()))
matches = sa.table("matches", sa.column("incident_id", sa.Uuid()), sa.column("organisation_id", sa.Uuid()))


def _online_only():
    if context.is_offline_mode():
        raise RuntimeError("0007_encrypted_names encrypts existing names with the configured keys; "
                           "run `flask --app wsgi db upgrade` against the database, not with --sql")


class _DataKeys:
    """Plaintext data keys by key holder, made the way KeyHolder.data_key_for_writing() makes them
    when a holder has none (or only a destroyed one)."""

    def __init__(self, bind):
        self.bind, self.ring = bind, keyring()
        self.rows = {row.id: row for row in bind.execute(sa.select(data_keys))}

    def plaintext(self, key_id):
        row = self.rows.get(key_id)
        if row is None or row.wrapped is None:
            return None
        return self.ring.unwrap(key_id, WrappedKey(row.master_kid, row.wrapped))

    def of(self, table, holder_id, key_id):
        """(key id, plaintext key) of one holder, creating and attaching a key if needed."""
        data = self.plaintext(key_id) if key_id is not None else None
        if data is not None:
            return key_id, data
        key_id = uuid.uuid4()
        wrapped = self.ring.new_data_key(key_id)
        row = {"id": key_id, "master_kid": wrapped.master_kid, "wrapped": wrapped.wrapped,
               "created_at": datetime.now(timezone.utc)}
        self.bind.execute(data_keys.insert().values(**row))
        self.bind.execute(table.update().where(table.c.id == holder_id).values(data_key_id=key_id))
        self.rows[key_id] = _Row(**row)
        return key_id, self.ring.unwrap(key_id, WrappedKey(wrapped.master_kid, wrapped.wrapped))


class _Row:
    """A data_keys row written here, shaped like one read back."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _encrypt_names(bind):
    keys = _DataKeys(bind)
    org_key = {}
    for org in bind.execute(sa.select(organisations.c.id, organisations.c.name, organisations.c.data_key_id)):
        org_key[org.id] = keys.of(organisations, org.id, org.data_key_id)
        bind.execute(organisations.update().where(organisations.c.id == org.id).values(
            name_ct=_seal(org_key[org.id], org.name, f"organisations.name:{org.id}")))
    for user in bind.execute(sa.select(users.c.id, users.c.organisation_id, users.c.name, users.c.data_key_id)):
        # users.key_holder(): a member's organisation; a coordinator (no organisation) itself.
        key = org_key[user.organisation_id] if user.organisation_id else keys.of(users, user.id, user.data_key_id)
        bind.execute(users.update().where(users.c.id == user.id).values(
            name_ct=_seal(key, user.name, f"users.name:{user.id}")))


def _seal(key, plaintext, context_):
    key_id, data = key
    return Keyring.encrypt(data, key_id, plaintext, context_)


def _timeline_to_ids(bind):
    """Entries labelled with a person's name get `member` and that person's id when the name points at
    exactly one person of an organisation in the case (the reporter or one that was asked); otherwise
    no id, and the timeline shows "a member". Names were never unique, so no guess beyond that."""
    named = list(bind.execute(sa.select(timeline.c.id, timeline.c.incident_id, timeline.c.actor_label)
                              .where(timeline.c.actor_label.not_in(KINDS))))
    if not named:
        return
    in_case = {}
    for row in bind.execute(sa.select(incidents.c.id, incidents.c.organisation_id)):
        in_case.setdefault(row.id, set()).add(row.organisation_id)
    for row in bind.execute(sa.select(matches.c.incident_id, matches.c.organisation_id)):
        in_case.setdefault(row.incident_id, set()).add(row.organisation_id)
    people = {}
    for row in bind.execute(sa.select(users.c.id, users.c.organisation_id, users.c.name)
                            .where(users.c.organisation_id.is_not(None))):
        # The label was the name cut to 80 characters (the column's length).
        people.setdefault((row.organisation_id, row.name[:80]), []).append(row.id)
    for entry in named:
        found = [uid for org_id in in_case.get(entry.incident_id, ()) for uid in people.get((org_id, entry.actor_label), [])]
        bind.execute(timeline.update().where(timeline.c.id == entry.id).values(
            actor_label="member", actor_id=found[0] if len(found) == 1 else None))


def upgrade():
    _online_only()
    for table in NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("name_ct", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("incident_timeline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_incident_timeline_actor_id_users"), "users", ["actor_id"], ["id"],
                                    ondelete="SET NULL")
    bind = op.get_bind()
    _encrypt_names(bind)
    _timeline_to_ids(bind)
    for table in NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("name_ct", existing_type=sa.LargeBinary(), nullable=False)
            batch_op.drop_column("name")


def _open(keys, blob, context_):
    if blob is None:
        return UNREADABLE
    try:
        data = keys.plaintext(Keyring.key_id_of(blob))
        return UNREADABLE if data is None else Keyring.decrypt(data, blob, context_)
    except IntegrityError:
        return UNREADABLE


def downgrade():
    _online_only()
    for table in NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))
    bind = op.get_bind()
    keys = _DataKeys(bind)
    names = {}
    for table in (organisations, users):
        for row in bind.execute(sa.select(table.c.id, table.c.name_ct)):
            name = _open(keys, row.name_ct, f"{table.name}.name:{row.id}")
            names[row.id] = name
            bind.execute(table.update().where(table.c.id == row.id).values(name=name))
    for entry in bind.execute(sa.select(timeline.c.id, timeline.c.actor_id)
                              .where(timeline.c.actor_label == "member", timeline.c.actor_id.is_not(None))):
        if entry.actor_id in names:
            bind.execute(timeline.update().where(timeline.c.id == entry.id).values(
                actor_label=names[entry.actor_id][:80]))
    with op.batch_alter_table("incident_timeline", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_incident_timeline_actor_id_users"), type_="foreignkey")
        batch_op.drop_column("actor_id")
    for table in NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("name", existing_type=sa.String(length=200), nullable=False)
            batch_op.drop_column("name_ct")
