"""What the rest of the service asks of notify besides enqueue(): delivery reports, opt-outs, listings."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from solidarity.members.models import User
from solidarity.notify import outbox
from solidarity.notify.dispatcher import fail
from solidarity.notify.models import PROGRESS, Channel, Delivery, Failure, Notification

# Twilio's message statuses (Message resource docs) on our scale.
TWILIO_STATUS = {
    "accepted": Delivery.queued, "scheduled": Delivery.queued, "queued": Delivery.queued,
    "sending": Delivery.sending, "sent": Delivery.sent,
    "delivered": Delivery.delivered, "read": Delivery.delivered,
    "failed": Delivery.failed, "undelivered": Delivery.failed, "canceled": Delivery.failed,
}


def _find(session: Session, provider_id: str | None, notification_id: str | None) -> Notification | None:
    locking = session.get_bind().dialect.name == "postgresql"
    if provider_id:
        query = select(Notification).where(Notification.provider_id == provider_id)
        row = session.scalar(query.with_for_update() if locking else query)
        if row is not None:
            return row
    try:
        row_id = uuid.UUID(str(notification_id))
    except ValueError:
        return None
    row = session.get(Notification, row_id, with_for_update=locking or None, populate_existing=True)
    # The id came from our own callback URL; a row that already has another provider id is not it.
    if row is None or (row.provider_id and provider_id and row.provider_id != provider_id):
        return None
    return row


def apply_status(session: Session, *, provider_id: str | None, status: str, error_code: str | None = None,
                 notification_id: str | None = None, opted_out: bool = False, now: datetime) -> Notification | None:
    """Apply a provider's delivery report. Repeated or out-of-order reports never move a row back.

    queued < sending < sent < delivered; failed or undelivered marks the row failed and queues the
    fallback (once: a failed row ignores further reports). A row we had called ambiguous (the
    worker could not tell whether Twilio took it) is corrected by a report that it was sent.
    Returns the row, or None when the report matches no row. Commits.
    """
    new = TWILIO_STATUS.get((status or "").strip().lower())
    row = _find(session, provider_id, notification_id)
    if row is None or new is None:
        session.rollback()
        return row
    if provider_id and row.provider_id is None:
        row.provider_id = provider_id[:64]
    current = row.status
    if new is Delivery.failed:
        if opted_out and row.channel is Channel.sms:
            # The opt-out reported late rather than refused at once: remembered as a STOP all the same.
            outbox.set_sms_opt_out(session, outbox.same_number(session, row.user), True, now=now, via="provider")
        if current not in (Delivery.failed, Delivery.delivered):
            fail(session, row, Failure.undelivered,
                 f"Twilio reported {status}" + (f" (error {error_code})" if error_code else ""), now=now)
    elif current is Delivery.failed:
        if row.failure is Failure.ambiguous and new in (Delivery.sent, Delivery.delivered):
            row.failure, row.last_error = None, None
            _advance(row, new, now)
    elif PROGRESS[new] > PROGRESS[current]:
        _advance(row, new, now)
    session.commit()
    return row


def _advance(row: Notification, new: Delivery, now: datetime) -> None:
    row.status, row.updated_at, row.lease_until = new, now, None
    if new in (Delivery.sent, Delivery.delivered) and row.sent_at is None:
        row.sent_at = now
    if new is Delivery.delivered:
        row.delivered_at = now


def set_sms_opt_out(session: Session, users: list[User], opted_out: bool, *, now: datetime) -> None:
    """Record STOP (or START) from a phone for every account with that number. Commits.

    Queued SMS for them are then failed by the dispatcher as opted_out and go by email.
    """
    outbox.set_sms_opt_out(session, users, opted_out, now=now, via="sms")
    session.commit()


def for_incident(session: Session, incident_id: uuid.UUID) -> list[Notification]:
    """Every notification about one incident, oldest first, with its recipient loaded."""
    return list(session.scalars(select(Notification).options(selectinload(Notification.user))
                                .where(Notification.incident_id == incident_id)
                                .order_by(Notification.created_at, Notification.channel, Notification.id)))
