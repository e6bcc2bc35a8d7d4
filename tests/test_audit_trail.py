"""The audit trail: which actions leave an event, `flask audit verify` against raw-SQL tampering,
and the coordinators' page."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from solidarity.audit import AuditEvent
from solidarity.extensions import db
from solidarity.members import service
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer, sign_in


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_sign_in_success_and_failure_are_audited(client, make):
    admin = make.admin_of(make.org())
    for email, password in ((admin.email, "a wrong password"), ("nobody@example.org", PASSWORD)):
        client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")})
    failed = events("auth.login_failed")
    assert [(e.actor_id, e.target_id) for e in failed] == [(str(admin.id), str(admin.id)), (None, None)]
    assert all("nobody" not in str(e.details) for e in failed)  # a typed email is not kept
    assert sign_in(client, admin).status_code == 302
    assert events("auth.login")[-1].actor_id == str(admin.id)


def test_a_refusal_in_the_api_is_audited_with_the_tokens_user(client, make):
    mine, other = make.member(), make.org()
    response = client.patch(f"/api/v1/organisations/{other.id}", json={"name": "Hijacked"}, headers=bearer(mine.token))
    assert response.status_code == 403
    denied = events("access.denied")
    assert len(denied) == 1 and denied[0].actor_id == str(mine.admin.id)
    assert denied[0].details["org_id"] == str(other.id) and denied[0].details["method"] == "PATCH"


def test_a_role_change_is_audited(make, now):
    org = make.org()
    admin, member = make.admin_of(org), make.user(org)
    service.update_user(db.session, admin, member, {"role": "org_admin"}, now=now)
    (event,) = events("user.role")
    assert (event.actor_id, event.target_id, event.details) == (str(admin.id), str(member.id),
                                                                {"old": "member", "new": "org_admin"})


def test_key_rotation_is_audited(cli, make):
    make.org()
    assert cli("keys", "rotate").exit_code == 0
    (event,) = events("keys.rotated")
    assert event.actor_label == "cli" and event.details["primary"] == "ktest1"


def test_verify_says_an_untouched_chain_is_intact(cli, make):
    make.org()
    result = cli("audit", "verify")
    count = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert result.exit_code == 0 and f"audit chain intact: {count} event(s)" in result.output


def test_verify_on_an_empty_trail(cli):
    result = cli("audit", "verify")
    assert result.exit_code == 0 and "empty" in result.output


@pytest.mark.parametrize(("tamper", "first_broken"), [
    ("UPDATE audit_events SET action = 'organisation.updated' WHERE id = 3", 3),
    ("UPDATE audit_events SET actor_label = 'system' WHERE id = 2", 2),
    ("DELETE FROM audit_events WHERE id = 3", 4),
    ("UPDATE audit_events SET id = 99 WHERE id = (SELECT MAX(id) FROM audit_events)", 99),
])
def test_verify_names_the_first_broken_link_after_raw_sql_tampering(cli, make, tamper, first_broken):
    make.org(), make.org()
    assert len(db.session.scalars(select(AuditEvent.id)).all()) >= 5
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(text(tamper))
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"the audit chain is broken at event {first_broken} " in result.output


# -- the coordinators' page ------------------------------------------------------------------------

def test_coordinators_read_the_trail_newest_first_filtered_and_paginated(client, make, monkeypatch):
    monkeypatch.setattr("solidarity.web.audit_trail.PER_PAGE", 2)
    make.org("Baobab Rights Watch"), make.org()
    coordinator = make.coordinator()
    sign_in(client, coordinator)
    first = client.get("/coordinator/audit")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "auth.login" in html and "?page=2" in html
    assert "page=1" not in html  # no "newer" link on the first page
    vetting = client.get("/coordinator/audit?action=organisation.vetting").get_data(as_text=True)
    assert vetting.count('<td data-label="Action">Organisation: vetting</td>') == 2
    assert "Auth: login</td>" not in vetting
    # People by name and role, organisations by name: not "Role.coordinator:5e3d..." or a bare id.
    assert f"<bdi>{coordinator.name} (coordinator)</bdi>" in vetting and "<bdi>Baobab Rights Watch</bdi>" in vetting
    assert "Role." not in vetting and f"coordinator:{coordinator.id}" not in vetting
    last = client.get("/coordinator/audit?page=50").get_data(as_text=True)
    assert "No events." in last and "page=49" in last


@pytest.mark.parametrize(("query", "field"), [("page=0", "page"), ("page=abc", "page"), ("action=nope", "action")])
def test_a_bad_filter_is_a_422_naming_the_field(client, make, query, field):
    sign_in(client, make.coordinator())
    response = client.get(f"/coordinator/audit?{query}")
    assert response.status_code == 422 and f"<b>{field}</b>" in response.get_data(as_text=True)


def test_only_coordinators_read_the_trail(client, make):
    assert client.get("/coordinator/audit").location.startswith("/login")
    admin = make.admin_of(make.org())
    sign_in(client, admin)
    assert client.get("/coordinator/audit").status_code == 403
    assert events("access.denied")[-1].actor_id == str(admin.id)


def test_the_operator_resets_a_coordinators_two_factor_from_the_cli(cli, make):
    coordinator = make.coordinator()
    result = cli("users", "reset-two-factor", coordinator.email.upper())
    assert result.exit_code == 0 and "two-factor sign-in reset; 0 session(s) ended" in result.output
    db.session.refresh(coordinator)
    assert not coordinator.two_factor_enabled
    assert events("user.two_factor_reset")[-1].actor_label == "cli"
    unknown = cli("users", "reset-two-factor", "nobody@example.org")
    assert unknown.exit_code == 2 and "error: email: no user with that email" in unknown.output
