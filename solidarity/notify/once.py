"""Each inbound SMS acted on once, by its Twilio MessageSid, and every delivery of it answered alike.

Twilio retries a webhook that got no answer in time, with the same MessageSid. The first delivery
claims the sid (a committed row: the unique index makes a second claim fail, on PostgreSQL by
waiting for the first to commit, on SQLite behind its write lock), runs the command and stores
the reply. A repeat, even one arriving at the same instant, waits for that reply and gets it, and
does nothing else.

If the command fails with an error the claim is withdrawn, so Twilio's retry runs it again; if the
process dies in the middle, the claim stays unanswered and a repeat does nothing (at most once:
the command may already have filed the report).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from solidarity.extensions import settings
from solidarity.fields import DataKey
from solidarity.notify.models import InboundSms

SID_LENGTH = 64  # Twilio's are 34 characters; the column holds 64
WAIT_SECONDS = 10.0  # a repeat waits this long for the first delivery's reply (Twilio waits 15 s in all)
POLL_SECONDS = 0.05


def _reply_of(session: Session, message_sid: str) -> tuple[bool, str | None]:
    session.rollback()  # a fresh snapshot: the first delivery commits in another transaction
    row = session.scalar(select(InboundSms).where(InboundSms.message_sid == message_sid))
    if row is None or row.answered_at is None:
        return False, None
    return True, row.reply


def answer_once(session: Session, message_sid: str, command: Callable[[], str | None], *, now: datetime,
                wait: float = WAIT_SECONDS) -> str | None:
    """Run `command` (which returns the reply) the first time `message_sid` is seen; otherwise return
    the reply it gave. None: no reply (also for a repeat whose first delivery never finished)."""
    claim = InboundSms(message_sid=message_sid, received_at=now)
    session.add(claim)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return _await_reply(session, message_sid, wait)
    claim_id = claim.id
    try:
        reply = command()
    except BaseException:
        session.rollback()
        session.execute(delete(InboundSms).where(InboundSms.id == claim_id))
        session.commit()
        raise
    row = session.get(InboundSms, claim_id, populate_existing=True)
    row.reply = reply
    row.answered_at = now
    session.commit()
    return reply


def _await_reply(session: Session, message_sid: str, wait: float) -> str | None:
    deadline = time.monotonic() + wait
    while True:
        answered, reply = _reply_of(session, message_sid)
        if answered or time.monotonic() > deadline:
            return reply
        time.sleep(POLL_SECONDS)


def forget_older_than(session: Session, *, now: datetime, hours: float) -> int:
    """Delete the records (and their data keys) of SMS received more than `hours` ago; commits."""
    cutoff = now - timedelta(hours=hours)
    rows = list(session.execute(select(InboundSms.id, InboundSms.data_key_id).where(InboundSms.received_at < cutoff)))
    if rows:
        session.execute(delete(InboundSms).where(InboundSms.id.in_([row_id for row_id, _ in rows])))
        keys = [key_id for _, key_id in rows if key_id is not None]
        if keys:
            session.execute(delete(DataKey).where(DataKey.id.in_(keys)))
    session.commit()
    return len(rows)


def erase_expired(session: Session, *, now: datetime) -> int:
    """The scheduler's daily job: forget SMS older than INBOUND_SMS_KEEP_HOURS."""
    return forget_older_than(session, now=now, hours=float(settings()["INBOUND_SMS_KEEP_HOURS"]))
