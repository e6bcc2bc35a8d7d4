"""The organisation, user and offer endpoints: what they store, and how they refuse bad input.

Every refusal is a 4xx whose errors name the failing field, and writes nothing: the row count of
every table is the same before and after.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.members import phones
from solidarity.members import service as members
from solidarity.offers.models import Offer
from tests.factories import bearer

VALID_ORG = {"name": "Haki Watch", "country": "KE", "languages": ["sw", "en"],
             "admin": {"name": "Amina", "email": "amina@haki.example", "phone": "+254711839204"}}


def _counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _merge(base: dict, change: dict) -> dict:
    out = {**base}
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


_DROP = object()


def _refused(response, *fields: str) -> None:
    assert 400 <= response.status_code < 500, response.json
    named = {e["field"] for e in response.json["errors"]}
    assert set(fields) <= named, response.json


@pytest.fixture
def coordinator(make):
    return bearer(make.token(make.coordinator()))


# -- organisations ----------------------------------------------------------------------------------

def test_register_stores_normalised_values_and_derives_the_region(client, coordinator):
    response = client.post("/api/v1/organisations", headers=coordinator, json=_merge(VALID_ORG, {
        "country": " ke ", "languages": ["SW", "en", "sw"],
        "admin": {"email": "Amina@Haki.Example", "phone": "+254 711-839 204"}}))
    assert response.status_code == 201, response.json
    org = response.json
    assert (org["country"], org["region"], org["region_name"], org["languages"], org["vetting_status"]) == (
        "KE", "014", "Eastern Africa", ["sw", "en"], "applied")
    assert org["created_at"].endswith("+00:00")
    people = client.get(f"/api/v1/organisations/{org['id']}/users", headers=coordinator).json
    # The number waits for its SMS code to come back (members/phones.py) before it is the admin's.
    assert [(p["email"], p["phone"], p["phone_pending"], p["role"]) for p in people] == [
        ("amina@haki.example", None, True, "org_admin")]


@pytest.mark.parametrize(("change", "fields"), [
    ({"country": "XX"}, ["country"]),
    ({"country": "Kenya"}, ["country"]),
    ({"country": ""}, ["country"]),
    ({"country": _DROP}, ["country"]),
    ({"languages": ["xx"]}, ["languages"]),
    ({"languages": ["english"]}, ["languages"]),
    ({"languages": []}, ["languages"]),
    ({"languages": "en"}, ["languages"]),
    ({"name": "  "}, ["name"]),
    ({"admin": {"email": "not-an-email"}}, ["admin.email"]),
    ({"admin": {"email": "amina@haki"}}, ["admin.email"]),
    ({"admin": {"phone": "12345"}}, ["admin.phone"]),
    ({"admin": {"phone": "+1 555 0100"}}, ["admin.phone"]),
    ({"admin": {"phone": "call me"}}, ["admin.phone"]),
    ({"admin": {"preferred_language": "zz"}}, ["admin.preferred_language"]),
    ({"admin": {"password": "short"}}, ["admin.password"]),
    ({"admin": _DROP}, ["admin"]),
    ({"website": "https://haki.example"}, ["website"]),
    ({"admin": {"twitter": "@haki"}}, ["admin.twitter"]),
    ({"consent_share_contacts": "yes please"}, ["consent_share_contacts"]),
    ({"country": "XX", "languages": ["xx"], "admin": {"email": "nope", "phone": "123"}},
     ["country", "languages", "admin.email", "admin.phone"]),  # every failing field at once
])
def test_register_refuses_invalid_input_naming_the_field_and_writes_nothing(client, coordinator, change, fields):
    before = _counts()
    _refused(client.post("/api/v1/organisations", headers=coordinator, json=_merge(VALID_ORG, change)), *fields)
    assert _counts() == before


def test_register_refuses_an_email_already_registered(client, coordinator, make):
    taken = make.admin_of(make.org()).email
    before = _counts()
    response = client.post("/api/v1/organisations", headers=coordinator,
                           json=_merge(VALID_ORG, {"admin": {"email": taken.upper()}}))
    _refused(response, "admin.email")
    assert _counts() == before


@pytest.mark.parametrize(("change", "fields"), [
    ({"country": "XX"}, ["country"]),
    ({"languages": ["xx"]}, ["languages"]),
    ({"languages": []}, ["languages"]),
    ({"vetting_status": "approved"}, ["vetting_status"]),
    ({"region": "014"}, ["region"]),  # derived from the country, never set
    ({"name": "New name", "country": "XX"}, ["country"]),  # the valid half is not written either
])
def test_change_refuses_invalid_input_naming_the_field_and_writes_nothing(client, coordinator, make, change, fields):
    org = make.org("Original", country="KE")
    before = (_counts(), client.get(f"/api/v1/organisations/{org.id}", headers=coordinator).json)
    _refused(client.patch(f"/api/v1/organisations/{org.id}", headers=coordinator, json=change), *fields)
    assert (_counts(), client.get(f"/api/v1/organisations/{org.id}", headers=coordinator).json) == before


def test_changing_the_country_changes_the_region(client, make):
    member = make.member(country="KE")
    response = client.patch(f"/api/v1/organisations/{member.org.id}", headers=bearer(member.token),
                            json={"country": "br", "languages": ["pt"]})
    assert response.status_code == 200, response.json
    assert (response.json["country"], response.json["region"], response.json["languages"]) == ("BR", "005", ["pt"])


def test_unknown_ids_are_404_naming_the_id(client, coordinator):
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path in [("GET", f"/api/v1/organisations/{missing}"), ("PATCH", f"/api/v1/offers/{missing}"),
                         ("GET", f"/api/v1/organisations/{missing}/users")]:
        response = client.open(path, method=method, headers=coordinator, json={})
        assert response.status_code == 404
        assert response.json["errors"][0]["field"] == "id"


# -- users ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "fields"), [
    ({"email": "bad@"}, ["email"]),
    ({"phone": "0712"}, ["phone"]),  # too short, even read in the organisation's country
    ({"phone": "+254 12"}, ["phone"]),
    ({"preferred_language": "klingon"}, ["preferred_language"]),
    ({"role": "coordinator"}, ["role"]),
    ({"role": "owner"}, ["role"]),
    ({"notify_sms": "sometimes"}, ["notify_sms"]),
    ({"email": _DROP}, ["email"]),
    ({"mood": "calm"}, ["mood"]),
])
def test_add_user_refuses_invalid_input_naming_the_field_and_writes_nothing(client, make, data, fields):
    member = make.member()
    person = _merge({"name": "Jean", "email": "jean@haki.example", "phone": "+33612839547"}, data)
    before = _counts()
    _refused(client.post(f"/api/v1/organisations/{member.org.id}/users", headers=bearer(member.token),
                         json=person), *fields)
    assert _counts() == before


def test_add_user_stores_e164_and_a_folded_email(client, make):
    member = make.member()
    response = client.post(f"/api/v1/organisations/{member.org.id}/users", headers=bearer(member.token), json={
        "name": "Jean", "email": "Jean.Dupont@Haki.Example", "phone": "+33 6 12 83 95 47", "role": "member",
        "preferred_language": "FR", "notify_sms": False})
    assert response.status_code == 201, response.json
    assert {k: response.json[k] for k in ("email", "phone", "phone_pending", "role", "preferred_language",
                                          "notify_sms")} == {
        "email": "jean.dupont@haki.example", "phone": None, "phone_pending": True, "role": "member",
        "preferred_language": "fr", "notify_sms": False}
    user = members.find_user_by_email(db.session, "jean.dupont@haki.example")
    assert phones.open_claim(db.session, user, now=utcnow()).phone == "+33612839547"
    assert "password" not in response.json and "password_hash" not in response.json


# -- offers ---------------------------------------------------------------------------------------

VALID_OFFER = {"help_type": "legal", "countries": ["KE", "ug"], "languages": ["en"], "capacity": 3}


@pytest.mark.parametrize(("change", "fields"), [
    ({"help_type": "catering"}, ["help_type"]),
    ({"help_type": _DROP}, ["help_type"]),
    ({"capacity": 0}, ["capacity"]),
    ({"capacity": 101}, ["capacity"]),
    ({"capacity": "many"}, ["capacity"]),
    ({"capacity": 2.5}, ["capacity"]),
    ({"countries": ["XX"]}, ["countries"]),
    ({"regions": ["999"]}, ["regions"]),
    ({"languages": ["xx"]}, ["languages"]),
    ({"languages": []}, ["languages"]),
    ({"countries": []}, ["countries"]),  # covers nowhere
    ({"worldwide": "perhaps"}, ["worldwide"]),
    ({"notes": "x" * 4001}, ["notes"]),
    ({"budget": 1000}, ["budget"]),
    ({"help_type": "catering", "capacity": 0, "countries": ["XX"]}, ["help_type", "capacity", "countries"]),
])
def test_add_offer_refuses_invalid_input_naming_the_field_and_writes_nothing(client, make, change, fields):
    member = make.member()
    before = _counts()
    _refused(client.post(f"/api/v1/organisations/{member.org.id}/offers", headers=bearer(member.token),
                         json=_merge(VALID_OFFER, change)), *fields)
    assert _counts() == before


@pytest.mark.parametrize(("change", "fields"), [
    ({"help_type": "catering"}, ["help_type"]),
    ({"capacity": -1}, ["capacity"]),
    ({"countries": [], "regions": [], "worldwide": False}, ["countries"]),
    ({"languages": ["english"]}, ["languages"]),
    ({"capacity": 7, "regions": ["999"]}, ["regions"]),  # the valid half is not written either
    ({"organisation_id": "00000000-0000-4000-8000-000000000000"}, ["organisation_id"]),
])
def test_change_offer_refuses_invalid_input_naming_the_field_and_writes_nothing(client, make, change, fields):
    member = make.member()
    offer = make.offer(member.org, countries=["KE"], capacity=2, notes="kept")
    before = _counts(), client.get(f"/api/v1/organisations/{member.org.id}/offers", headers=bearer(member.token)).json
    _refused(client.patch(f"/api/v1/offers/{offer.id}", headers=bearer(member.token), json=change), *fields)
    assert (_counts(), client.get(f"/api/v1/organisations/{member.org.id}/offers",
                                  headers=bearer(member.token)).json) == before


def test_offer_lifecycle_through_the_api(client, make):
    member = make.member(country="KE")
    headers = bearer(member.token)
    created = client.post(f"/api/v1/organisations/{member.org.id}/offers", headers=headers, json={
        "help_type": "Digital_Security", "countries": ["ke", "UG", "KE"], "regions": ["014"], "languages": ["en", "sw"],
        "capacity": 2, "notes": "Can travel within 24 hours"})
    assert created.status_code == 201, created.json
    offer = created.json
    assert (offer["help_type"], offer["countries"], offer["regions"], offer["worldwide"], offer["languages"],
            offer["capacity"], offer["active"], offer["notes"]) == (
        "digital_security", ["KE", "UG"], ["014"], False, ["en", "sw"], 2, True, "Can travel within 24 hours")

    changed = client.patch(f"/api/v1/offers/{offer['id']}", headers=headers, json={
        "help_type": "legal", "worldwide": True, "countries": [], "regions": [], "active": False, "notes": None})
    assert changed.status_code == 200, changed.json
    assert (changed.json["help_type"], changed.json["countries"], changed.json["worldwide"], changed.json["active"],
            changed.json["notes"], changed.json["languages"]) == ("legal", [], True, False, None, ["en", "sw"])
    stored = db.session.get(Offer, db.session.scalar(select(Offer.id)))
    db.session.refresh(stored)
    assert {(a.kind, a.code, a.help_type) for a in stored.areas} == {("world", "world", "legal")}

    assert client.delete(f"/api/v1/offers/{offer['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/organisations/{member.org.id}/offers", headers=headers).json == []
    assert _counts()["offer_areas"] == 0 and _counts()["offer_languages"] == 0


def test_openapi_document_lists_the_member_endpoints(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    for path, methods in {"/api/v1/organisations": {"get", "post"},
                          "/api/v1/organisations/{org_id}": {"get", "patch"},
                          "/api/v1/organisations/{org_id}/vouch": {"post"},
                          "/api/v1/organisations/{org_id}/users": {"get", "post"},
                          "/api/v1/organisations/{org_id}/offers": {"get", "post"},
                          "/api/v1/offers/{offer_id}": {"patch", "delete"}}.items():
        assert methods <= set(paths[path]), path
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
