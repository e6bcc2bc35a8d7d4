"""A copy of the database holds no contact detail or note that was written through the API."""
from __future__ import annotations

import uuid

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.members import phones
from solidarity.members.models import User
from tests.factories import bearer
from tests.rawdb import encodings, leaks, raw_dump

ADMIN_EMAIL = "zq-canary-admin-7731@haki-watch.example"
ADMIN_PHONE = "+254 711 839 204"
MEMBER_EMAIL = "Canary.Member-5519@Haki-Watch.example"
MEMBER_PHONE = "+33 6 12 83 95 47"
NOTES = "Safehouse behind Kilimani road 7731, ask for Wanjiru"
NEW_NOTES = "Lawyer Odhiambo answers on Tuesdays at the old court 5519"

# Each value as typed and as the service stores it (E.164, folded email), plus distinctive pieces.
NEEDLES = [ADMIN_EMAIL, "zq-canary-admin-7731", "+254711839204", "254711839204", "711 839 204",
           MEMBER_EMAIL, MEMBER_EMAIL.lower(), "canary.member-5519", "+33612839547", "612839547",
           NOTES, "Kilimani road 7731", "Wanjiru", NEW_NOTES, "Odhiambo", "old court 5519"]


def test_encodings_catch_an_embedded_base64_copy():
    import base64

    for prefix in (b"", b"x", b"xy"):
        blob = base64.b64encode(prefix + b"Kilimani road 7731" + b"tail")
        assert any(form in blob for form in encodings("Kilimani road 7731"))


def test_contacts_and_notes_written_through_the_api_are_not_in_the_raw_database(client, make):
    headers = bearer(make.token(make.coordinator()))
    created = client.post("/api/v1/organisations", headers=headers, json={
        "name": "Haki Watch", "country": "KE", "languages": ["sw", "en"],
        "admin": {"name": "Amina", "email": ADMIN_EMAIL, "phone": ADMIN_PHONE}})
    assert created.status_code == 201, created.json
    org_id = created.json["id"]
    added = client.post(f"/api/v1/organisations/{org_id}/users", headers=headers, json={
        "name": "Jean", "email": MEMBER_EMAIL, "phone": MEMBER_PHONE, "role": "member"})
    assert added.status_code == 201, added.json
    offer = client.post(f"/api/v1/organisations/{org_id}/offers", headers=headers, json={
        "help_type": "legal", "countries": ["KE"], "languages": ["sw"], "notes": NOTES})
    assert offer.status_code == 201, offer.json
    # The first note is overwritten, so it survives only where storage keeps old versions of rows.
    patched = client.patch(f"/api/v1/offers/{offer.json['id']}", headers=headers, json={"notes": NEW_NOTES})
    assert patched.status_code == 200, patched.json

    # The values are really there, readable through the API: the absence below is not vacuous.
    people = client.get(f"/api/v1/organisations/{org_id}/users", headers=headers).json
    # The numbers wait, encrypted, for their SMS codes to come back (members/phones.py).
    waiting = {p["email"]: phones.open_claim(db.session, db.session.get(User, uuid.UUID(p["id"])), now=utcnow())
               for p in people}
    assert {email: claim.phone for email, claim in waiting.items()} == {
        "zq-canary-admin-7731@haki-watch.example": "+254711839204",
        "canary.member-5519@haki-watch.example": "+33612839547"}
    assert client.get(f"/api/v1/organisations/{org_id}/offers", headers=headers).json[0]["notes"] == NEW_NOTES

    db.session.remove()
    dump = raw_dump(db.engine)
    assert b"Haki Watch" in dump  # names are not secret: proves the dump sees the rows at all
    assert leaks(dump, NEEDLES) == []
