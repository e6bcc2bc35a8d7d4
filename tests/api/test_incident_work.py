"""/api/v1/incidents/{id}/needs, /checklist and /reviews: the workspace's actions over the API, by role."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity.incidents import service
from solidarity.matching.models import Review
from solidarity.playbook import service as playbook
from solidarity.playbook.models import ChecklistProgress
from tests.incidents.test_access_matrix import ROLES, World

MANAGERS = {"reporter", "coordinator"}


@pytest.fixture
def world(make, session, client, now):
    playbook.load_initial_playbook(session, now=now)
    return World(make, session, client, now)


def expected_for(role, allowed: set[str], ok: int) -> int:
    return {"anonymous": 401, "other_org": 404}.get(role, ok if role in allowed else 403)


def url(world, tail: str) -> str:
    return f"/api/v1/incidents/{world.net.incident.id}/{tail}"


@pytest.mark.parametrize("role", ROLES)
def test_needs_by_role(world, role):
    added = world.client.post(url(world, "needs"), headers=world.headers(role), json={"help_type": "relocation"})
    assert added.status_code == expected_for(role, MANAGERS, 201), added.json
    removed = world.client.delete(url(world, "needs/communications"), headers=world.headers(role))
    assert removed.status_code == expected_for(role, MANAGERS, 204)
    world.session.expire_all()
    assert {n.help_type for n in world.net.incident.needs} == (
        {"legal", "relocation"} if role in MANAGERS else {"legal", "communications"})
    if role in MANAGERS:
        assert added.json == {"help_type": "relocation", "state": "seeking", "wave": 1}


@pytest.mark.parametrize(("body", "field"), [({}, "help_type"), ({"help_type": 7}, "help_type"),
                                             ({"help_type": "plumbing"}, "help_type")])
def test_bad_needs_name_the_field(world, body, field):
    response = world.client.post(url(world, "needs"), headers=world.headers("reporter"), json=body)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == field


@pytest.mark.parametrize("role", ROLES)
def test_checklist_by_role(world, role):
    response = world.client.get(url(world, "checklist"), headers=world.headers(role))
    sees = {"reporter", "accepted", "coordinator"}
    assert response.status_code == ({"anonymous": 401}.get(role, 200 if role in sees else 404))
    if response.status_code != 200:
        return
    body = response.json
    assert body["play_version_id"] == str(world.net.incident.play_version_id) and body["done"] == 0
    assert [s["can_mark"] for s in body["steps"]] == [
        role in MANAGERS or s["actor"] == "responders" for s in body["steps"]]


@pytest.mark.parametrize("role", ROLES)
def test_ticking_a_responders_step_by_role(world, role):
    steps = world.client.get(url(world, "checklist"), headers=world.headers("reporter")).json["steps"]
    target = next(s for s in steps if s["actor"] == "responders")
    response = world.client.put(url(world, f"checklist/{target['step_id']}"), headers=world.headers(role),
                                json={"done": True})
    allowed = MANAGERS | {"accepted"}
    assert response.status_code == expected_for(role, allowed, 200), response.json
    done = world.session.scalar(select(func.count()).where(ChecklistProgress.done_at.is_not(None)))
    assert done == (1 if role in allowed else 0)
    if role in allowed:
        assert response.json["done"] == 1


def test_a_bad_tick_names_the_field(world):
    steps = world.client.get(url(world, "checklist"), headers=world.headers("reporter")).json["steps"]
    response = world.client.put(url(world, f"checklist/{steps[0]['step_id']}"), headers=world.headers("reporter"),
                                json={"done": "perhaps"})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "done"


@pytest.mark.parametrize("role", ROLES)
def test_reviews_by_role(world, role, now):
    net = world.net
    service.change_status(world.session, net.reporter, net.incident, "resolved", now=now)
    subject = net.b.id if role == "reporter" else net.reporter_org.id
    response = world.client.post(url(world, "reviews"), headers=world.headers(role),
                                 json={"subject_organisation_id": str(subject), "rating": 2, "note": "Slow start"})
    allowed = {"reporter", "accepted"}
    assert response.status_code == expected_for(role, allowed, 201), response.json
    assert world.session.scalar(select(func.count()).select_from(Review)) == (1 if role in allowed else 0)
    if role in allowed:
        assert (response.json["rating"], response.json["note"]) == (2, "Slow start")
        listed = world.client.get(url(world, "reviews"), headers=world.headers(role)).json
        assert [r["id"] for r in listed] == [response.json["id"]]


B = "the accepted responder's id"


@pytest.mark.parametrize(("body", "fields"), [
    ({"rating": 3}, {"subject_organisation_id"}),
    ({"subject_organisation_id": "nope", "rating": 3}, {"subject_organisation_id"}),
    ({"rating": "3"}, {"subject_organisation_id", "rating"}),  # every failure at once; strings are not numbers
    ({"subject_organisation_id": B, "rating": 0}, {"rating"}),
    ({"subject_organisation_id": B, "rating": 4, "note": "x" * 1001}, {"note"}),
])
def test_bad_reviews_name_the_field_and_write_nothing(world, now, body, fields):
    service.change_status(world.session, world.net.reporter, world.net.incident, "resolved", now=now)
    body = {k: str(world.net.b.id) if v == B else v for k, v in body.items()}
    response = world.client.post(url(world, "reviews"), headers=world.headers("reporter"), json=body)
    assert response.status_code == 422, response.json
    assert {e["field"] for e in response.json["errors"]} == fields
    assert world.session.scalar(select(func.count()).select_from(Review)) == 0
