"""A copy of the database holds no name, contact detail or note that was written through the API."""
from __future__ import annotations

import uuid

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.members import phones, service
from solidarity.members.models import User
from tests.factories import bearer
from tests.rawdb import encodings, leaks, raw_dump

ADMIN_EMAIL = "zq-canary-admin-7731@haki-watch.example"
ADMIN_PHONE = "+254 711 839 204"
MEMBER_EMAIL = "Canary.Member-5519@Haki-Watch.example"
MEMBER_PHONE = "+33 6 12 83 95 47"
NOTES = "Safehouse behind Kilimani road 7731, ask for Wanjiru"
NEW_NOTES = "Lawyer Odhiambo answers on Tuesdays at the old court 5519"
ORG_NAME, NEW_ORG_NAME = "Haki Canary Watch", "Haki Canary Observatory"
ADMIN_NAME, MEMBER_NAME, NEW_MEMBER_NAME = "Amina Canaryhassan", "Jean Canarymugabo", "Jean-Pierre Canaryrenamed"

# Each value as typed and as the service stores it (E.164, folded email), plus distinctive pieces.
NEEDLES = [ADMIN_EMAIL, "zq-canary-admin-7731", "+254711839204", "254711839204", "711 839 204",
           MEMBER_EMAIL, MEMBER_EMAIL.lower(), "canary.member-5519", "+33612839547", "612839547",
           NOTES, "Kilimani road 7731", "Wanjiru", NEW_NOTES, "Odhiambo", "old court 5519",
           ORG_NAME, NEW_ORG_NAME, "Canary Watch", ADMIN_NAME, "Canaryhassan", MEMBER_NAME, "Canarymugabo",
           NEW_MEMBER_NAME, "Canaryrenamed"]


def test_encodings_catch_an_embedded_base64_copy():
    import base64

    for prefix in (b"", b"x", b"xy"):
        blob = base64.b64encode(prefix + b"Kilimani road 7731" + b"tail")
        assert any(form in blob for form in encodings("Kilimani road 7731"))


def test_contacts_and_notes_written_through_the_api_are_not_in_the_raw_database(client, make):
    headers = bearer(make.token(make.coordinator()))
    created = client.post("/api/v1/organisations", headers=headers, json={
        "name": ORG_NAME, "country": "KE", "languages": ["sw", "en"],
        "admin": {"name": ADMIN_NAME, "email": ADMIN_EMAIL, "phone": ADMIN_PHONE}})
    assert created.status_code == 201, created.json
    org_id = created.json["id"]
    added = client.post(f"/api/v1/organisations/{org_id}/users", headers=headers, json={
        "name": MEMBER_NAME, "email": MEMBER_EMAIL, "phone": MEMBER_PHONE, "role": "member"})
    assert added.status_code == 201, added.json
    offer = client.post(f"/api/v1/organisations/{org_id}/offers", headers=headers, json={
        "help_type": "legal", "countries": ["KE"], "languages": ["sw"], "notes": NOTES})
    assert offer.status_code == 201, offer.json
    # The first note is overwritten, so it survives only where storage keeps old versions of rows.
    patched = client.patch(f"/api/v1/offers/{offer.json['id']}", headers=headers, json={"notes": NEW_NOTES})
    assert patched.status_code == 200, patched.json
    # Renamed too: the old names survive only where storage keeps old versions of rows.
    assert client.patch(f"/api/v1/organisations/{org_id}", headers=headers,
                        json={"name": NEW_ORG_NAME}).status_code == 200
    service.update_user(db.session, make.coordinator(), service.get_user(db.session, added.json["id"]),
                        {"name": NEW_MEMBER_NAME}, now=utcnow())  # as the organisation page does

    # The values are really there, readable through the API: the absence below is not vacuous.
    people = client.get(f"/api/v1/organisations/{org_id}/users", headers=headers).json
    assert {(p["name"], p["email"], p["phone"]) for p in people} == {
        (ADMIN_NAME, "zq-canary-admin-7731@haki-watch.example", None),
        (NEW_MEMBER_NAME, "canary.member-5519@haki-watch.example", None)}
    assert client.get(f"/api/v1/organisations/{org_id}", headers=headers).json["name"] == NEW_ORG_NAME
    # The numbers wait, encrypted, for their SMS codes to come back (members/phones.py).
    waiting = {p["email"]: phones.open_claim(db.session, db.session.get(User, uuid.UUID(p["id"])), now=utcnow())
               for p in people}
    assert {email: claim.phone for email, claim in waiting.items()} == {
        "zq-canary-admin-7731@haki-watch.example": "+254711839204",
        "canary.member-5519@haki-watch.example": "+33612839547"}
    assert client.get(f"/api/v1/organisations/{org_id}/offers", headers=headers).json[0]["notes"] == NEW_NOTES

    db.session.remove()
    dump = raw_dump(db.engine)
    assert org_id.replace("-", "").encode() in dump.replace(b"-", b"")  # the dump sees the rows at all
    assert leaks(dump, NEEDLES) == []


def test_what_a_copy_still_shows_without_the_keys(client, make, session):
    """The honest half of docs/threat-model.md: who reported what kind of attack, where and when, and
    which organisations were asked, stay readable, because matching, escalation and the indicators
    query them. Should one of these be encrypted one day, this test says the threat model changed."""
    reporter = make.org("Organisation reporting", country="UG")
    helper = make.org("Organisation helping", country="UG")
    make.offer(helper, "legal")
    incident = make.incident(make.admin_of(reporter), threat_type="detention", country="UG",
                             summary="Canary summary 4471 stays secret")
    ids = (incident.ref, reporter.id.hex, helper.id.hex, incident.id.hex)
    db.session.remove()
    dump = raw_dump(db.engine)
    flat = dump.replace(b"-", b"")
    for clear in (*ids, "detention", "UG"):
        assert clear.encode() in flat, clear
    assert leaks(dump, ["Canary summary 4471", "Organisation reporting", "Organisation helping"]) == []
