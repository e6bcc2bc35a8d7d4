"""Rows that carry the escalation clock besides Need.next_wave_at: check-ins and reminders sent.

Every deadline is a column with a due time and a state, so a scheduler that restarts (or a second
one) finds the work where the last one left it. None of these rows holds free text.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from solidarity.extensions import db
from solidarity.fields import UTCDateTime, new_id
from solidarity.incidents.models import Incident
from solidarity.members.models import Organisation, _enum


class CheckInState(str, enum.Enum):
    active = "active"  # waiting for the next OK
    missed = "missed"  # not confirmed within the grace period; responders and coordinators were alerted
    stopped = "stopped"  # ended by the organisation or a coordinator, or its incident was closed


OPEN = (CheckInState.active, CheckInState.missed)


class CheckIn(db.Model):
    """A dead man's switch: the organisation confirms every `interval_hours` that it is safe.

    The tick reads `next_step_at`: at `next_due_at` it reminds the organisation ("checkin_due"),
    and if no OK comes within `grace_minutes` of that reminder it alerts the chosen responders and
    the coordinators, once. An OK (SMS `OK <ref>` or the web button) starts a new period from now.
    """

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_step", "state", "next_step_at"),
                      Index("ix_checkins_ref", "ref", "state"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The incident's reference when the check-in belongs to one, else a code of its own.
    ref: Mapped[str] = mapped_column(String(8))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                       index=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                                          index=True)
    interval_hours: Mapped[int] = mapped_column(Integer)
    grace_minutes: Mapped[int] = mapped_column(Integer)
    responder_org_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # alerted when missed
    state: Mapped[CheckInState] = mapped_column(_enum(CheckInState), default=CheckInState.active)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the next OK is expected
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reminder of the current period
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the tick acts then; None: nothing to do
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    incident: Mapped[Incident | None] = relationship()


class OfferReminder(db.Model):
    """An offer's "please confirm" reminder, sent once per confirmation period (keyed by confirmed_at)."""

    __tablename__ = "offer_reminders"
    __table_args__ = (UniqueConstraint("offer_id", "confirmed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the offer's confirmation it is about
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DirectoryFlag(db.Model):
    """A vetted organisation flagged to coordinators because no one there can act (no active user).

    The row exists while the condition lasts, so the coordinators hear of each case once.
    """

    __tablename__ = "directory_flags"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                       primary_key=True)
    reason: Mapped[str] = mapped_column(String(30), primary_key=True)  # no_active_user
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime)
