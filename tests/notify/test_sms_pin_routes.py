"""Issue 11, finding 2 (the PIN half): organisation admins set the SMS PIN on the organisation page
and in the API (audited, hashed with Argon2), and SMS reports and YES/NO answers then need it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity.audit import AuditEvent
from solidarity.incidents.models import Incident
from solidarity.matching.models import Match, MatchStatus
from solidarity.members import service
from tests.conftest import csrf_token
from tests.factories import bearer, sign_in
from tests.notify.sms import reply_text, text_message
from tests.web.pages import errors_by_field, post

NEUTRAL = "Message received."
RESPONDER_PHONE = "+254712345681"
REPORTER_PHONE = "+254712345682"


@pytest.fixture
def network(make, twilio_settings):
    reporter_org = make.org(country="KE", phone=REPORTER_PHONE)
    responder_org = make.org(country="KE", phone=RESPONDER_PHONE)
    make.offer(responder_org, "legal")
    return reporter_org, responder_org


def pin_events(session, org) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(org.id),
                                                                 AuditEvent.action.like("organisation.sms_pin%"))))


def test_an_admin_sets_and_removes_the_pin_on_the_organisation_page(client, session, make):
    org = make.org()
    sign_in(client, make.admin_of(org))
    assert 'href="/organisations/%s/sms-pin"' % org.id in client.get("/organisation").get_data(as_text=True)
    bad = post(client, f"/organisations/{org.id}/sms-pin", {"pin": "12"})
    assert bad.status_code == 422 and "pin" in errors_by_field(bad.get_data(as_text=True))
    assert post(client, f"/organisations/{org.id}/sms-pin", {"pin": "4821"}).status_code == 302
    session.refresh(org)
    assert org.sms_pin_hash.startswith("$argon2") and "4821" not in org.sms_pin_hash
    assert service.verify_sms_pin(org, "4821")
    assert post(client, f"/organisations/{org.id}/sms-pin", {"pin": ""}).status_code == 302
    session.refresh(org)
    assert org.sms_pin_hash is None
    assert pin_events(session, org) == ["organisation.sms_pin_set", "organisation.sms_pin_cleared"]


def test_a_member_cannot_set_it(client, session, make):
    org = make.org()
    sign_in(client, make.user(org))
    response = client.post(f"/organisations/{org.id}/sms-pin",
                           data={"pin": "4821", "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 403
    session.refresh(org)
    assert org.sms_pin_hash is None and pin_events(session, org) == []


def test_the_api_sets_and_removes_the_pin(client, session, make):
    member = make.member()
    path = f"/api/v1/organisations/{member.org.id}/sms-pin"
    refused = client.put(path, headers=bearer(member.token), json={"pin": "12a4"})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "pin"
    done = client.put(path, headers=bearer(member.token), json={"pin": "48210000"})
    assert done.status_code == 200 and done.json == {"organisation_id": str(member.org.id), "sms_pin_required": True}
    assert "48210000" not in done.get_data(as_text=True)
    cleared = client.delete(path, headers=bearer(member.token))
    assert cleared.status_code == 200 and cleared.json["sms_pin_required"] is False
    assert pin_events(session, member.org) == ["organisation.sms_pin_set", "organisation.sms_pin_cleared"]
    outsider = make.member()
    assert client.put(path, headers=bearer(outsider.token), json={"pin": "4821"}).status_code == 403


def test_a_report_needs_the_pin_once_set(client, session, make, network):
    reporter_org, _ = network
    service.set_sms_pin(session, make.admin_of(reporter_org), reporter_org, "4821", now=reporter_org.created_at)
    for body in ("RAID", "RAID 1234"):
        assert reply_text(text_message(client, REPORTER_PHONE, body)) == NEUTRAL
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
    assert reply_text(text_message(client, REPORTER_PHONE, "RAID 4821")).startswith("Report received")


@pytest.mark.parametrize("word", ["YES", "NO"])
def test_an_answer_needs_the_pin_once_set(client, session, make, network, now, word):
    reporter_org, responder_org = network
    incident = make.incident(make.admin_of(reporter_org), now=now)
    service.set_sms_pin(session, make.admin_of(responder_org), responder_org, "4821", now=now)
    for body in (f"{word} {incident.ref}", f"{word} {incident.ref} 1234", word):
        # Without the PIN it reads as a stranger's text: not even whether a request waits.
        assert reply_text(text_message(client, RESPONDER_PHONE, body)) == NEUTRAL
    assert session.scalar(select(Match.status)) is MatchStatus.notified
    answer = reply_text(text_message(client, RESPONDER_PHONE, f"{word} {incident.ref} 4821"))
    assert incident.ref in answer
    assert session.scalar(select(Match.status)) is (MatchStatus.accepted if word == "YES" else MatchStatus.declined)


def test_without_a_pin_answers_work_as_before(client, session, make, network, now):
    reporter_org, _ = network
    incident = make.incident(make.admin_of(reporter_org), now=now)
    assert reply_text(text_message(client, RESPONDER_PHONE, f"YES {incident.ref}")).startswith("Thank you")
