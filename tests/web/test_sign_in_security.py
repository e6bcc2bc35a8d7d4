"""Signing in with two-factor, coordinators made to enrol, resets, disabling, re-authentication."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.members import phones
from solidarity.members.models import ApiToken, SignInSession
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer, sign_in, totp_code
from tests.web.pages import errors_by_field, post


def password_step(client, user, password: str = PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password,
                                       "csrf_token": csrf_token(client, "/login")})


def code_step(client, code: str):
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def enrolled(make):
    user = make.admin_of(make.org())
    return user, make.enrol(user)


def test_with_two_factor_the_password_alone_does_not_sign_in(client, enrolled):
    user, _ = enrolled
    response = password_step(client, user)
    assert response.status_code == 302 and response.location == "/login/code"
    assert client.get("/").location.startswith("/login")  # not signed in yet
    assert actions()[-1] == "auth.password_accepted"
    wrong = code_step(client, "000000" if totp_code(user) != "000000" else "111111")
    assert wrong.status_code == 400 and "wrong or was already used" in wrong.get_data(as_text=True)
    assert actions()[-1] == "auth.login_failed"
    done = code_step(client, totp_code(user))
    assert done.status_code == 302 and done.location == "/"
    assert client.get("/").status_code == 200
    assert actions()[-1] == "auth.login"


def test_the_code_step_refuses_a_code_used_once_already(app, client, enrolled):
    user, _ = enrolled
    code = totp_code(user)
    password_step(client, user)
    assert code_step(client, code).status_code == 302
    thief = app.test_client()  # someone who watched the code being typed, within the same 30 seconds
    password_step(thief, user)
    assert code_step(thief, code).status_code == 400
    assert thief.get("/").location.startswith("/login")


def test_a_recovery_code_signs_in_once(app, client, enrolled):
    user, codes = enrolled
    password_step(client, user)
    response = code_step(client, codes[3])
    assert response.status_code == 302
    assert f"{len(codes) - 1} are left" in client.get("/").get_data(as_text=True)
    again = app.test_client()
    password_step(again, user)
    assert code_step(again, codes[3]).status_code == 400


def test_the_code_step_without_a_fresh_password_step_sends_back_to_sign_in(app, client, enrolled, monkeypatch):
    user, _ = enrolled
    assert client.get("/login/code").location == "/login"
    password_step(client, user)
    token = csrf_token(client, "/login/code")
    monkeypatch.setattr("solidarity.web.auth.PENDING_SECONDS", -1)  # the password step has gone stale
    response = client.post("/login/code", data={"code": totp_code(user), "csrf_token": token})
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/").location.startswith("/login")


def test_a_coordinator_without_two_factor_is_sent_to_set_it_up_first(client, make):
    coordinator = make.new_coordinator(two_factor=False)
    assert sign_in(client, coordinator).status_code == 302
    for path in ("/", "/incidents", "/coordinator/organisations", "/coordinator/audit", "/account"):
        assert client.get(path).location == "/account/two-factor", path
    page = client.get("/account/two-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The QR code is an inline SVG data URI: the CSP allows it (img-src data:) and it needs no script.
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    secret = re.search(r"Key: <code>([A-Z2-7]+)</code>", html).group(1)
    bad = post(client, "/account/two-factor", {"code": "12"})
    assert bad.status_code == 422 and "code" in errors_by_field(bad.get_data(as_text=True))
    done = post(client, "/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert client.get("/coordinator/organisations").status_code == 200
    assert "10 unused recovery code" in client.get("/account/two-factor").get_data(as_text=True)


def test_members_may_turn_two_factor_on(client, make):
    member = make.user(make.org())
    sign_in(client, member)
    assert client.get("/").status_code == 200  # not forced on members
    assert "Two-factor sign-in</a>: off" in client.get("/account").get_data(as_text=True)
    assert client.get("/account/two-factor").status_code == 200


def test_a_coordinator_resets_two_factor_from_the_organisation_page(app, client, make, enrolled):
    user, _ = enrolled
    victim_device = app.test_client()
    sign_in(victim_device, user)
    sign_in(client, make.coordinator())
    page = f"/organisations/{user.organisation_id}"
    assert f"/users/{user.id}/two-factor/reset" in client.get(page).get_data(as_text=True)
    response = post(client, f"/users/{user.id}/two-factor/reset", page=page)
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.two_factor_enabled
    assert victim_device.get("/").location.startswith("/login")  # the lost phone's session ended too
    assert "user.two_factor_reset" in actions()


def test_an_admin_cannot_reset_two_factor_and_the_refusal_is_audited(client, make, enrolled):
    user, _ = enrolled
    admin = make.user(user.organisation, role="org_admin")
    sign_in(client, admin)
    response = post(client, f"/users/{user.id}/two-factor/reset", page="/account")
    assert response.status_code == 403
    db.session.refresh(user)
    assert user.two_factor_enabled
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert denied.actor_id == str(admin.id)
    assert denied.details["route"] == "/users/<uuid:user_id>/two-factor/reset"
    assert denied.details["user_id"] == str(user.id)


def test_disabling_an_account_ends_its_sessions_and_tokens(app, client, make):
    org = make.org()
    member = make.user(org)
    token = make.token(member)
    device = app.test_client()
    sign_in(device, member)
    sign_in(client, make.admin_of(org))
    page = f"/organisations/{org.id}"
    assert post(client, f"/users/{member.id}/active", {"active": "0"}, page=page).status_code == 302
    assert device.get("/").location.startswith("/login")
    assert client.get("/api/v1/organisations", headers=bearer(token)).status_code == 401
    assert db.session.scalars(select(SignInSession.ended_at).where(SignInSession.user_id == member.id)).all() != [None]
    assert db.session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == member.id)).one() is not None
    # Enabling again does not bring the old session or token back.
    assert post(client, f"/users/{member.id}/active", {"active": "1"}, page=page).status_code == 302
    assert device.get("/").location.startswith("/login")
    assert client.get("/api/v1/organisations", headers=bearer(token)).status_code == 401
    assert actions()[-2:] == ["user.disabled", "user.enabled"]


def test_disabling_names_a_bad_value_and_stays_within_the_organisation(client, make):
    org = make.org()
    member = make.user(org)
    sign_in(client, make.admin_of(make.org()))
    assert post(client, f"/users/{member.id}/active", {"active": "0"}, page="/account").status_code == 403
    sign_in(client, make.admin_of(org))
    bad = post(client, f"/users/{member.id}/active", {"active": "maybe"}, page="/account")
    assert bad.status_code == 422 and "active" in bad.get_data(as_text=True)
    db.session.refresh(member)
    assert member.active


@pytest.mark.parametrize("change", [{"email": "elsewhere@attacker.example"}, {"phone": "+254700000001"}])
def test_moving_ones_alerts_needs_the_password_again(client, make, change):
    member = make.user(make.org(), phone="+254711111111")
    sign_in(client, member)
    form = {"name": member.name, "email": member.email, "phone": member.phone, "preferred_language": "en",
            "notify_sms": "y", "notify_email": "y", **change}
    for password in ("", "not my password"):
        refused = post(client, "/account", {**form, "current_password": password})
        assert refused.status_code == 422
        assert "current_password" in errors_by_field(refused.get_data(as_text=True))
        db.session.refresh(member)
        assert member.email != form["email"] or member.phone != form["phone"]
    assert post(client, "/account", {**form, "current_password": PASSWORD}).status_code == 302
    db.session.refresh(member)
    # A new number is claimed, not taken: it replaces the old one once its SMS code comes back.
    claim = phones.open_claim(db.session, member, now=utcnow())
    assert (member.email, claim.phone if claim else member.phone) == (form["email"], form["phone"])


def test_other_changes_to_ones_account_need_no_password(client, make):
    member = make.user(make.org())
    sign_in(client, member)
    response = post(client, "/account", {"name": "New Name", "email": member.email, "phone": "",
                                         "preferred_language": "fr", "notify_email": "y"})
    assert response.status_code == 302


def test_a_sign_in_session_ends_after_the_idle_timeout(app, client, make, monkeypatch):
    member = make.user(make.org())
    sign_in(client, member)
    row = db.session.scalars(select(SignInSession).where(SignInSession.user_id == member.id)).one()
    row.last_seen_at -= app.config["SESSION_IDLE_TIMEOUT"] + timedelta(seconds=1)
    db.session.commit()
    assert client.get("/").location.startswith("/login")
