"""Queue notifications inside the caller's transaction. Never sends: the dispatcher does."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from solidarity import audit
from solidarity.members.access import may_act
from solidarity.members.models import User
from solidarity.notify.models import Channel, Delivery, Notification


def reachable(user: User, channel: Channel) -> bool:
    """Whether `user` may be reached on `channel` at all (ignoring what they prefer for routine news).

    Email is the channel of last resort: every account has an address. SMS needs a number and no
    STOP on record.
    """
    if channel is Channel.email:
        return True
    return user.phone_index is not None and user.sms_opted_out_at is None


def channels_for(user: User) -> list[Channel]:
    """The channels a user is reached on, SMS first (it buzzes); at least email if nothing else."""
    chosen = []
    if user.notify_sms and reachable(user, Channel.sms):
        chosen.append(Channel.sms)
    if user.notify_email or not chosen:
        chosen.append(Channel.email)
    return chosen


def enqueue(session: Session, user: User, template: str, *, now: datetime, incident=None, match=None,
            **params: Any) -> list[Notification]:
    """Queue `template` for `user` on each of their channels. Params must not carry incident text."""
    rows = [Notification(user_id=user.id, channel=channel, template=template, params=params,
                         incident_id=getattr(incident, "id", None), match_id=getattr(match, "id", None),
                         status=Delivery.queued, next_attempt_at=now, created_at=now, updated_at=now)
            # Nobody who may not act is sent anything: a locked-down organisation's phones and
            # mailboxes may be in an adversary's hands, a suspended one is no longer a member.
            for channel in channels_for(user) if may_act(user)]
    session.add_all(rows)
    return rows


def depth(session: Session, *, now: datetime) -> list[tuple[str, int, int, datetime | None]]:
    """Per channel: rows queued, rows due now, and the oldest due row's due time. One query on the
    (status, next_attempt_at) index, cheap enough to run on every metrics scrape."""
    due = Notification.next_attempt_at <= now
    rows = session.execute(select(Notification.channel, func.count(), func.count(case((due, 1))),
                                  func.min(case((due, Notification.next_attempt_at))))
                           .where(Notification.status == Delivery.queued).group_by(Notification.channel)).all()
    return [(channel.value, queued, due_now, oldest) for channel, queued, due_now, oldest in rows]


def set_sms_opt_out(session: Session, users: list[User], opted_out: bool, *, now: datetime, via: str) -> None:
    """Record an opt-out (STOP texted to us, or the provider's refusal because of one) or an opt-in
    (START) for these accounts, in the caller's transaction. Audited once per account changed."""
    for user in users:
        if opted_out and user.sms_opted_out_at is None:
            user.sms_opted_out_at = now
            audit.record(session, "sms", "user.sms_opted_out", user, at=now, via=via)
        elif not opted_out and user.sms_opted_out_at is not None:
            user.sms_opted_out_at = None
            audit.record(session, "sms", "user.sms_opted_in", user, at=now, via=via)


def same_number(session: Session, user: User) -> list[User]:
    """Every account with `user`'s phone number: an opt-out belongs to the number, as Twilio keeps it."""
    if user.phone_index is None:
        return [user]
    return list(session.scalars(select(User).where(User.phone_index == user.phone_index)))


def send_one(session: Session, user: User, template: str, *, channel: str, now: datetime,
             once_per: timedelta | None = None, **params: Any) -> Notification | None:
    """Queue `template` for `user` on exactly `channel`, whatever they prefer: messages about the
    person's own identity (the code proving a phone goes to that phone and nowhere else; the note
    that someone tried to register with an address goes to that address). With `once_per`, not
    again while one was queued within that time (an /apply flood must not become a mail flood)."""
    if not may_act(user):
        return None
    chosen = Channel(channel)
    if once_per is not None and session.scalar(select(Notification.id).where(
            Notification.user_id == user.id, Notification.template == template,
            Notification.created_at > now - once_per).limit(1)) is not None:
        return None
    row = Notification(user_id=user.id, channel=chosen, template=template, params=params, status=Delivery.queued,
                       next_attempt_at=now, created_at=now, updated_at=now)
    session.add(row)
    return row
