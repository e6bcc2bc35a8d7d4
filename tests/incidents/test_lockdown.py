"""Lockdown: one coordinator action ends every login of an organisation, hides its incidents from
them, stops trusting its SMS, and tells the responders helping it to wait; re-verifying is audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.errors import Conflict, Forbidden, NotFound
from solidarity.incidents import lockdown, service
from solidarity.incidents.models import Incident, NeedState
from solidarity.matching.models import MatchStatus
from solidarity.members import access as member_access
from solidarity.members import auth
from solidarity.members import service as members_service
from solidarity.notify.models import Notification
from tests.factories import bearer
from tests.incidents import scenario
from tests.notify.conftest import twilio_settings  # noqa: F401 - a fixture, used by name below
from tests.notify.sms import reply_text, text_message
from tests.web.pages import post, sign_in

SMS_PHONE = "+254712345678"  # the reporter member's phone in tests.incidents.scenario


@pytest.fixture
def net(make, session, now):
    net = scenario.build(make, now=now)
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    return net


def actions(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_lockdown_ends_every_session_and_token_and_hides_the_incidents(session, make, net, now):
    reporter, member = net.reporter, net.reporter_member
    cookie = auth.start_session(session, reporter, now=now)
    token = make.token(member)
    done = lockdown.lock_down(session, net.coordinator, net.reporter_org, now=now)
    assert done["sessions_ended"] == 1 and done["tokens_revoked"] == 1
    assert auth.load_session(session, cookie, now=now, idle=timedelta(hours=1), absolute=timedelta(hours=1)) is None
    assert auth.user_for_token(session, token, now=now) is None
    # A fresh sign-in (the password may be known to whoever holds the phone) sees nothing.
    for person in (reporter, member):
        assert service.list_incidents(session, person) == []
        with pytest.raises(NotFound):
            service.visible_incident(session, person, net.incident.id)
        with pytest.raises(Forbidden):
            make.incident(person, now=now)
    [event] = actions(session, "organisation.locked_down")
    assert event.actor_id == str(net.coordinator.id) and event.target_id == str(net.reporter_org.id)


def test_the_reporter_sees_its_incident_again_after_reverification(session, net, now):
    lockdown.lock_down(session, net.coordinator, net.reporter_org, now=now)
    lockdown.reverify(session, net.coordinator, net.reporter_org, now=now)
    assert service.visible_incident(session, net.reporter, net.incident.id)[1].value == "reporter"
    [event] = actions(session, "organisation.reverified")
    assert event.actor_id == str(net.coordinator.id) and event.target_id == str(net.reporter_org.id)


def test_responders_helping_are_told_to_wait_with_the_reference_only(session, make, net, now):
    before = set(session.scalars(select(Notification.id)))
    done = lockdown.lock_down(session, net.coordinator, net.reporter_org, now=now)
    new = [n for n in session.scalars(select(Notification)) if n.id not in before]
    helping = {u.id for u in net.a.users}
    assert new and {n.user_id for n in new} == helping and done["messages_queued"] == len(new)
    assert all(n.template == "case_paused" and n.params == {"ref": net.incident.ref} for n in new)
    # Those asked but not answered are no longer asked; the circle stops widening until re-verified.
    b_match, d_match = net.match_of(session, net.b), net.match_of(session, net.d)
    assert b_match.status is MatchStatus.expired and d_match.status is MatchStatus.expired
    seeking = [n for n in net.incident.needs if n.state is NeedState.seeking]
    assert seeking and all(n.next_wave_at is None for n in seeking)
    lockdown.reverify(session, net.coordinator, net.reporter_org, now=now)
    assert all(n.next_wave_at == now for n in seeking)


def test_a_locked_organisation_is_asked_nothing_and_sent_nothing(session, make, net, now):
    fresh = make.org(country="KE")
    make.offer(fresh, "legal", countries=["KE"])
    lockdown.lock_down(session, net.coordinator, net.b, now=now)
    incident = make.incident(make.admin_of(make.org(country="KE")), now=now)
    asked = {m.organisation_id for m in service.visible_matches(session, net.coordinator, incident)}
    assert fresh.id in asked and net.b.id not in asked
    b_people = {u.id for u in net.b.users}
    assert not [n for n in session.scalars(select(Notification).where(Notification.incident_id == incident.id))
                if n.user_id in b_people]


def test_a_locked_responder_cannot_answer(session, make, net, now):
    lockdown.lock_down(session, net.coordinator, net.a, now=now)
    with pytest.raises(NotFound):
        service.visible_match(session, make.admin_of(net.a), net.match_of(session, net.a).id)
    with pytest.raises(Forbidden):
        service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), False, now=now)


def test_only_coordinators_lock_down_and_not_twice(session, net, now):
    with pytest.raises(Forbidden):
        lockdown.lock_down(session, net.reporter, net.a, now=now)
    with pytest.raises(Conflict):
        lockdown.reverify(session, net.coordinator, net.a, now=now)
    lockdown.lock_down(session, net.coordinator, net.a, now=now)
    with pytest.raises(Conflict):
        lockdown.lock_down(session, net.coordinator, net.a, now=now)
    with pytest.raises(Forbidden):
        lockdown.reverify(session, net.reporter, net.a, now=now)


# -- SMS -------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("twilio_settings")
def test_sms_from_a_locked_organisation_is_not_trusted_until_reverified(client, session, net, now):
    lockdown.lock_down(session, net.coordinator, net.reporter_org, now=now)
    filed = session.query(Incident).count()
    for body in ("RAID HELP LEGAL", f"YES {net.incident.ref}", "HELP", "START"):
        assert reply_text(text_message(client, SMS_PHONE, body)) == "Message received."
    assert session.query(Incident).count() == filed
    assert len(actions(session, "sms.untrusted")) == 4
    lockdown.reverify(session, net.coordinator, net.reporter_org, now=now)
    assert reply_text(text_message(client, SMS_PHONE, "RAID HELP LEGAL")).startswith("Report received")
    assert session.query(Incident).count() == filed + 1


# -- HTTP ------------------------------------------------------------------------------------------

def test_the_api_locks_down_and_reverifies(client, session, make, net):
    coordinator = bearer(make.token(net.coordinator))
    member_token = make.token(net.reporter)
    path = f"/api/v1/organisations/{net.reporter_org.id}/lockdown"
    assert client.post(path, headers=bearer(make.token(net.b.users[0]))).status_code == 403
    response = client.post(path, headers=coordinator)
    assert response.status_code == 200 and response.json["tokens_revoked"] == 1
    assert response.json["locked_at"] and response.json["organisation_id"] == str(net.reporter_org.id)
    assert client.get("/api/v1/incidents", headers=bearer(member_token)).status_code == 401
    assert client.post(path, headers=coordinator).json["errors"][0]["field"] == "organisation"
    response = client.delete(path, headers=coordinator)
    assert response.status_code == 200 and response.json["locked_at"] is None
    assert client.delete(path, headers=coordinator).status_code == 409


def test_the_coordinator_page_has_the_button(client, session, make, net):
    sign_in(client, net.coordinator)
    page = "/coordinator/organisations"
    response = post(client, f"/coordinator/organisations/{net.reporter_org.id}/lockdown", page=page)
    assert response.status_code == 302
    session.refresh(net.reporter_org)
    assert net.reporter_org.locked_at is not None
    assert "Locked down since" in client.get(page).get_data(as_text=True)
    post(client, f"/coordinator/organisations/{net.reporter_org.id}/reverify", page=page)
    session.refresh(net.reporter_org)
    assert net.reporter_org.locked_at is None


def test_members_cannot_press_the_button(client, session, make, net):
    sign_in(client, net.reporter)
    response = post(client, f"/coordinator/organisations/{net.reporter_org.id}/lockdown", page="/incidents/new")
    assert response.status_code == 403
    session.refresh(net.reporter_org)
    assert net.reporter_org.locked_at is None


def test_a_locked_admin_manages_nothing_and_reads_no_contacts(session, net, now):
    lockdown.lock_down(session, net.coordinator, net.reporter_org, now=now)
    admin, org = net.reporter, net.reporter_org
    assert not member_access.can_manage_org(admin, org.id)
    assert not member_access.can_read_contacts(admin, org.id)
    assert not member_access.can_vouch(admin)
    with pytest.raises(Forbidden):
        members_service.add_user(session, admin, org, {"name": "Mole", "email": "mole@example.org"}, now=now)
    lockdown.reverify(session, net.coordinator, org, now=now)
    assert member_access.can_manage_org(admin, org.id) and member_access.can_vouch(admin)
