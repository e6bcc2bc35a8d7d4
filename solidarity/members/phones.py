"""Proving phone numbers: a number someone types in is trusted only once the code we text to it
comes back (on the account page, or as a reply from that number).

Why: an SMS from a member's number acts for them (reports, YES/NO answers, OK check-ins). Without
proof anyone could enter another person's number and make that person's replies ambiguous, raise
false alarms, or get their reports refused. So a typed number waits in a PhoneClaim and the user's
`phone` holds only a proven one; one proven number belongs to at most one active person (a unique
index). A number that already belongs to someone else gets a claim that looks the same to its maker
but stores no number, sends nothing and can never be confirmed: the answer tells no one whose it is.

Codes: 6 digits, never stored (a keyed MAC of a random salt, computed again to send and to check),
valid PHONE_CODE_MINUTES, PHONE_CODE_ATTEMPTS wrong tries (counted atomically, so parallel guesses
cannot exceed it), single use, and at most PHONE_CODES_PER_HOUR sent per person and per number.

members sits below notify, so the SMS is queued through the outbox function that create_app
plugs in (`app.extensions["solidarity.outbox"]`), inside the caller's transaction.
"""
from __future__ import annotations

import hmac
import os
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from solidarity import audit
from solidarity.errors import RateLimited, ValidationError
from solidarity.extensions import keyring, settings
from solidarity.fields import blind_index
from solidarity.members.access import may_act
from solidarity.members.contact import phone_key
from solidarity.members.models import PhoneClaim, User

CODE_DIGITS = 6
CODE_WRONG = "This code is wrong, expired or used up. Ask for a new code."


def outbox():
    """notify.outbox.send_one, plugged in by create_app (members cannot import notify)."""
    return current_app.extensions["solidarity.outbox"]


def phone_index(e164: str) -> str:
    return blind_index(User, "phone", e164)


def holder_of(session: Session, e164: str, *, besides: uuid.UUID | None = None) -> User | None:
    """The active person whose proven number this is, if any (other than `besides`)."""
    query = select(User).where(User.phone_index == phone_index(e164), User.active.is_(True))
    if besides is not None:
        query = query.where(User.id != besides)
    return session.scalar(query)


def code_for(claim: PhoneClaim) -> str:
    mac = keyring().mac(f"phone-code/{claim.id}", bytes(claim.salt))
    return f"{int.from_bytes(mac[:8], 'big') % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


def _is_open(claim: PhoneClaim, now: datetime) -> bool:
    return (claim.confirmed_at is None and claim.ended_at is None and claim.expires_at > now
            and claim.attempts < int(settings()["PHONE_CODE_ATTEMPTS"]))


def open_claim(session: Session, user: User, *, now: datetime) -> PhoneClaim | None:
    """The number `user` is proving now (the newest claim still usable), if any."""
    claim = session.scalar(select(PhoneClaim).where(PhoneClaim.user_id == user.id, PhoneClaim.confirmed_at.is_(None),
                                                    PhoneClaim.ended_at.is_(None))
                           .order_by(PhoneClaim.created_at.desc(), PhoneClaim.id).limit(1))
    return claim if claim is not None and _is_open(claim, now) else None


def end_claims(session: Session, user: User, *, now: datetime) -> None:
    """End every open claim of `user` (a newer number, or the number removed); the caller commits."""
    session.execute(update(PhoneClaim).where(PhoneClaim.user_id == user.id, PhoneClaim.confirmed_at.is_(None),
                                             PhoneClaim.ended_at.is_(None))
                    .values(ended_at=now, phone_ct=None))


def _sent_within_hour(session: Session, *where, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(PhoneClaim)
                          .where(PhoneClaim.created_at > now - timedelta(hours=1), *where)) or 0


def start(session: Session, actor: User | str, user: User, e164: str, *, now: datetime) -> PhoneClaim:
    """Ask `user` to prove `e164`: a claim, and its code queued by SMS to that number. The caller
    has checked that the number is not a visible colleague's (members.service) and commits."""
    cap = int(settings()["PHONE_CODES_PER_HOUR"])
    index = phone_index(e164)
    # The number's count includes claims on numbers that belong to someone else, so the limit
    # answers alike whoever holds it.
    if (_sent_within_hour(session, PhoneClaim.user_id == user.id, now=now) >= cap
            or _sent_within_hour(session, PhoneClaim.phone_index == index, now=now) >= cap):
        raise RateLimited("too many codes were sent for this person or number; try again in an hour",
                          field="phone")
    end_claims(session, user, now=now)
    claim = PhoneClaim(id=uuid.uuid4(), user=user, salt=os.urandom(16), attempts=0, created_at=now,
                       expires_at=now + timedelta(minutes=int(settings()["PHONE_CODE_MINUTES"])))
    taken = holder_of(session, e164, besides=user.id) is not None
    claim.phone_index = index  # counted for the limits above, taken or not
    if not taken:  # someone else's number is not kept at all
        with session.no_autoflush:
            claim.phone = e164
    session.add(claim)
    if not taken:  # the outbox asks may_act: nothing goes to a locked-down or suspended person
        outbox()(session, user, "phone_code", channel="sms", now=now, claim=str(claim.id))
    audit.record(session, actor, "user.phone_claimed", user, at=now)
    return claim


def _clean_code(code: object) -> str:
    return "".join(ch for ch in str(code or "") if ch.isascii() and ch.isdigit())[:CODE_DIGITS + 2]


def _try(session: Session, claim: PhoneClaim, code: str, *, now: datetime) -> bool:
    """One attempt at `claim` (counted even when wrong); True once the number is the user's."""
    counted = session.execute(update(PhoneClaim).where(
        PhoneClaim.id == claim.id, PhoneClaim.confirmed_at.is_(None), PhoneClaim.ended_at.is_(None),
        PhoneClaim.expires_at > now, PhoneClaim.attempts < int(settings()["PHONE_CODE_ATTEMPTS"]))
        .values(attempts=PhoneClaim.attempts + 1)).rowcount
    session.refresh(claim)
    if not counted or claim.phone_ct is None or not hmac.compare_digest(code_for(claim), code):
        return False
    e164 = claim.phone
    # Single use: only the first confirmation moves the number, however many arrive at once.
    if not session.execute(update(PhoneClaim).where(PhoneClaim.id == claim.id, PhoneClaim.confirmed_at.is_(None))
                           .values(confirmed_at=now, phone_ct=None)).rowcount:
        return False
    user = claim.user
    if holder_of(session, e164, besides=user.id) is not None:
        return False  # someone proved it first
    user.phone = e164
    user.updated_at = now
    audit.record(session, user, "user.phone_confirmed", user, at=now)
    session.flush()  # the unique index on active proven numbers decides a race between two people
    return True


def confirm(session: Session, user: User, code: object, *, now: datetime) -> User:
    """Prove the number `user` is waiting on with the code it received. One transaction."""
    claim = open_claim(session, user, now=now)
    cleaned = _clean_code(code)
    try:
        ok = claim is not None and _try(session, claim, cleaned, now=now)
    except IntegrityError:
        ok = False
        session.rollback()
    if not ok:
        session.commit()  # the attempt counts
        raise ValidationError("code", CODE_WRONG)
    session.commit()
    return user


def confirm_by_sms(session: Session, phone: str, code: object, *, now: datetime) -> bool:
    """A reply from the number being proven, carrying its code. One transaction; True if confirmed."""
    e164 = phone_key(phone)
    if e164 is None:
        return False
    cleaned = _clean_code(code)
    claims = list(session.scalars(select(PhoneClaim).where(
        PhoneClaim.phone_index == phone_index(e164), PhoneClaim.phone_ct.is_not(None),
        PhoneClaim.confirmed_at.is_(None), PhoneClaim.ended_at.is_(None), PhoneClaim.expires_at > now)))
    try:
        ok = any(_try(session, claim, cleaned, now=now) for claim in claims
                 if _is_open(claim, now) and may_act(claim.user))
    except IntegrityError:
        ok = False
        session.rollback()
    session.commit()
    return ok


def end_claims_for_number(session: Session, phone: str, *, now: datetime) -> int:
    """STOP from a number being proven: send it nothing more (opt-out law). The caller commits."""
    e164 = phone_key(phone)
    if e164 is None:
        return 0
    return session.execute(update(PhoneClaim).where(
        PhoneClaim.phone_index == phone_index(e164), PhoneClaim.confirmed_at.is_(None),
        PhoneClaim.ended_at.is_(None)).values(ended_at=now, phone_ct=None)).rowcount
