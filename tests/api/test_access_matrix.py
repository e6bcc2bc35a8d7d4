"""Who may call which organisation, user and offer endpoint: every role against every endpoint.

The world: vetted organisations A (the target) and B, an applicant C, one offer of A. A refused
call changes nothing, and nobody outside A ever gets A's contacts or offer notes in a response.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from solidarity.extensions import db
from solidarity.members import service
from solidarity.members.models import Organisation, User, Vetting
from solidarity.offers.models import Offer
from tests.factories import PASSWORD, bearer

ROLES = ("anonymous", "coordinator", "admin_a", "member_a", "admin_b", "member_b")
_emails = itertools.count(1)


def _new_person() -> dict:
    return {"name": "New Person", "email": f"new{next(_emails)}@matrix.example", "phone": "+254700000001"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # formatted with a, c (the applicant) and offer ids
    expect: tuple[int, ...]  # one status per role, in ROLES order
    body: object = None  # a dict, or a function making one (for bodies that must be unique)
    touches_a: bool = True  # a call about A (or its offer): hidden from outsiders when A is not vetted

    def json(self):
        return self.body() if callable(self.body) else self.body


#                anonymous coordinator admin_a member_a admin_b member_b
ENDPOINTS = [
    Endpoint("list organisations", "GET", "/api/v1/organisations", (401, 200, 200, 200, 200, 200),
             touches_a=False),
    Endpoint("register organisation", "POST", "/api/v1/organisations", (401, 201, 403, 403, 403, 403),
             body=lambda: {"name": "Newcomer", "country": "UG", "languages": ["en"], "admin": _new_person()},
             touches_a=False),
    Endpoint("read organisation", "GET", "/api/v1/organisations/{a}", (401, 200, 200, 200, 200, 200)),
    Endpoint("change organisation", "PATCH", "/api/v1/organisations/{a}", (401, 200, 200, 403, 403, 403),
             body={"name": "Renamed", "languages": ["fr"]}),
    Endpoint("change nothing", "PATCH", "/api/v1/organisations/{a}", (401, 200, 200, 403, 403, 403), body={}),
    Endpoint("suspend organisation", "PATCH", "/api/v1/organisations/{a}", (401, 200, 403, 403, 403, 403),
             body={"vetting_status": "suspended"}),
    Endpoint("rename and suspend organisation", "PATCH", "/api/v1/organisations/{a}",
             (401, 200, 403, 403, 403, 403), body={"name": "Renamed", "vetting_status": "suspended"}),
    Endpoint("vouch for applicant", "POST", "/api/v1/organisations/{c}/vouch", (401, 403, 200, 403, 200, 403),
             touches_a=False),
    Endpoint("set the SMS PIN", "PUT", "/api/v1/organisations/{a}/sms-pin", (401, 200, 200, 403, 403, 403),
             body={"pin": "4821"}),
    Endpoint("remove the SMS PIN", "DELETE", "/api/v1/organisations/{a}/sms-pin", (401, 200, 200, 403, 403, 403)),
    Endpoint("list users", "GET", "/api/v1/organisations/{a}/users", (401, 200, 200, 200, 403, 403)),
    Endpoint("add user", "POST", "/api/v1/organisations/{a}/users", (401, 201, 201, 403, 403, 403),
             body=_new_person),
    Endpoint("list offers", "GET", "/api/v1/organisations/{a}/offers", (401, 200, 200, 200, 403, 403)),
    Endpoint("add offer", "POST", "/api/v1/organisations/{a}/offers", (401, 201, 201, 403, 403, 403),
             body={"help_type": "relocation", "regions": ["014"], "languages": ["en"], "capacity": 2}),
    Endpoint("change offer", "PATCH", "/api/v1/offers/{offer}", (401, 200, 200, 403, 404, 404),
             body={"capacity": 5, "notes": "changed"}),
    Endpoint("withdraw offer", "DELETE", "/api/v1/offers/{offer}", (401, 204, 204, 403, 404, 404)),
]
ORG_A_ENDPOINTS = [e for e in ENDPOINTS if e.touches_a]

A_SECRETS = ("alpha-admin@alpha.example", "alpha-member@alpha.example", "+254711839204", "+254722839205",
             "Alpha's safehouse note")


class World:
    def __init__(self, make, client):
        self.client = client
        coordinator = make.coordinator()
        self.a = make.org("Alpha")
        admin_a = make.admin_of(self.a)
        service.update_user(db.session, admin_a, admin_a, {"email": A_SECRETS[0], "phone": A_SECRETS[2],
                                                       "current_password": PASSWORD},
                            now=self.a.created_at)
        member_a = service.add_user(db.session, admin_a, self.a, {
            "name": "Alpha Member", "email": A_SECRETS[1], "phone": A_SECRETS[3]}, now=self.a.created_at)
        self.b = make.org("Beta", country="UG")
        member_b = make.user(self.b)
        self.c = make.org("Gamma", vetted=False)
        self.offer = make.offer(self.a, notes=A_SECRETS[4])
        people = {"coordinator": coordinator, "admin_a": admin_a, "member_a": member_a,
                  "admin_b": make.admin_of(self.b), "member_b": member_b}
        self.tokens = {role: make.token(user) for role, user in people.items()}
        self.ids = {"a": self.a.id, "c": self.c.id, "offer": self.offer.id}

    def call(self, endpoint: Endpoint, role: str):
        headers = bearer(self.tokens[role]) if role in self.tokens else {}
        return self.client.open(endpoint.path.format(**self.ids), method=endpoint.method, headers=headers,
                                json=endpoint.json())

    def state(self) -> tuple:
        """Everything a call could change, read fresh from the database."""
        db.session.expire_all()
        orgs = [(o.id, o.name, o.languages, o.vetting_status, len(o.vouches), o.sms_pin_hash)
                for o in db.session.scalars(select(Organisation).order_by(Organisation.id))]
        users = sorted((u.id, u.organisation_id, u.role, u.name, u.email, u.phone)
                       for u in db.session.scalars(select(User)))
        offers = sorted((o.id, o.help_type, o.capacity, o.active, o.notes, tuple(o.regions))
                        for o in db.session.scalars(select(Offer)))
        return orgs, users, offers


@pytest.fixture
def world(make, client):
    return World(make, client)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name.replace(" ", "_"))
def test_access(world, endpoint, role):
    before = world.state()
    response = world.call(endpoint, role)
    expected = endpoint.expect[ROLES.index(role)]
    assert response.status_code == expected, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.json["errors"], body
        if response.status_code == 401:
            assert response.json["errors"][0]["field"] == "Authorization"
        assert world.state() == before, "a refused call changed something"
    if role not in ("coordinator", "admin_a", "member_a"):
        assert not [s for s in A_SECRETS if s in body], "A's contacts or notes reached an outsider"


@pytest.mark.parametrize("role", ["admin_b", "member_b"])
@pytest.mark.parametrize("status", [Vetting.applied, Vetting.suspended])
def test_an_organisation_that_is_not_vetted_is_hidden_from_other_members(world, make, role, status):
    if status is Vetting.applied:
        world.a.vetting_status = Vetting.applied
        db.session.commit()
    else:
        service.set_vetting(db.session, make.coordinator(), world.a, status.value, now=world.a.created_at)
    before = world.state()
    seen = {e.name: world.call(e, role).status_code for e in ORG_A_ENDPOINTS}
    assert seen == {e.name: 404 for e in ORG_A_ENDPOINTS}
    listed = world.call(ENDPOINTS[0], role).json
    assert str(world.a.id) not in {o["id"] for o in listed}
    assert world.state() == before


@pytest.mark.parametrize("role", ["coordinator", "admin_a", "member_a"])
def test_an_organisation_that_is_not_vetted_is_still_visible_to_itself_and_coordinators(world, role):
    world.a.vetting_status = Vetting.applied
    db.session.commit()
    assert world.call(ENDPOINTS[2], role).status_code == 200
    assert str(world.a.id) in {o["id"] for o in world.call(ENDPOINTS[0], role).json}
