"""Sign-in: password checks, server-side browser sessions and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from solidarity import audit, metrics
from solidarity.errors import Checks, Forbidden, NotFound
from solidarity.members import phones
from solidarity.members.access import access_state, may_act
from solidarity.members.models import ApiToken, Organisation, SignInSession, User
from solidarity.members.passwords import check_strength, hash_password, needs_rehash, verify_password
from solidarity.members.service import find_user_by_email

TOKEN_PREFIX = "sol_"
# Writing last_seen on every request would turn each page view into a write; a minute is plenty
# for an idle timeout measured in tens of minutes.
_TOUCH_EVERY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> User | None:
    """The user for these credentials, or None. Audits both outcomes; takes as long either way.
    A user with two-factor on is not signed in yet: see twofactor.verify.

    Someone who may not act (access.access_state: disabled, locked down, suspended) gets the same
    None as a wrong password, so the sign-in page cannot tell a captor that a lockdown exists;
    the audit trail tells the coordinators that the right password was used."""
    user = find_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    # An applicant who has not confirmed the address yet fails like a wrong password (see User).
    if not ok or not may_act(user) or user.email_confirmed_at is None:
        details = {}
        if ok and user is not None:
            details["refused"] = access_state(user).value if not may_act(user) else "email_unconfirmed"
        audit.record(session, user, "auth.login_failed", user, at=now, **details)
        session.commit()
        metrics.LOGIN_FAILURES.labels("password").inc()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # With two-factor on, the password alone signs no one in: the caller asks for the code next.
    audit.record(session, user, "auth.password_accepted" if user.two_factor_enabled else "auth.login", user, at=now)
    session.commit()
    return user


def complete_second_factor(session: Session, user: User, method: str, *, now: datetime) -> None:
    audit.record(session, user, "auth.login", user, at=now, second_factor=method)
    session.commit()


def start_session(session: Session, user: User, *, now: datetime) -> str:
    """Open a server-side session and return the id to keep in the (signed) cookie."""
    secret = secrets.token_urlsafe(32)
    session.add(SignInSession(id=_digest(secret), user_id=user.id, created_at=now, last_seen_at=now))
    session.commit()
    user.current_session_id = secret
    return secret


def _with_person(attribute):
    """The person behind a session or token with their organisation and both data keys, in the
    same statement: every request checks may_act, and most show a name."""
    return joinedload(attribute).options(joinedload(User.data_key),
                                         joinedload(User.organisation).joinedload(Organisation.data_key))


def load_session(session: Session, secret: str, *, now: datetime, idle: timedelta,
                 absolute: timedelta) -> User | None:
    # Every page shows who is signed in, by name: the person, the organisation and the data key that
    # decrypts both come in the same query as the session.
    row = session.get(SignInSession, _digest(secret), options=[_with_person(SignInSession.user)])
    if row is None or row.ended_at is not None:
        return None
    # Checked on every request, so a lockdown or suspension ends a session that was somehow missed.
    if now - row.last_seen_at > idle or now - row.created_at > absolute or not may_act(row.user):
        row.ended_at = now
        session.commit()
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    row.user.current_session_id = secret
    return row.user


def end_session(session: Session, secret: str | None, *, now: datetime) -> None:
    if secret:
        session.execute(update(SignInSession).where(SignInSession.id == _digest(secret),
                                                    SignInSession.ended_at.is_(None)).values(ended_at=now))
        session.commit()


def end_all_sessions(session: Session, user: User, *, now: datetime, keep: str | None = None) -> int:
    """End every browser session of `user` (but `keep`); the caller commits."""
    query = update(SignInSession).where(SignInSession.user_id == user.id, SignInSession.ended_at.is_(None))
    if keep:
        query = query.where(SignInSession.id != _digest(keep))
    return session.execute(query.values(ended_at=now)).rowcount


def end_access(session: Session, users: list[User], *, now: datetime) -> tuple[int, int]:
    """End every browser session and revoke every API token of `users` (an organisation locked down
    or suspended): (sessions ended, tokens revoked). The caller commits, so it is one transaction
    with whatever removed the access. Lifting the state later brings none of them back."""
    ids = [user.id for user in users]
    if not ids:
        return 0, 0
    sessions = session.execute(update(SignInSession).where(SignInSession.user_id.in_(ids),
                                                           SignInSession.ended_at.is_(None))
                               .values(ended_at=now)).rowcount
    tokens = session.execute(update(ApiToken).where(ApiToken.user_id.in_(ids), ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now)).rowcount
    return sessions, tokens


def change_password(session: Session, user: User, current: str, new: str, *, now: datetime,
                    keep_session: str | None = None) -> User:
    """Set a new password after proving the current one, and end every other browser session of the
    user: whoever learned the old password (an admin who set it, a seized laptop) is signed out."""
    if not may_act(user):
        raise Forbidden("you cannot change this password")
    checks = Checks()
    if not verify_password(user.password_hash, current or ""):
        checks.fail("current_password", "is not your current password")
    checks(check_strength, new or "", "password")
    checks.done()
    user.password_hash = hash_password(new)
    user.updated_at = now
    ended = end_all_sessions(session, user, now=now, keep=keep_session)
    audit.record(session, user, "user.password_changed", user, at=now, sessions_ended=ended)
    session.commit()
    return user


def set_active(session: Session, actor: User, user: User, active: bool, *, now: datetime) -> User:
    """Disable or re-enable an account. Disabling ends every browser session and revokes every API
    token of the person at once (a seized phone, someone who left), so re-enabling later does not
    bring an old session back to life."""
    if not may_act(actor) or not (actor.is_coordinator or (actor.is_org_admin
                                                            and actor.organisation_id == user.organisation_id)):
        raise Forbidden("only the organisation's admins and the coordinators disable accounts")
    if actor.id == user.id:
        raise Forbidden("you cannot disable your own account")
    details = {}
    if active and not user.active and user.phone and phones.holder_of(session, user.phone, besides=user.id):
        # Someone proved the number while this account was disabled: it is theirs now (one number,
        # one active person); this person can claim a number again.
        user.phone = None
        details["phone_removed"] = True
    user.active = active
    user.updated_at = now
    if not active:
        details.update(sign_out_everywhere(session, user, now=now))
    audit.record(session, actor, "user.disabled" if not active else "user.enabled", user, at=now, **details)
    session.commit()
    return user


def sign_out_everywhere(session: Session, user: User, *, now: datetime) -> dict[str, int]:
    """End every browser session and revoke every API token of `user`; the caller commits."""
    sessions, tokens = end_access(session, [user], now=now)
    return {"sessions_ended": sessions, "tokens_revoked": tokens}


def create_token(session: Session, user: User, *, name: str = "", now: datetime) -> str:
    """Issue a bearer token; only its hash is stored, so this is the one time it can be shown."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=_digest(token), created_at=now))
    audit.record(session, user, "token.created", user, at=now)
    session.commit()
    return token


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token))
                         .options(_with_person(ApiToken.user)))
    if row is None or row.revoked_at is not None or not may_act(row.user):
        return None
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return row.user


def _user_by_email(session: Session, email: str) -> User:
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFound("no user with that email", field="email")
    return user


def create_token_for_email(session: Session, email: str, *, name: str, now: datetime) -> str:
    return create_token(session, _user_by_email(session, email), name=name, now=now)


def _revoke(session: Session, user: User, *, now: datetime, name: str | None = None) -> int:
    query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if name is not None:
        query = query.where(ApiToken.name == name)
    return session.execute(query.values(revoked_at=now)).rowcount


def revoke_tokens(session: Session, actor: User | str, user: User, *, now: datetime, name: str | None = None) -> int:
    """Revoke the user's live API tokens (only those labelled `name`, if given), e.g. after a device is seized."""
    count = _revoke(session, user, now=now, name=name)
    audit.record(session, actor, "token.revoked", user, at=now, count=count)
    session.commit()
    return count


def revoke_tokens_for_email(session: Session, actor: User | str, email: str, *, now: datetime,
                            name: str | None = None) -> int:
    return revoke_tokens(session, actor, _user_by_email(session, email), now=now, name=name)
