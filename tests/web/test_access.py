"""Who may open and post which organisation, offer and vetting page: every role against every endpoint.

Organisation A is the one whose pages are tried; B is another vetted member. Refused posts must
leave A exactly as it was.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from solidarity.members.models import Organisation, User
from solidarity.offers.models import Offer
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.web.pages import sign_in

ROLES = ("anonymous", "member_a", "admin_a", "member_b", "admin_b", "coordinator")
READERS = {"member_a", "admin_a", "coordinator"}
MANAGERS = {"admin_a", "coordinator"}
COORDINATORS = {"coordinator"}

OFFER = {"help_type": "legal", "countries": ["KE"], "languages": "en", "capacity": "5"}
ENDPOINTS = [
    ("GET", "/organisations/{org}", None, READERS),
    ("GET", "/organisations/{org}/edit", None, MANAGERS),
    ("POST", "/organisations/{org}/edit", {"name": "Renamed", "country": "KE", "languages": "en"}, MANAGERS),
    ("GET", "/organisations/{org}/users/new", None, MANAGERS),
    ("POST", "/organisations/{org}/users/new", {"name": "New Person", "email": "new@a.example", "role": "member",
                                                "preferred_language": "en", "password": PASSWORD}, MANAGERS),
    ("GET", "/organisations/{org}/offers/new", None, MANAGERS),
    ("POST", "/organisations/{org}/offers/new", OFFER, MANAGERS),
    ("GET", "/offers/{offer}/edit", None, MANAGERS),
    ("POST", "/offers/{offer}/edit", OFFER, MANAGERS),
    ("POST", "/offers/{offer}/confirm", {}, MANAGERS),
    ("GET", "/offers/{offer}/withdraw", None, MANAGERS),
    ("POST", "/offers/{offer}/withdraw", {}, MANAGERS),
    ("GET", "/coordinator/organisations", None, COORDINATORS),
    ("POST", "/coordinator/organisations/{org}/vetting", {"status": "suspended"}, COORDINATORS),
]


@dataclass
class World:
    org: Organisation
    offer: Offer
    users: dict[str, User]


@pytest.fixture
def world(make) -> World:
    a, b = make.org("Organisation A"), make.org("Organisation B")
    users = {"member_a": make.user(a), "admin_a": make.admin_of(a), "member_b": make.user(b),
             "admin_b": make.admin_of(b), "coordinator": make.coordinator()}
    return World(a, make.offer(a, "legal", capacity=1), users)


def snapshot(session, world: World) -> tuple:
    session.expire_all()
    org = session.get(Organisation, world.org.id)
    offers = session.scalars(select(Offer).where(Offer.organisation_id == org.id)).all()
    people = session.scalar(select(func.count()).select_from(User).where(User.organisation_id == org.id))
    return (org.name, org.vetting_status, people,
            sorted((o.help_type, o.capacity, o.countries, o.confirmed_at) for o in offers))


@pytest.mark.parametrize("method, path, data, allowed", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
def test_access(app, session, world, role, method, path, data, allowed):
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, world.users[role])
    url = path.format(org=world.org.id, offer=world.offer.id)
    before = snapshot(session, world)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={**data, "csrf_token": csrf_token(client, "/login")})
    if role == "anonymous":
        assert response.status_code == 302 and response.location.startswith("/login")
    elif role in allowed:
        assert response.status_code == (200 if method == "GET" else 302), response.get_data(as_text=True)
    else:
        assert response.status_code == 403
    if method == "POST" and role not in allowed:
        assert snapshot(session, world) == before
    elif method == "POST":
        assert snapshot(session, world) != before
