"""TOTP two-factor: enrolment, codes refused a second time, recovery codes, resets (members/twofactor.py).

These tests compute codes with pyotp directly and never use factories.totp_code, which forgets the
replay marker on purpose.
"""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.errors import Forbidden, ValidationError
from solidarity.extensions import db
from solidarity.members import auth, twofactor
from solidarity.members.models import RecoveryCode, SignInSession
from tests.rawdb import leaks, raw_dump


def code_at(secret: str, when) -> str:
    return pyotp.TOTP(secret).at(when)


@pytest.fixture
def member(make):
    return make.admin_of(make.org())


def enrol(member, now) -> tuple[str, list[str]]:
    secret = twofactor.begin_enrolment(db.session, member, now=now)
    return secret, twofactor.confirm_enrolment(db.session, member, code_at(secret, now), now=now)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_enrolment_keeps_one_secret_until_a_code_confirms_it(member, now):
    secret = twofactor.begin_enrolment(db.session, member, now=now)
    assert twofactor.begin_enrolment(db.session, member, now=now) == secret  # a reload shows the same QR code
    assert not member.two_factor_enabled
    with pytest.raises(ValidationError) as wrong:
        twofactor.confirm_enrolment(db.session, member, "000000" if code_at(secret, now) != "000000" else "111111",
                                    now=now)
    assert wrong.value.errors[0].field == "code"
    with pytest.raises(ValidationError) as malformed:
        twofactor.confirm_enrolment(db.session, member, "12ab", now=now)
    assert malformed.value.errors[0].field == "code"
    codes = twofactor.confirm_enrolment(db.session, member, code_at(secret, now), now=now)
    assert member.two_factor_enabled and len(codes) == twofactor.RECOVERY_CODES == len(set(codes))
    assert "user.two_factor_enabled" in actions()


def test_the_secret_and_the_recovery_codes_are_not_stored_in_clear(app, member, now):
    secret, codes = enrol(member, now)
    assert not leaks(raw_dump(db.engine), [secret, *[c.replace("-", "") for c in codes], *codes])


def test_a_code_is_accepted_once_and_never_for_an_earlier_step(member, now):
    secret, _ = enrol(member, now)  # enrolment used the code of `now`
    assert twofactor.verify(db.session, member, code_at(secret, now), now=now) is None  # replay
    later = now + timedelta(seconds=30)
    assert twofactor.verify(db.session, member, code_at(secret, later), now=later) == "totp"
    assert twofactor.verify(db.session, member, code_at(secret, later), now=later + timedelta(seconds=5)) is None
    # one step of clock drift either way is allowed, but never a step at or before the last one used
    assert twofactor.verify(db.session, member, code_at(secret, now), now=later + timedelta(seconds=30)) is None
    ahead = later + timedelta(seconds=60)
    assert twofactor.verify(db.session, member, code_at(secret, ahead), now=later + timedelta(seconds=30)) == "totp"
    assert actions().count("auth.login_failed") == 3


def test_a_code_far_from_now_is_refused(member, now):
    secret, _ = enrol(member, now)
    assert twofactor.verify(db.session, member, code_at(secret, now + timedelta(minutes=5)), now=now) is None


def test_each_recovery_code_signs_in_once(member, now):
    _, codes = enrol(member, now)
    assert twofactor.verify(db.session, member, codes[0].upper().replace("-", " "), now=now) == "recovery_code"
    assert twofactor.verify(db.session, member, codes[0], now=now) is None
    assert twofactor.recovery_codes_left(db.session, member) == len(codes) - 1
    assert twofactor.verify(db.session, member, "not-a-code", now=now) is None


def test_a_coordinator_resets_another_persons_two_factor_and_ends_their_sessions(make, member, now):
    enrol(member, now)
    kept = auth.start_session(db.session, member, now=now)
    coordinator = make.coordinator()
    assert twofactor.reset(db.session, coordinator, member, now=now) == 1
    assert not member.two_factor_enabled and member.totp_secret is None
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == member.id)).all() == []
    assert db.session.scalars(select(SignInSession.ended_at)).all() == [now]
    assert auth.load_session(db.session, kept, now=now, idle=timedelta(hours=1), absolute=timedelta(hours=1)) is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset")).one()
    assert event.actor_id == str(coordinator.id) and event.target_id == str(member.id)


def test_only_a_coordinator_resets_and_never_their_own(make, member, now):
    enrol(member, now)
    with pytest.raises(Forbidden):
        twofactor.reset(db.session, make.user(make.org()), member, now=now)
    with pytest.raises(Forbidden):
        twofactor.reset(db.session, member, member, now=now)
    coordinator = make.coordinator()
    with pytest.raises(Forbidden):
        twofactor.reset(db.session, coordinator, coordinator, now=now)
    assert member.two_factor_enabled
