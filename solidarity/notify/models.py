"""The outbox: one row per message to one user on one channel.

Rows hold only what is needed to render a message at send time (a template name and non-sensitive
parameters such as the reference code and help type), never incident text.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.fields import DataKey, Encrypted, KeyHolder, UTCDateTime, new_id
from solidarity.members.models import User, _enum


class Channel(str, enum.Enum):
    sms = "sms"
    email = "email"


class Delivery(str, enum.Enum):
    queued = "queued"
    sending = "sending"  # handed to the provider; the outcome is not recorded yet
    sent = "sent"  # the provider accepted it
    delivered = "delivered"  # the provider confirmed delivery (Twilio status callback)
    failed = "failed"  # see Notification.failure for why


# Progress order: a status callback or a late worker may only move a row forward along this.
PROGRESS = {Delivery.queued: 0, Delivery.sending: 1, Delivery.sent: 2, Delivery.delivered: 3}


class Failure(str, enum.Enum):
    """Why a notification failed; shown to coordinators and decides whether a fallback is tried."""

    permanent = "permanent"  # the provider refused it for good (bad number, opted out at Twilio...)
    retries_spent = "retries_spent"  # transient errors until the channel's attempt limit
    ambiguous = "ambiguous"  # timed out or the worker died mid-send: maybe sent, so never resent here
    undelivered = "undelivered"  # the provider accepted it, then reported it failed or undelivered
    opted_out = "opted_out"  # the person texted STOP after it was queued
    no_address = "no_address"  # no phone number (any more) for an SMS
    inactive = "inactive"  # the account was disabled after it was queued


class Notification(db.Model):
    """One message to one user on one channel.

    Life of a row (the dispatcher's): queued -> claimed (still queued, `claimed_by` and a short
    `lease_until` set in one committed update) -> sending (attempts+1, a send lease, committed
    before the provider is called) -> sent / queued again with a later `next_attempt_at` / failed.
    A row found in `sending` after its lease may or may not have gone out, so it is never resent
    on the same channel (see dispatcher.recover_expired).
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),
                      Index("ix_notifications_lease", "status", "lease_until"),
                      # The fan-out cap counts one template's rows of the last window: it reads the
                      # window, never the table's whole history (incidents.service.fanout_spent).
                      Index("ix_notifications_template_created", "template", "created_at", "incident_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    template: Mapped[str] = mapped_column(String(40))  # e.g. match_request, match_accepted
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # ref, help_type, match id: never incident text
    incident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                                          index=True)
    match_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    status: Mapped[Delivery] = mapped_column(_enum(Delivery), default=Delivery.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    failure: Mapped[Failure | None] = mapped_column(_enum(Failure))
    claimed_by: Mapped[str | None] = mapped_column(String(40))  # the claiming worker's fencing token
    fallback_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    # Declared so that one flush writes the incident and the match before their notifications.
    incident = relationship("Incident")
    match = relationship("Match")


class InboundSms(KeyHolder, db.Model):
    """An SMS to our number, by Twilio's MessageSid, with the reply we gave it.

    Twilio retries a webhook it got no answer to in time; the repeat finds this row and gets the
    same reply, and nothing is done twice. The reply can name a case's reference, so it is sealed
    with the row's own data key; rows are deleted after INBOUND_SMS_KEEP_HOURS (no number, no text
    kept: the sender and body stay only in the records the command itself wrote).
    """

    __tablename__ = "inbound_sms"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)  # once.SID_LENGTH
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: still being handled
    reply_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    data_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("data_keys.id"))

    data_key: Mapped[DataKey | None] = relationship()
    reply = Encrypted()

    def key_holder(self) -> InboundSms:
        return self
