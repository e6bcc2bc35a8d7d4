"""Check-in pages: set up for an incident with errors beside their fields, confirm with one button."""
from __future__ import annotations

import re

from sqlalchemy import select

from solidarity.escalation import checkins
from solidarity.escalation.models import CheckIn, CheckInState
from solidarity.incidents import service as incidents
from tests.conftest import csrf_token
from tests.escalation.network import build, file, matches
from tests.factories import PASSWORD


def sign_in(client, user) -> None:
    token = csrf_token(client, "/login")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def test_reporter_sets_up_and_confirms_checkins_for_an_incident(make, client, session, now):
    net = build(make, responders=2, coordinators=1)
    incident = file(make, net, now=now, severity=4)
    taken = matches(session, incident)[0]
    incidents.answer_match(session, make.admin_of(taken.organisation), taken, True, now=now)
    sign_in(client, net.reporter)
    path = f"/incidents/{incident.id}/checkins"
    page = client.get(path)
    assert page.status_code == 200 and b"Start check-ins" in page.data and b"<script" not in page.data
    assert taken.organisation.name in page.get_data(as_text=True)  # only those who took the case are offered

    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token, "interval_hours": "0", "grace_minutes": "1"})
    assert refused.status_code == 422
    errors = dict(re.findall(r'<p class="error" id="([a-z_]+)-err">([^<]*)</p>', refused.get_data(as_text=True)))
    assert set(errors) == {"interval_hours", "grace_minutes"}
    assert session.scalar(select(CheckIn)) is None

    started = client.post(path, data={"csrf_token": token, "interval_hours": "4", "grace_minutes": "20",
                                      "responder_org_ids": [str(taken.organisation_id)]})
    assert started.status_code == 302
    checkin = session.scalar(select(CheckIn))
    assert (checkin.ref, checkin.interval_hours, checkin.grace_minutes) == (incident.ref, 4, 20)
    assert checkin.responder_org_ids == [str(taken.organisation_id)]
    shown = client.get(started.headers["Location"]).get_data(as_text=True)
    assert f"OK {incident.ref}" in shown and "We are safe" in shown

    before = checkin.next_due_at
    assert client.post(f"/checkins/{checkin.id}/confirm", data={"csrf_token": token}).status_code == 302
    session.expire_all()
    assert checkin.next_due_at > before and checkin.state is CheckInState.active


def test_other_organisations_cannot_set_up_or_confirm(make, client, session, now):
    net = build(make, responders=2, coordinators=1)
    incident = file(make, net, now=now, severity=4)
    stranger = make.admin_of(net.responders[0])
    sign_in(client, stranger)
    assert client.get(f"/incidents/{incident.id}/checkins").status_code in (403, 404)
    checkin = checkins.request_checkins(session, net.reporter, incident=incident, interval_hours=4, now=now)
    token = csrf_token(client, "/checkins")
    assert client.post(f"/checkins/{checkin.id}/confirm", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/checkins/{checkin.id}/stop", data={"csrf_token": token}).status_code == 403
    assert b"No check-in is running" in client.get("/checkins").data
