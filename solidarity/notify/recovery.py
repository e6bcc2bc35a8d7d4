"""Password recovery: a signed, single-use, short-lived link sent to the account's email.

The link carries the user id and a fingerprint of the current password hash, signed with SECRET_KEY
under a salt of its own and stamped with the time it was asked for. Setting a password changes the
hash, so a link works once and every older link dies with it; it also dies when it is older than
PASSWORD_RESET_MAX_AGE_SECONDS. The outbox row holds the fingerprint (a keyed digest, useless
without SECRET_KEY), never the link: the link is made when the email is rendered.

Asking never tells whether the address has an account: the caller shows the same answer either
way. A person gets at most PASSWORD_RESET_PER_ACCOUNT emails in PASSWORD_RESET_WINDOW_SECONDS, so
nobody can flood someone's inbox; the web form is also limited per client address.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from solidarity import audit
from solidarity.errors import DomainError
from solidarity.extensions import keyring, settings
from solidarity.members import auth
from solidarity.members.access import may_act
from solidarity.members.models import User
from solidarity.members.passwords import check_strength, hash_password
from solidarity.members.service import find_user_by_email
from solidarity.notify.links import _ClockSigner
from solidarity.notify.models import Channel, Delivery, Notification

SALT = "solidarity.password-reset.v1"
PATH = "/reset/"
TEMPLATE = "password_reset"


class BadResetLink(DomainError):
    status = 400

    def __init__(self):
        super().__init__("This link does not work any more: it was used, it expired, or the password was "
                         "changed since. Ask for a new one.", field="token")


@dataclass(frozen=True)
class ResetLink:
    user_id: uuid.UUID
    fingerprint: str


def max_age() -> timedelta:
    return timedelta(seconds=int(settings()["PASSWORD_RESET_MAX_AGE_SECONDS"]))


def fingerprint(user: User) -> str:
    """A keyed digest of the password hash: it changes whenever the password does."""
    return keyring().blind_index("password-reset", user.password_hash or "")[:32]


def _serializer(secret: str, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT, signer=_ClockSigner, signer_kwargs={"now": now})


def make_url(public_url: str, secret: str, link: ResetLink, *, asked_at: datetime) -> str:
    token = _serializer(secret, asked_at).dumps({"u": link.user_id.hex, "f": link.fingerprint})
    return public_url.rstrip("/") + PATH + token


def read_token(secret: str, token: str, *, now: datetime) -> ResetLink:
    try:
        data = _serializer(secret, now).loads(token, max_age=int(max_age().total_seconds()))
        return ResetLink(uuid.UUID(hex=data["u"]), str(data["f"]))
    except (SignatureExpired, BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadResetLink() from exc


def request_reset(session: Session, email: str, *, now: datetime) -> None:
    """Queue a reset email if `email` belongs to an active account that may have one. Returns
    nothing, so no caller can tell the outcomes apart. Commits."""
    user = find_user_by_email(session, email)
    if user is None or not may_act(user):
        # The same kind of work as a real request (an audit append and a commit), so the time the
        # answer takes does not tell either. The event names no account.
        audit.record(session, "anonymous", "auth.password_reset_refused", None, at=now)
        session.commit()
        return
    window = now - timedelta(seconds=int(settings()["PASSWORD_RESET_WINDOW_SECONDS"]))
    sent = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.template == TEMPLATE, Notification.created_at > window))
    if sent >= int(settings()["PASSWORD_RESET_PER_ACCOUNT"]):
        audit.record(session, "anonymous", "auth.password_reset_throttled", user, at=now)
    else:
        # Email only, whatever the person prefers for alerts: the link must reach the account's address.
        session.add(Notification(user_id=user.id, channel=Channel.email, template=TEMPLATE,
                                 params={"at": int(now.timestamp()), "f": fingerprint(user)},
                                 status=Delivery.queued, next_attempt_at=now, created_at=now, updated_at=now))
        audit.record(session, "anonymous", "auth.password_reset_requested", user, at=now)
    session.commit()


def issue_url(session: Session, actor: str, email: str, *, now: datetime) -> str:
    """For operators (`flask users reset-password`): a link to hand to the person. Audited."""
    user = find_user_by_email(session, email)
    if user is None:
        raise DomainError("no user with that email", field="email")
    audit.record(session, actor, "auth.password_reset_link_issued", user, at=now)
    session.commit()
    return make_url(settings()["PUBLIC_URL"], settings()["SECRET_KEY"], ResetLink(user.id, fingerprint(user)),
                    asked_at=now)


def user_for_token(session: Session, token: str, *, now: datetime, lock: bool = False) -> User:
    """The account a still-valid link is for, or BadResetLink."""
    link = read_token(settings()["SECRET_KEY"], token, now=now)
    locking = lock and session.get_bind().dialect.name == "postgresql"
    # Locked, so two uses of one link at once cannot both pass the fingerprint check.
    user = session.get(User, link.user_id, with_for_update=locking or None, populate_existing=locking)
    if user is None or not may_act(user) or fingerprint(user) != link.fingerprint:
        raise BadResetLink()
    return user


def reset_password(session: Session, token: str, new_password: str, *, now: datetime) -> User:
    """Set the password a valid link allows, end every session and revoke every API token of the
    account (whoever got in with the old password is out), and audit it. Two-factor stays on: the
    person signs in with the new password and their code. Commits."""
    try:
        user = user_for_token(session, token, now=now, lock=True)
        check_strength(new_password or "", "password")
    except DomainError:
        session.rollback()
        raise
    user.password_hash = hash_password(new_password)
    user.updated_at = now
    ended = auth.sign_out_everywhere(session, user, now=now)
    audit.record(session, user, "user.password_reset", user, at=now, **ended)
    session.commit()
    return user


def asked_at(params: dict) -> datetime:
    return datetime.fromtimestamp(int(params["at"]), tz=timezone.utc)
