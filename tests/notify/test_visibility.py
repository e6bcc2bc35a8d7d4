"""Coordinators see each incident's notifications; failed ones stand out. Nobody else sees them."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from solidarity.notify.dispatcher import fail
from solidarity.notify.models import Channel, Failure, Notification
from tests import factories
from tests.factories import bearer


@pytest.fixture
def delivered_badly(make, session, now):
    reporter_org = make.org(country="KE")
    responder_org = make.org(country="KE", phone="+254712345651")
    make.offer(responder_org, "legal")
    incident = make.incident(make.admin_of(reporter_org), now=now)
    sms = session.scalar(select(Notification).where(Notification.channel == Channel.sms))
    sms.attempts = 4
    fail(session, sms, Failure.retries_spent, "Twilio error 500: Internal Server Error (attempt 4 of 4)", now=now)
    session.commit()
    return incident, responder_org


def test_api_lists_notifications_for_coordinators(client, make, delivered_badly):
    incident, _ = delivered_badly
    token = make.token(make.coordinator())
    response = client.get(f"/api/v1/incidents/{incident.id}/notifications", headers=bearer(token))
    assert response.status_code == 200
    rows = {(r["channel"], r["status"]): r for r in response.json}
    failed = rows[("sms", "failed")]
    assert (failed["attempts"], failed["failure"]) == (4, "retries_spent")
    assert failed["last_error"].startswith("Twilio error 500")
    assert ("email", "queued") in rows and rows[("email", "queued")]["template"] == "match_request"


def test_api_refuses_everyone_else(client, make, delivered_badly):
    incident, responder_org = delivered_badly
    for user in (make.admin_of(responder_org), make.admin_of(make.org())):
        response = client.get(f"/api/v1/incidents/{incident.id}/notifications", headers=bearer(make.token(user)))
        assert response.status_code == 403
    assert client.get(f"/api/v1/incidents/{incident.id}/notifications").status_code == 401


def test_api_unknown_incident(client, make):
    token = make.token(make.coordinator())
    assert client.get(f"/api/v1/incidents/{uuid.uuid4()}/notifications", headers=bearer(token)).status_code == 404


def sign_in(client, user):
    factories.sign_in(client, user)


def test_page_shows_failed_rows_prominently(client, make, delivered_badly):
    incident, _ = delivered_badly
    sign_in(client, make.coordinator())
    page = client.get(f"/coordinator/incidents/{incident.id}/notifications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<tr class="alert">' in html and "retries spent" in html and "Twilio error 500" in html
    assert "1 of 2 failed" in html


def test_page_is_for_coordinators_only(client, make, delivered_badly):
    incident, responder_org = delivered_badly
    sign_in(client, make.admin_of(responder_org))
    assert client.get(f"/coordinator/incidents/{incident.id}/notifications").status_code == 403
