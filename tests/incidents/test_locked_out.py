"""Lockdown and suspension take everything away from an organisation's people, on every path.

members/access.py's may_act is the one rule: sign-in, the browser-session loader, the API token
loader, the SMS webhook and the services ask it. Each test takes the access away through the
coordinator's real action (lockdown.lock_down, or a suspension through members.set_vetting) and
then tries what the red team did: sign in with the right password, then confirm or stop the
check-ins, read the colleagues' contacts, change the account, enrol two-factor, disable a colleague.
tests/test_route_matrix.py proves the same over every route with the state set directly (sessions
that survived the action are refused on their next request).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.clock import utcnow
from solidarity.errors import Forbidden, NotFound
from solidarity.escalation import checkins
from solidarity.escalation.models import CheckIn
from solidarity.incidents import lockdown, service, workspace
from solidarity.matching.models import MatchStatus
from solidarity.members import auth, twofactor
from solidarity.members import service as members
from solidarity.members.models import User, Vetting
from solidarity.notify import links
from solidarity.notify.models import Notification
from solidarity.notify.outbox import enqueue
from solidarity.offers import service as offers
from tests import factories
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer
from tests.incidents import scenario
from tests.notify.conftest import twilio_settings  # noqa: F401 - a fixture, used by name below
from tests.notify.sms import reply_text, text_message

STATES = ("locked_down", "suspended")
SMS_PHONE = "+254712345678"  # the reporter member's phone in tests.incidents.scenario
NEW_EMAIL = "captor@evil.example"
NEW_PASSWORD = "a captor's new passphrase 2026"


def take_away(session, net, org, state, now):
    """The coordinator's action that removes `org`'s access."""
    if state == "locked_down":
        lockdown.lock_down(session, net.coordinator, org, now=now)
    else:
        members.set_vetting(session, net.coordinator, org, "suspended", now=now)


def give_back(session, net, org, state, now):
    if state == "locked_down":
        lockdown.reverify(session, net.coordinator, org, now=now)
    else:
        members.set_vetting(session, net.coordinator, org, "vetted", now=now)


@pytest.fixture
def net(make, session, now):
    """The scenario network with the raid play loaded; A accepted the legal request."""
    return scenario.taken(make, session, now=now)


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


def captor(client, user: User):
    """Try to sign in as `user` with the right password; return the response (to compare)."""
    return client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "csrf_token": csrf_token(client, "/login")})


def web_post(client, path: str, data: dict | None = None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/login")})


def to_login(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/login")


# -- Signing in ------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", STATES)
def test_sign_in_is_refused_with_the_answer_a_wrong_password_gets(app, session, net, now, state):
    take_away(session, net, net.reporter_org, state, now)
    guesser = app.test_client()
    wrong = guesser.post("/login", data={"email": net.reporter_member.email, "password": "not it",
                                         "csrf_token": csrf_token(guesser, "/login")})
    right = captor(app.test_client(), net.reporter_member)
    assert right.status_code == wrong.status_code == 400
    assert _without_tokens(right.get_data(as_text=True)) == _without_tokens(wrong.get_data(as_text=True))
    assert "Email or password is wrong." in right.get_data(as_text=True)
    # The coordinators learn from the audit trail that the right password was used.
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
                              .order_by(AuditEvent.id)).all()
    assert [e.details.get("refused") for e in refused] == [None, state]


@pytest.mark.parametrize("state", STATES)
def test_the_two_factor_step_is_refused_too(app, session, make, net, now, state):
    admin = net.reporter
    make.enrol(admin)
    client = app.test_client()
    response = captor(client, admin)
    assert response.location == "/login/code"  # the password step passed before the lockdown
    take_away(session, net, net.reporter_org, state, now)
    code = client.post("/login/code", data={"code": factories.totp_code(admin),
                                            "csrf_token": csrf_token(client, "/login")})
    assert to_login(code) and to_login(client.get("/"))
    assert to_login(client.get("/login/code"))
    assert captor(app.test_client(), admin).status_code == 400  # and the password step now fails


@pytest.mark.parametrize("state", STATES)
def test_sessions_and_tokens_end_and_stay_ended_when_the_access_comes_back(app, session, make, net, now, state):
    cookie = auth.start_session(session, net.reporter_member, now=now)
    token = make.token(net.reporter_member)
    take_away(session, net, net.reporter_org, state, now)
    hour = timedelta(hours=1)
    assert auth.load_session(session, cookie, now=now, idle=hour, absolute=hour) is None
    assert app.test_client().get("/api/v1/incidents", headers=bearer(token)).status_code == 401
    give_back(session, net, net.reporter_org, state, now)
    assert auth.load_session(session, cookie, now=now, idle=hour, absolute=hour) is None
    assert auth.user_for_token(session, token, now=now) is None
    assert captor(app.test_client(), net.reporter_member).status_code == 302  # a fresh sign-in works again


# -- The dead man's switch -------------------------------------------------------------------------

@pytest.fixture
def checkin(session, net, now):
    return checkins.request_checkins(session, net.reporter, interval_hours=24, incident=net.incident, now=now)


def _unchanged(session, checkin) -> tuple:
    session.expire_all()
    row = session.get(CheckIn, checkin.id)
    return row.state, row.last_confirmed_at, row.next_due_at, row.stopped_at


@pytest.mark.parametrize("state", STATES)
def test_check_ins_are_neither_confirmed_nor_stopped_on_the_web(app, session, net, now, checkin, state):
    before = _unchanged(session, checkin)
    take_away(session, net, net.reporter_org, state, now)
    for person in (net.reporter_member, net.reporter):
        client = app.test_client()
        assert captor(client, person).status_code == 400
        assert to_login(web_post(client, f"/checkins/{checkin.id}/confirm"))
        assert to_login(web_post(client, f"/checkins/{checkin.id}/stop"))
        assert to_login(client.get("/checkins"))
    assert _unchanged(session, checkin) == before


@pytest.mark.parametrize("state", STATES)
def test_check_ins_are_neither_confirmed_nor_stopped_by_the_services(session, net, now, checkin, state):
    before = _unchanged(session, checkin)
    take_away(session, net, net.reporter_org, state, now)
    for person in (net.reporter_member, net.reporter):
        with pytest.raises(Forbidden):
            checkins.confirm_checkin(session, person, checkin.ref, now=now + timedelta(hours=1))
        with pytest.raises(Forbidden):
            checkins.stop_checkins(session, person, session.get(CheckIn, checkin.id), now=now)
        assert checkins.visible_checkins(session, person) == []
    assert _unchanged(session, checkin) == before


@pytest.mark.usefixtures("twilio_settings")
@pytest.mark.parametrize("state", STATES)
def test_check_ins_are_not_confirmed_by_sms(client, session, net, now, checkin, state):
    before = _unchanged(session, checkin)
    take_away(session, net, net.reporter_org, state, now)
    assert reply_text(text_message(client, SMS_PHONE, f"OK {checkin.ref}")) == "Message received."
    assert _unchanged(session, checkin) == before
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "sms.untrusted")).all()
    assert event.details["state"] == state


# -- Contacts, the account, colleagues -------------------------------------------------------------

@pytest.mark.parametrize("state", STATES)
def test_colleagues_contacts_are_not_read(app, session, make, net, now, state):
    token = make.token(net.reporter_member)
    take_away(session, net, net.reporter_org, state, now)
    client = app.test_client()
    assert captor(client, net.reporter_member).status_code == 400
    for path in (f"/organisations/{net.reporter_org.id}", "/organisation"):
        response = client.get(path)
        assert to_login(response) and net.reporter.email not in response.get_data(as_text=True)
    api = app.test_client().get(f"/api/v1/organisations/{net.reporter_org.id}/users", headers=bearer(token))
    assert api.status_code == 401 and net.reporter.email not in api.get_data(as_text=True)


@pytest.mark.parametrize("state", STATES)
def test_the_account_cannot_be_changed_or_kept(app, session, net, now, state):
    person = net.reporter_member
    before = (person.email, person.phone, person.password_hash, person.totp_secret_ct, person.totp_enabled_at)
    take_away(session, net, net.reporter_org, state, now)
    client = app.test_client()
    assert captor(client, person).status_code == 400
    assert to_login(web_post(client, "/account", {"name": person.name, "email": NEW_EMAIL, "phone": "",
                                                  "current_password": PASSWORD}))
    assert to_login(web_post(client, "/account/password", {"current_password": PASSWORD,
                                                           "password": NEW_PASSWORD}))
    assert to_login(client.get("/account/two-factor"))
    assert to_login(web_post(client, "/account/two-factor", {"code": "123456"}))
    # Nor through the services, whoever calls them.
    with pytest.raises(Forbidden):
        members.update_user(session, person, person, {"email": NEW_EMAIL, "current_password": PASSWORD}, now=now)
    with pytest.raises(Forbidden):
        auth.change_password(session, person, PASSWORD, NEW_PASSWORD, now=now)
    with pytest.raises(Forbidden):
        twofactor.confirm_enrolment(session, person, "123456", now=now)
    session.expire_all()
    person = session.get(User, person.id)
    assert (person.email, person.phone, person.password_hash, person.totp_secret_ct,
            person.totp_enabled_at) == before


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("active", ["0", "1"])
def test_an_admin_neither_disables_nor_enables_colleagues(app, session, net, now, state, active):
    colleague = net.reporter_member
    if active == "1":
        colleague.active = False
        session.commit()
    take_away(session, net, net.reporter_org, state, now)
    client = app.test_client()
    assert captor(client, net.reporter).status_code == 400
    assert to_login(web_post(client, f"/users/{colleague.id}/active", {"active": active}))
    with pytest.raises(Forbidden):
        auth.set_active(session, net.reporter, colleague, active == "1", now=now)
    session.expire_all()
    assert session.get(User, colleague.id).active is (active == "0")


# -- Suspension: the cases, users and offers of a responder ----------------------------------------------

def test_a_suspended_responder_reads_nothing_of_the_case_it_took(app, session, make, net, now):
    admin = make.admin_of(net.a)
    token = make.token(admin)
    assert service.describe(session, admin, net.incident, secret=True)["summary"] == scenario.SECRET_SUMMARY
    assert workspace.checklist(session, admin, net.incident) is not None
    # A session that outlived the suspension somehow: refused on its next request.
    browser = app.test_client()
    factories.sign_in(browser, admin)
    net.a.vetting_status = Vetting.suspended
    session.commit()
    page = browser.get(f"/incidents/{net.incident.id}")
    assert to_login(page) and scenario.SECRET_SUMMARY not in page.get_data(as_text=True)
    for path in ("", "/checklist", "/matches"):
        assert app.test_client().get(f"/api/v1/incidents/{net.incident.id}{path}",
                                     headers=bearer(token)).status_code == 401
    with pytest.raises(NotFound):
        service.visible_incident(session, admin, net.incident.id)
    assert workspace.checklist(session, admin, net.incident) is None
    assert service.list_incidents(session, admin) == []


def test_a_suspended_admin_adds_no_users_and_no_offers(app, session, make, net, now):
    admin = make.admin_of(net.a)
    token = make.token(admin)
    members.set_vetting(session, net.coordinator, net.a, "suspended", now=now)
    people, offered = len(net.a.users), len(offers.list_offers(session, net.a))
    with pytest.raises(Forbidden):
        members.add_user(session, admin, net.a, {"name": "Newcomer", "email": "new@alpha.example"}, now=now)
    with pytest.raises(Forbidden):
        offers.create_offer(session, admin, net.a, {"help_type": "relocation", "countries": ["KE"],
                                                    "languages": ["en"]}, now=now)
    api = app.test_client()
    assert api.post(f"/api/v1/organisations/{net.a.id}/users", headers=bearer(token),
                    json={"name": "Newcomer", "email": "new@alpha.example"}).status_code == 401
    assert api.post(f"/api/v1/organisations/{net.a.id}/offers", headers=bearer(token),
                    json={"help_type": "relocation", "countries": ["KE"], "languages": ["en"]}).status_code == 401
    browser = app.test_client()
    assert captor(browser, admin).status_code == 400
    assert to_login(web_post(browser, f"/organisations/{net.a.id}/users/new",
                             {"name": "Newcomer", "email": "new@alpha.example", "role": "member"}))
    assert to_login(web_post(browser, f"/organisations/{net.a.id}/offers/new",
                             {"help_type": "relocation", "countries": "KE"}))
    session.expire_all()
    assert (len(net.a.users), len(offers.list_offers(session, net.a))) == (people, offered)


def test_a_suspended_organisation_is_not_matched_and_not_notified(session, make, net, now):
    fresh = make.org(country="KE")
    make.offer(fresh, "legal", countries=["KE"])
    members.set_vetting(session, net.coordinator, net.b, "suspended", now=now)
    before = set(session.scalars(select(Notification.id)))
    incident = make.incident(make.admin_of(make.org(country="KE")), now=now)
    asked = {m.organisation_id for m in service.visible_matches(session, net.coordinator, incident)}
    assert fresh.id in asked and net.b.id not in asked
    b_people = {u.id for u in net.b.users}
    assert not [n for n in session.scalars(select(Notification)) if n.id not in before and n.user_id in b_people]
    assert all(enqueue(session, person, "checkin_due", now=now, ref="K7QF") == [] for person in net.b.users)


# -- Answering a request ---------------------------------------------------------------------------------

@pytest.mark.usefixtures("twilio_settings")
@pytest.mark.parametrize("state", STATES)
def test_an_asked_responder_answers_by_no_path(app, session, make, net, now, state):
    """D was asked for communications help. Its session and token were issued before; its link was
    emailed. Once D is locked down or suspended (the state set directly, sessions left alive), no
    path answers the request: web page, answer link, API or SMS."""
    person = make.user(net.d, phone="+33612345678")
    match = net.match_of(session, net.d)
    browser, token = app.test_client(), make.token(person)
    factories.sign_in(browser, person)
    link = links.PATH + links.make_token(app.config["SECRET_KEY"], links.AnswerLink(match.id, person.id, True),
                                         now=utcnow())
    csrf = csrf_token(browser, link)
    if state == "locked_down":
        net.d.locked_at = now
    else:
        net.d.vetting_status = Vetting.suspended
    session.commit()
    assert to_login(browser.get(link)) and to_login(browser.post(link, data={"csrf_token": csrf}))
    assert to_login(browser.post(f"/matches/{match.id}/answer", data={"answer": "accept", "csrf_token": csrf}))
    assert app.test_client().post(f"/api/v1/matches/{match.id}/accept", headers=bearer(token)).status_code == 401
    assert reply_text(text_message(app.test_client(), "+33612345678", f"YES {net.incident.ref}")) == \
        "Message received."
    session.expire_all()
    assert session.get(type(match), match.id).status is MatchStatus.notified
