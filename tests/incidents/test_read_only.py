"""A closed or withdrawn incident is read-only (incidents/service.py READ_ONLY), on the web and in
the API: no note, no need added or removed, no checklist tick, no status change (models.TRANSITIONS
has no way back from them). Reviews are the exception: the after-action record of a case, still
written once it is closed, so closing it early costs no organisation its say.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from solidarity.incidents import service, workspace
from solidarity.matching.models import Review
from solidarity.playbook.models import ChecklistProgress, PlayVersion
from tests import factories
from tests.conftest import csrf_token
from tests.factories import bearer
from tests.incidents import scenario


@pytest.fixture
def net(make, session, now):
    """A accepted the legal request, then the reporter resolved and closed (or withdrew) the incident."""
    return scenario.taken(make, session, now=now)


def end(session, net, now, how: str):
    path = ("resolved", "closed") if how == "closed" else ("withdrawn",)
    for status in path:
        service.change_status(session, net.reporter, net.incident, status, now=now + timedelta(days=1))


def first_step(session, net):
    return session.get(PlayVersion, net.incident.play_version_id).steps[0]


def snapshot(session, net) -> tuple:
    session.expire_all()
    incident = service.get_incident(session, net.incident.id)
    ticks = session.scalar(select(func.count()).select_from(ChecklistProgress))
    return incident.status, len(incident.timeline), sorted(n.help_type for n in incident.needs), ticks


@pytest.mark.parametrize("how", ["closed", "withdrawn"])
@pytest.mark.parametrize("who", ["reporter", "coordinator"])
def test_nothing_changes_on_the_web(app, session, net, now, how, who):
    end(session, net, now, how)
    person = net.reporter if who == "reporter" else net.coordinator
    client = app.test_client()
    factories.sign_in(client, person)
    incident = f"/incidents/{net.incident.id}"
    page = client.get(incident).get_data(as_text=True)
    assert "Mark step 1 done" not in page and "Post update" not in page and "Mark " not in page
    before = snapshot(session, net)
    token = csrf_token(client, incident)
    for path, data in ((f"/steps/{first_step(session, net).id}", {"done": "1"}), ("/updates", {"note": "After"}),
                       ("/needs", {"help_type": "relocation"}), ("/needs/remove", {"help_type": "communications"}),
                       ("/status", {"status": "responding"})):
        response = client.post(incident + path, data={**data, "csrf_token": token})
        assert response.status_code == 409, (path, response.status_code)
    assert snapshot(session, net) == before


@pytest.mark.parametrize("how", ["closed", "withdrawn"])
def test_nothing_changes_in_the_api(app, session, make, net, now, how):
    end(session, net, now, how)
    headers = bearer(make.token(net.reporter))
    client = app.test_client()
    base = f"/api/v1/incidents/{net.incident.id}"
    checklist = client.get(base + "/checklist", headers=headers)
    assert checklist.status_code == 200 and not any(s["can_mark"] for s in checklist.json["steps"])
    before = snapshot(session, net)
    for method, path, body in (("PUT", f"/checklist/{first_step(session, net).id}", {"done": True}),
                               ("PATCH", "", {"note": "After the end"}), ("PATCH", "", {"status": "responding"}),
                               ("POST", "/needs", {"help_type": "relocation"}),
                               ("DELETE", "/needs/communications", None)):
        response = client.open(base + path, method=method, headers=headers, json=body)
        assert response.status_code == 409, (method, path, response.json)
        assert response.json["errors"][0]["field"] == "status"
    assert snapshot(session, net) == before


def test_a_closed_incident_is_still_reviewed(app, session, make, net, now):
    end(session, net, now, "closed")
    response = app.test_client().post(f"/api/v1/incidents/{net.incident.id}/reviews",
                                      headers=bearer(make.token(net.reporter)),
                                      json={"subject_organisation_id": str(net.a.id), "rating": 4})
    assert response.status_code == 201, response.json
    assert session.scalar(select(func.count()).select_from(Review)) == 1


def test_a_resolved_incident_is_still_worked_on(session, net, now):
    service.change_status(session, net.reporter, net.incident, "resolved", now=now + timedelta(days=1))
    workspace.mark(session, net.reporter, net.incident, first_step(session, net).id, True, now=now)
    service.add_note(session, net.reporter, net.incident, "Wrapping up", now=now)
    service.change_status(session, net.reporter, net.incident, "responding", now=now + timedelta(days=2))
