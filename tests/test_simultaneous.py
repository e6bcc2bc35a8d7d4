"""Simultaneous audited actions, two-factor codes and vouches: no 500, one effect, the chain intact."""
from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from solidarity import audit
from solidarity.audit import AuditEvent
from solidarity.extensions import db
from solidarity.members import twofactor
from solidarity.members.models import SignInSession, User, Vetting
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer
from tests.races import at_once

ROUNDS = 5


def test_simultaneous_audited_actions_all_join_one_verifiable_chain(app, session):
    audit.record(session, "cli", "test.before")
    session.commit()

    def append(i):
        audit.record(db.session, "cli", "test.race", thread=i)
        db.session.commit()
        return True

    for _ in range(ROUNDS):
        assert at_once(app, append, threads=4) == [True] * 4
    assert session.scalar(select(func.count()).where(AuditEvent.action == "test.race")) == 4 * ROUNDS
    assert audit.verify_chain(session) is None


def test_a_rolled_back_event_is_forgotten(session):
    audit.record(session, "cli", "test.rolled_back")
    session.rollback()
    audit.record(session, "cli", "test.kept")
    session.commit()
    assert list(session.scalars(select(AuditEvent.action))) == ["test.kept"]


def test_one_code_sent_at_once_from_three_pending_sign_ins_signs_in_once(app, session, make):
    coordinator = make.new_coordinator()
    session.query(SignInSession).delete()
    coordinator.totp_last_step = None  # enrolment used the current step; the race is for the next use
    session.commit()
    clients = [app.test_client() for _ in range(3)]
    for client in clients:  # each has passed the password step and waits for the code
        response = client.post("/login", data={"email": coordinator.email, "password": PASSWORD,
                                               "csrf_token": csrf_token(client, "/login")})
        assert response.location == "/login/code"
    forms = [{"code": pyotp.TOTP(coordinator.totp_secret).now(), "csrf_token": csrf_token(c, "/login/code")}
             for c in clients]

    statuses = at_once(app, lambda i: clients[i].post("/login/code", data=forms[i]).status_code, threads=3)
    assert sorted(statuses) == [302, 400, 400]
    assert session.scalar(select(func.count()).select_from(SignInSession)) == 1
    assert list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("auth.login%")))
                ).count("auth.login") == 1
    assert audit.verify_chain(session) is None


def test_one_recovery_code_sent_at_once_is_spent_once(app, session, make, now):
    member = make.admin_of(make.org())
    code = make.enrol(member)[0]
    member_id = member.id  # read here: the racing threads must not all refresh the test's session

    def use(_i):
        return twofactor.verify(db.session, db.session.get(User, member_id), code, now=now)

    assert sorted(at_once(app, use, threads=3), key=str) == [None, None, "recovery_code"]
    assert audit.verify_chain(session) is None


def test_simultaneous_vouches_from_one_organisation_count_once_and_the_second_is_a_conflict(app, make):
    voucher = make.org()
    tokens = [make.token(make.admin_of(voucher)), make.token(make.user(voucher, role="org_admin"))]
    for _ in range(ROUNDS):
        applicant = make.org(vetted=False)
        url = f"/api/v1/organisations/{applicant.id}/vouch"
        statuses = at_once(app, lambda i, url=url: app.test_client().post(url, headers=bearer(tokens[i])).status_code)
        assert sorted(statuses) == [200, 409]
        db.session.expire_all()
        assert [v.voucher_id for v in applicant.vouches] == [voucher.id]
    assert audit.verify_chain(db.session) is None


def test_simultaneous_vouches_from_two_organisations_vet_the_applicant_once(app, make):
    tokens = [make.token(make.admin_of(make.org())) for _ in range(2)]
    for _ in range(ROUNDS):
        applicant = make.org(vetted=False)
        url = f"/api/v1/organisations/{applicant.id}/vouch"
        statuses = at_once(app, lambda i, url=url: app.test_client().post(url, headers=bearer(tokens[i])).status_code)
        assert statuses == [200, 200]
        db.session.expire_all()
        assert applicant.vetting_status is Vetting.vetted and len(applicant.vouches) == 2
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "organisation.vetting",
                                                            AuditEvent.target_id == str(applicant.id))) == 1
    assert audit.verify_chain(db.session) is None
