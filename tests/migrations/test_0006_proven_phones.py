"""Migration 0006 on data: existing numbers count as proven but one active person keeps each (the
earliest), and email blind indexes that the one normalisation changes (NFKC) are recomputed."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_migrate import upgrade

from solidarity import ROOT, create_app
from solidarity.extensions import db, keyring
from solidarity.fields import UTCDateTime
from solidarity.members import service
from solidarity.members.models import User
from tests.migrations.test_migrations import empty_database_url  # noqa: F401 - the fixture

DIRECTORY = str(ROOT / "migrations")
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
_TYPES = {"id": sa.Uuid(), "data_key_id": sa.Uuid(), "created_at": UTCDateTime(), "updated_at": UTCDateTime()}
users = sa.table("users", *(sa.column(c, _TYPES.get(c)) for c in (
    "id", "role", "name", "email_ct", "email_index", "phone_ct", "phone_index", "preferred_language", "notify_sms",
    "notify_email", "active", "created_at", "updated_at", "data_key_id")))
data_keys = sa.table("data_keys", sa.column("id", sa.Uuid()), sa.column("master_kid"), sa.column("wrapped"),
                     sa.column("created_at", UTCDateTime()))


def _user(conn, ring, key_id, data_key, *, email_typed: str, email_index_of: str, phone: str | None, at):
    user_id = uuid.uuid4()
    conn.execute(sa.insert(users).values(
        id=user_id, role="member", name="Person", preferred_language="en", notify_sms=True, notify_email=True,
        active=True, created_at=at, updated_at=at, data_key_id=key_id,
        email_ct=ring.encrypt(data_key, key_id, email_typed, f"users.email:{user_id}"),
        email_index=ring.blind_index("users.email", email_index_of),
        phone_ct=ring.encrypt(data_key, key_id, phone, f"users.phone:{user_id}") if phone else None,
        phone_index=ring.blind_index("users.phone", phone) if phone else None))
    return user_id


def test_0006_keeps_the_first_holder_of_a_number_and_reindexes_emails(empty_database_url, tmp_path):  # noqa: F811
    app = create_app({"ENV": "testing", "DATABASE_URL": empty_database_url, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        upgrade(directory=DIRECTORY, revision="0004_lockdown")
        ring = keyring()
        key_id = uuid.uuid4()
        wrapped = ring.new_data_key(key_id)
        data_key = ring.unwrap(key_id, wrapped)
        with db.engine.begin() as conn:
            conn.execute(sa.insert(data_keys).values(id=key_id, master_kid=wrapped.master_kid, wrapped=wrapped.wrapped,
                                                     created_at=T0))
            first = _user(conn, ring, key_id, data_key, email_typed="owner@ngo.example",
                          email_index_of="owner@ngo.example", phone="+254712345690", at=T0)
            later = _user(conn, ring, key_id, data_key, email_typed="claimer@evil.example",
                          email_index_of="claimer@evil.example", phone="+254712345690", at=T0 + timedelta(days=1))
            # Stored under the old rule (lower() only): the ligature stayed in the index.
            ligature = _user(conn, ring, key_id, data_key, email_typed="ﬁnn@ngo.example",
                             email_index_of="ﬁnn@ngo.example", phone=None, at=T0)
        upgrade(directory=DIRECTORY)
        db.session.remove()
        assert db.session.get(User, first).phone == "+254712345690"
        assert db.session.get(User, later).phone is None
        assert db.session.get(User, first).email_confirmed_at == T0  # everyone already here signs in as before
        assert service.find_user_by_email(db.session, "finn@ngo.example").id == ligature
        assert service.find_user_by_email(db.session, "ﬁnn@ngo.example").id == ligature
        assert service.find_user_by_email(db.session, "owner@ngo.example").id == first
        db.session.remove()
        db.engine.dispose()
