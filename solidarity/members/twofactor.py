"""TOTP two-factor sign-in (RFC 6238 through pyotp), one-time recovery codes, and resets.

Required for coordinators (they can read every incident), open to everyone. A code is accepted
once: the accepted time step is stored and a code of that step or an earlier one is refused, so a
code seen over a shoulder or relayed by a phishing page cannot be used again.
"""
from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from solidarity import audit, metrics
from solidarity.errors import Conflict, Forbidden, NotFound, ValidationError
from solidarity.extensions import keyring
from solidarity.members.access import may_act
from solidarity.members.auth import end_all_sessions
from solidarity.members.models import RecoveryCode, User
from solidarity.members.service import find_user_by_email

ISSUER = "Solidarity"
STEP_SECONDS = 30
# One step either side: phones whose clock drifts by up to half a minute still sign in.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: 5 bits a character, no 0/1/8/9 to misread
_CODE_FIELD = "code"


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _recovery_hash(code: str) -> str:
    return keyring().mac("recovery-code", code.encode()).hex()


def _normalise_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def begin_enrolment(session: Session, user: User, *, now: datetime) -> str:
    """The secret to show (as text and QR code) until it is confirmed; the same one on every reload."""
    if user.two_factor_enabled:
        raise Conflict("two-factor sign-in is already on; a coordinator can reset it", field=_CODE_FIELD)
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        user.updated_at = now
        session.commit()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    # The label is the person's name and a short id, not the email: the authenticator app on a
    # seized phone should not list where alerts go.
    return pyotp.TOTP(secret).provisioning_uri(name=f"{user.name[:40]} ({str(user.id)[:8]})", issuer_name=ISSUER)


def _accept_totp(session: Session, user: User, code: str, now: datetime) -> bool:
    """Check a 6-digit code against the steps around now, refusing any step already used.

    The step is consumed by one conditional UPDATE, so of several sign-ins sending the same code at
    once (a phishing relay racing the person) exactly one gets it: the database re-checks the
    condition under the row's write lock, and the others update nothing.
    """
    totp = pyotp.TOTP(user.totp_secret)
    current = _step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            consumed = session.execute(
                update(User).where(User.id == user.id,
                                   or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step).execution_options(synchronize_session=False))
            if consumed.rowcount != 1:
                session.expire(user, ["totp_last_step"])  # another sign-in took it: read theirs
                return False
            set_committed_value(user, "totp_last_step", step)
            return True
    return False


def _clean_totp(code: str | None) -> str:
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationError(_CODE_FIELD, "enter the 6-digit code your authenticator app shows")
    return code


def confirm_enrolment(session: Session, user: User, code: str | None, *, now: datetime) -> list[str]:
    """Turn two-factor on once the app proves it holds the secret; return the recovery codes, which
    are shown this once and stored only hashed."""
    if not may_act(user):  # a captor enrolling its own app would keep the account after re-verification
        raise Forbidden("two-factor sign-in cannot be set up for this account now")
    if user.two_factor_enabled:
        raise Conflict("two-factor sign-in is already on", field=_CODE_FIELD)
    if user.totp_secret is None:
        raise ValidationError(_CODE_FIELD, "start the set-up again: no secret was issued")
    if not _accept_totp(session, user, _clean_totp(code), now):
        raise ValidationError(_CODE_FIELD, "this code is wrong or was already used; check the phone's clock")
    user.totp_enabled_at = now
    user.updated_at = now
    codes = _issue_recovery_codes(session, user, now)
    audit.record(session, user, "user.two_factor_enabled", user, at=now)
    session.commit()
    return codes


def _issue_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw), created_at=now))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def verify(session: Session, user: User, code: str | None, *, now: datetime) -> str | None:
    """The method that proved the second factor ("totp" or "recovery_code"), or None. A recovery
    code is spent by its use. Audits both outcomes; the caller's sign-in is completed by the caller."""
    code = (code or "").strip()
    method = None
    if re.fullmatch(r"\d{3}\s?\d{3}", code):
        if _accept_totp(session, user, _clean_totp(code), now):
            method = "totp"
    elif code:
        row = session.scalar(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(_normalise_recovery(code)),
            RecoveryCode.used_at.is_(None)))
        # Spent by a conditional UPDATE for the same reason as a TOTP step: used once, even at once.
        if row is not None and session.execute(
                update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now).execution_options(synchronize_session=False)).rowcount == 1:
            set_committed_value(row, "used_at", now)
            method = "recovery_code"
    if method is None:
        audit.record(session, user, "auth.login_failed", user, at=now, step="second_factor")
    session.commit()
    if method is None:
        metrics.LOGIN_FAILURES.labels("second_factor").inc()
    return method


def recovery_codes_left(session: Session, user: User) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def reset(session: Session, actor: User | str, user: User, *, now: datetime) -> int:
    """A coordinator (or the operator, actor "cli") turns another person's two-factor off (a lost
    phone); that person is signed out everywhere, since whoever holds the lost phone may hold a
    session too. Returns the number of sessions ended."""
    if isinstance(actor, User):
        if not actor.is_coordinator:
            raise Forbidden("only coordinators reset two-factor sign-in")
        if actor.id == user.id:
            raise Forbidden("another coordinator, or the operator's CLI, must reset your two-factor sign-in")
    user.totp_secret_ct = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.updated_at = now
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = end_all_sessions(session, user, now=now)
    audit.record(session, actor, "user.two_factor_reset", user, at=now, sessions_ended=ended)
    session.commit()
    return ended


def reset_for_email(session: Session, actor: str, email: str, *, now: datetime) -> int:
    """The operator's way out when the only coordinator has lost their phone and their codes."""
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFound("no user with that email", field="email")
    return reset(session, actor, user, now=now)
