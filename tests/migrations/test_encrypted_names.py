"""0007_encrypted_names on a database that already has people in it: names leave the clear, existing
keys keep working, nothing referring to a person is lost, and the timeline points at ids."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from solidarity import ROOT, create_app
from solidarity.crypto import Keyring
from solidarity.extensions import db, keyring
from solidarity.fields import UTCDateTime
from solidarity.incidents import service
from solidarity.incidents.models import Incident, TimelineEntry
from solidarity.members.models import Organisation, SignInSession, User
from tests.migrations.test_migrations import empty_database_url  # noqa: F401 - the fixture
from tests.rawdb import leaks, raw_dump

REVISION = "0007_encrypted_names"
DIRECTORY = str(ROOT / "migrations")
AT = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
REPORTER_ORG, RESPONDER_ORG = "Zephyrine Canary Rights", "Quillonet Legal Aid"
MEMBER, NAMESAKE, RESPONDER, COORDINATOR = "Wambui Canarykin", "Otieno Twinsby", "Achieng Farlowe", "Kestrel Odinga"
FILLER, FILLERS = "Filler Canaryperson", 300
NAMES = [REPORTER_ORG, RESPONDER_ORG, MEMBER, NAMESAKE, RESPONDER, COORDINATOR, "Canarykin", "Twinsby", "Farlowe",
         *(f"{FILLER} {n}" for n in range(0, FILLERS, 7))]

TYPES = {"uuid": sa.Uuid(), "blob": sa.LargeBinary(), "text": sa.String(), "when": UTCDateTime(), "int": sa.Integer(),
         "bool": sa.Boolean(), "json": sa.JSON(), "float": sa.Float()}


def _table(name, *columns):
    return sa.table(name, *(sa.column(col, TYPES[kind]) for col, kind in (c.split(":") for c in columns)))


# The tables as the revision before 0007 left them (not the models: they already have name_ct).
DATA_KEYS = _table("data_keys", "id:uuid", "master_kid:text", "wrapped:blob", "created_at:when")
ORGS = _table("organisations", "id:uuid", "name:text", "country:text", "region:text", "languages:json",
              "vetting_status:text", "consent_share_contacts:bool", "data_key_id:uuid", "created_at:when",
              "updated_at:when")
USERS = _table("users", "id:uuid", "organisation_id:uuid", "role:text", "name:text", "email_ct:blob",
               "email_index:text", "preferred_language:text", "notify_sms:bool", "notify_email:bool",
               "active:bool", "data_key_id:uuid", "created_at:when", "updated_at:when")
SESSIONS = _table("sign_in_sessions", "id:text", "user_id:uuid", "created_at:when", "last_seen_at:when")
INCIDENTS = _table("incidents", "id:uuid", "ref:text", "organisation_id:uuid", "channel:text", "threat_type:text",
                   "severity:int", "country:text", "region:text", "status:text", "disclosure:json",
                   "created_at:when", "updated_at:when")
MATCHES = _table("matches", "id:uuid", "incident_id:uuid", "help_type:text", "organisation_id:uuid", "wave:int",
                 "score:float", "reasons:json", "status:text", "created_at:when")
TIMELINE = _table("incident_timeline", "id:uuid", "incident_id:uuid", "at:when", "seq:int", "kind:text",
                  "actor_label:text", "data:json")


def _before() -> str:
    return ScriptDirectory(DIRECTORY).get_revision(REVISION).down_revision


def _org(conn, name, data_key_id=None):
    org_id = uuid.uuid4()
    conn.execute(ORGS.insert().values(id=org_id, name=name, country="KE", region="014", languages=["en"],
                                      vetting_status="vetted", consent_share_contacts=False,
                                      data_key_id=data_key_id, created_at=AT, updated_at=AT))
    return org_id


def _user(conn, name, org_id, role="member", email_ct=b"\x00" * 45, user_id=None):
    user_id = user_id or uuid.uuid4()
    conn.execute(USERS.insert().values(id=user_id, organisation_id=org_id, role=role, name=name, email_ct=email_ct,
                                       email_index=uuid.uuid4().hex, preferred_language="en", notify_sms=True,
                                       notify_email=True, active=True, created_at=AT, updated_at=AT))
    return user_id


def _old_rows() -> dict:
    """Rows as the app wrote them before 0007: the reporter's key already seals its admin's email."""
    ring = keyring()
    key_id = uuid.uuid4()
    wrapped = ring.new_data_key(key_id)
    ids = {"key": key_id}
    with db.engine.begin() as conn:
        conn.execute(DATA_KEYS.insert().values(id=key_id, master_kid=wrapped.master_kid, wrapped=wrapped.wrapped,
                                               created_at=AT))
        ids["reporter"] = _org(conn, REPORTER_ORG, key_id)
        ids["responder_org"] = _org(conn, RESPONDER_ORG)  # no data key yet: the migration makes one
        user_id = uuid.uuid4()
        email = Keyring.encrypt(ring.unwrap(key_id, wrapped), key_id, "wambui@zephyrine.example",
                                f"users.email:{user_id}")
        ids["member"] = _user(conn, MEMBER, ids["reporter"], email_ct=email, user_id=user_id)
        ids["twins"] = [_user(conn, NAMESAKE, ids["reporter"]) for _ in range(2)]
        ids["responder"] = _user(conn, RESPONDER, ids["responder_org"])
        ids["coordinator"] = _user(conn, COORDINATOR, None, role="coordinator")
        # Enough rows to span many pages: the rebuilt tables free the old ones, which must not keep names.
        for n in range(FILLERS):
            _user(conn, f"{FILLER} {n}", ids["reporter"])
        conn.execute(SESSIONS.insert().values(id="s" * 64, user_id=ids["member"], created_at=AT, last_seen_at=AT))
        ids["incident"] = uuid.uuid4()
        conn.execute(INCIDENTS.insert().values(id=ids["incident"], ref="K7QF", organisation_id=ids["reporter"],
                                               channel="web", threat_type="raid", severity=3, country="KE",
                                               region="014", status="responding", disclosure=[], created_at=AT,
                                               updated_at=AT))
        conn.execute(MATCHES.insert().values(id=uuid.uuid4(), incident_id=ids["incident"], help_type="legal",
                                             organisation_id=ids["responder_org"], wave=1, score=1.0, reasons=[],
                                             status="accepted", created_at=AT))
        labels = [MEMBER, "coordinator", NAMESAKE, RESPONDER, "system", COORDINATOR]
        ids["entries"] = {}
        for seq, label in enumerate(labels, 1):
            entry_id = uuid.uuid4()
            conn.execute(TIMELINE.insert().values(id=entry_id, incident_id=ids["incident"], at=AT, seq=seq,
                                                  kind="note", actor_label=label, data={}))
            ids["entries"][label] = entry_id
    return ids


def test_upgrade_encrypts_existing_names_and_points_the_timeline_at_people(empty_database_url, tmp_path):  # noqa: F811
    app = create_app({"ENV": "testing", "DATABASE_URL": empty_database_url, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        upgrade(directory=DIRECTORY, revision=_before())
        ids = _old_rows()
        db.engine.dispose()
        assert leaks(raw_dump(db.engine), [MEMBER, REPORTER_ORG]) == [MEMBER, REPORTER_ORG]  # the test sees them

        upgrade(directory=DIRECTORY)
        db.engine.dispose()
        assert leaks(raw_dump(db.engine), NAMES) == []  # nor in the WAL, nor on SQLite's freed pages

        session = db.session
        member = session.get(User, ids["member"])
        assert (member.name, member.email) == (MEMBER, "wambui@zephyrine.example")  # the old key still opens
        assert session.get(Organisation, ids["reporter"]).data_key_id == ids["key"]
        assert session.get(Organisation, ids["reporter"]).name == REPORTER_ORG
        assert session.get(Organisation, ids["responder_org"]).name == RESPONDER_ORG
        assert session.get(User, ids["responder"]).name == RESPONDER
        coordinator = session.get(User, ids["coordinator"])
        assert coordinator.name == COORDINATOR and coordinator.data_key_id is not None  # its own key, made now
        assert session.scalar(select(func.count()).select_from(SignInSession)) == 1  # no cascade on rebuild

        entries = {e.id: e for e in session.scalars(select(TimelineEntry))}
        by_label = {label: entries[entry_id] for label, entry_id in ids["entries"].items()}
        assert {label: (e.actor_label, e.actor_id) for label, e in by_label.items()} == {
            MEMBER: ("member", ids["member"]),
            RESPONDER: ("member", ids["responder"]),  # a person of an organisation asked on the case
            NAMESAKE: ("member", None),  # two people of that name: no guess
            COORDINATOR: ("member", None),  # names no member of the case
            "coordinator": ("coordinator", None), "system": ("system", None)}
        shown = [e["actor"] for e in service._timeline(session, coordinator, session.get(Incident, ids["incident"]))]
        assert shown == [MEMBER, "coordinator", "a member", RESPONDER, "system", "a member"]
        session.remove()

        downgrade(directory=DIRECTORY, revision=_before())
        with db.engine.connect() as conn:
            assert conn.execute(select(USERS.c.name).where(USERS.c.id == ids["member"])).scalar() == MEMBER
            assert conn.execute(select(ORGS.c.name).where(ORGS.c.id == ids["reporter"])).scalar() == REPORTER_ORG
            labels = dict(conn.execute(select(TIMELINE.c.id, TIMELINE.c.actor_label)).all())
        assert labels[ids["entries"][MEMBER]] == MEMBER and labels[ids["entries"][NAMESAKE]] == "member"
        db.engine.dispose()
