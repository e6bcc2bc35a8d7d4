"""Who may do what with an incident and its matches, over the API and the web pages.

One incident (legal + communications help, disclosing summary and contact): A was asked for legal
help and has not answered, B was asked for legal help and accepted, D was asked for communications.
The target match of the match endpoints is A's.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity.audit import AuditEvent
from solidarity.incidents import access, messages, service
from solidarity.incidents.models import Status
from solidarity.matching.models import MatchStatus
from tests import factories
from tests.conftest import csrf_token
from tests.factories import bearer
from tests.incidents.scenario import SECRET_DETAILS, SECRET_SUMMARY, build

ROLES = ("reporter", "other_org", "asked", "accepted", "other_responder", "coordinator", "anonymous")
EVERYTHING = set(access.EVERYTHING) | {"viewer"}
BASICS = set(access.BASICS) | {"viewer"}
# What GET /api/v1/incidents/{id} shows each role: fields, needs, and whether it is an audited reveal.
SEES = {
    "reporter": (EVERYTHING, {"legal", "communications"}, False),
    "asked": (BASICS, {"legal"}, False),
    "accepted": (BASICS | {"status", "summary", "contact"}, {"legal"}, True),
    "other_responder": (BASICS, {"communications"}, False),
    "coordinator": (EVERYTHING, {"legal", "communications"}, True),
}


class World:
    def __init__(self, make, session, client, now):
        self.net = build(make, now=now)
        self.session, self.client = session, client
        self.target = self.net.match_of(session, self.net.a)
        b_match = self.net.match_of(session, self.net.b)
        service.answer_match(session, make.admin_of(self.net.b), b_match, True, now=now)
        self.users = {"reporter": self.net.reporter_member, "other_org": make.admin_of(self.net.other),
                      "asked": next(u for u in self.net.a.users if not u.is_org_admin),
                      "accepted": make.admin_of(self.net.b), "other_responder": make.admin_of(self.net.d),
                      "coordinator": self.net.coordinator, "anonymous": None}
        self.make = make

    def headers(self, role):
        user = self.users[role]
        return bearer(self.make.token(user)) if user else {}

    def sign_in(self, role):
        user = self.users[role]
        if user is None:
            return csrf_token(self.client, "/login")
        response = factories.sign_in(self.client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return csrf_token(self.client, "/incidents")

    def reveals(self) -> int:
        return self.session.scalar(select(func.count()).where(AuditEvent.action == "incident.revealed"))


@pytest.fixture
def world(make, session, client, now):
    return World(make, session, client, now)


# -- API ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_api_list(world, role):
    response = world.client.get("/api/v1/incidents", headers=world.headers(role))
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    listed = {row["id"] for row in response.json}
    assert (str(world.net.incident.id) in listed) is (role != "other_org")
    assert not any(key in row for row in response.json for key in access.SECRET)  # lists never decrypt


@pytest.mark.parametrize("role", ROLES)
def test_api_get_incident(world, role):
    before = world.reveals()
    response = world.client.get(f"/api/v1/incidents/{world.net.incident.id}", headers=world.headers(role))
    expected = {"anonymous": 401, "other_org": 404}.get(role, 200)
    assert response.status_code == expected, response.json
    if expected != 200:
        assert world.reveals() == before
        return
    fields, needs, audited = SEES[role]
    body = response.json
    assert set(body) == fields
    assert {n["help_type"] for n in body["needs"]} == needs
    if "summary" in body:
        assert body["summary"] == SECRET_SUMMARY
    if "contact" in body:
        assert body["contact"]["phone"] == "+254712345678"
    assert ("details" in body) is (role in ("reporter", "coordinator"))
    assert world.reveals() == before + (1 if audited else 0)


@pytest.mark.parametrize("role", ROLES)
def test_api_patch_incident(world, role):
    response = world.client.patch(f"/api/v1/incidents/{world.net.incident.id}", headers=world.headers(role),
                                  json={"note": "Lawyer on the way"})
    expected = {"anonymous": 401, "other_org": 404, "reporter": 200, "coordinator": 200}.get(role, 403)
    assert response.status_code == expected, response.json
    notes = [e for e in world.net.incident.timeline if e.kind == "note"]
    assert len(notes) == (1 if expected == 200 else 0)


@pytest.mark.parametrize("role", ROLES)
def test_api_list_matches(world, role):
    response = world.client.get(f"/api/v1/incidents/{world.net.incident.id}/matches", headers=world.headers(role))
    expected = {"anonymous": 401, "other_org": 404}.get(role, 200)
    assert response.status_code == expected
    if expected != 200:
        return
    orgs = {m["organisation_id"] for m in response.json}
    net = world.net
    everyone = {str(net.a.id), str(net.b.id), str(net.d.id)}
    own = {"asked": {str(net.a.id)}, "accepted": {str(net.b.id)}, "other_responder": {str(net.d.id)}}
    assert orgs == own.get(role, everyone)
    assert all(m["reasons"] and m["wave"] == 1 for m in response.json)
    # The score counts reporters' ratings in: coordinators only (incidents/access.py sees_ratings).
    assert all((m["score"] > 0) if role == "coordinator" else m["score"] is None for m in response.json)


@pytest.mark.parametrize("answer", ["accept", "decline"])
@pytest.mark.parametrize("role", ROLES)
def test_api_answer_match(world, role, answer):
    response = world.client.post(f"/api/v1/matches/{world.target.id}/{answer}", headers=world.headers(role))
    expected = {"anonymous": 401, "asked": 200, "reporter": 403, "coordinator": 403}.get(role, 404)
    assert response.status_code == expected, response.json
    world.session.refresh(world.target)
    if expected == 200:
        assert response.json["status"] == {"accept": "accepted", "decline": "declined"}[answer]
    else:
        assert world.target.status is MatchStatus.notified


# -- The case conversation (incidents/messages.py) ------------------------------------------------------

THREAD_READERS = ("reporter", "accepted", "coordinator")  # asked, other_responder (asked only): nothing


@pytest.mark.parametrize("role", ROLES)
def test_api_thread(world, role):
    path = f"/api/v1/incidents/{world.net.incident.id}/messages"
    posted = world.client.post(path, headers=world.headers(role), json={"body": f"from the {role}"})
    read = world.client.get(path, headers=world.headers(role))
    if role == "anonymous":
        assert posted.status_code == read.status_code == 401
        return
    if role not in THREAD_READERS:
        assert posted.status_code == read.status_code == 404
        assert "thread" not in posted.get_data(as_text=True)
        return
    assert posted.status_code == 201, posted.json
    assert read.status_code == 200 and f"from the {role}" in [p["body"] for p in read.json]


# Per role: POST progress, POST a contact request, PUT mute, PUT history (the accepted responder is B;
# the incident already discloses its contact, so B's request is a 409).
THREAD_ACTIONS = {
    "reporter": (403, 403, 204, 204), "other_org": (404,) * 4, "asked": (404,) * 4,
    "accepted": (201, 409, 204, 403), "other_responder": (404,) * 4, "coordinator": (403, 403, 204, 403),
    "anonymous": (401,) * 4,
}


@pytest.mark.parametrize("role", ROLES)
def test_api_thread_actions(world, role):
    base, headers = f"/api/v1/incidents/{world.net.incident.id}", world.headers(role)
    calls = (world.client.post(f"{base}/progress", headers=headers, json={"state": "progress", "body": "On it"}),
             world.client.post(f"{base}/contact-requests", headers=headers),
             world.client.put(f"{base}/thread/mute", headers=headers, json={"muted": True}),
             world.client.put(f"{base}/thread/history", headers=headers, json={"shared": True}))
    assert tuple(c.status_code for c in calls) == THREAD_ACTIONS[role]


@pytest.mark.parametrize("role", ROLES)
def test_web_thread(world, role):
    messages.post(world.session, world.net.reporter, world.net.incident, "CANARY thread text",
                  now=world.net.incident.created_at)
    world.sign_in(role)
    response = world.client.get(f"/incidents/{world.net.incident.id}")
    if role in ("anonymous", "other_org"):
        assert response.status_code in (302, 404)
        return
    page = response.get_data(as_text=True)
    assert ("CANARY thread text" in page) is (role in THREAD_READERS)
    assert ('id="thread"' in page) is (role in THREAD_READERS)


# -- Web pages -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_web_list(world, role):
    world.sign_in(role)
    response = world.client.get("/incidents")
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
        return
    assert response.status_code == 200
    assert (world.net.incident.ref in response.get_data(as_text=True)) is (role != "other_org")


@pytest.mark.parametrize("role", ROLES)
def test_web_incident_page(world, role):
    world.sign_in(role)
    before = world.reveals()
    response = world.client.get(f"/incidents/{world.net.incident.id}")
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
        return
    expected = 404 if role == "other_org" else 200
    assert response.status_code == expected
    page = response.get_data(as_text=True)
    sees_summary = role in ("reporter", "accepted", "coordinator")
    assert (SECRET_SUMMARY in page) is sees_summary
    assert (SECRET_DETAILS in page) is (role in ("reporter", "coordinator"))
    assert (f"Reported by <bdi>{world.net.reporter_org.name}</bdi>" in page) is (role in ("reporter", "coordinator"))
    assert ("Accept</button>" in page) is (role in ("asked", "other_responder"))  # each its own request
    assert ("Withdraw the case" in page) is (role in ("reporter", "coordinator"))
    assert world.reveals() == before + (1 if role in ("accepted", "coordinator") else 0)


@pytest.mark.parametrize("role", ROLES)
def test_web_change_status(world, role):
    token = world.sign_in(role)
    response = world.client.post(f"/incidents/{world.net.incident.id}/status",
                                 data={"status": "withdrawn", "note": "", "csrf_token": token})
    expected = {"anonymous": 302, "other_org": 404, "reporter": 302, "coordinator": 302}.get(role, 403)
    assert response.status_code == expected
    world.session.refresh(world.net.incident)
    changed = role in ("reporter", "coordinator")
    assert (world.net.incident.status is Status.withdrawn) is changed
    if role == "anonymous":
        assert "/login" in response.location


@pytest.mark.parametrize("role", ROLES)
def test_web_answer_match(world, role):
    token = world.sign_in(role)
    response = world.client.post(f"/matches/{world.target.id}/answer", data={"answer": "accept", "csrf_token": token})
    expected = {"anonymous": 302, "asked": 302, "reporter": 403, "coordinator": 403}.get(role, 404)
    assert response.status_code == expected
    world.session.refresh(world.target)
    assert (world.target.status is MatchStatus.accepted) is (role == "asked")
