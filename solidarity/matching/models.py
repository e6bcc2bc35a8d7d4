"""A match: one responder organisation asked to help with one need of one incident.

It lives here rather than in incidents because matching reads it (capacity, reliability) and
incidents sits above matching; the foreign key to incidents is by table name only.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.fields import UTCDateTime, new_id
from solidarity.members.models import Organisation, _enum


class MatchStatus(str, enum.Enum):
    proposed = "proposed"
    notified = "notified"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    completed = "completed"


PENDING = (MatchStatus.proposed, MatchStatus.notified)


class Match(db.Model):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("incident_id", "help_type", "organisation_id"),
                      Index("ix_matches_org_status", "organisation_id", "status"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    help_type: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    offer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    wave: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[MatchStatus] = mapped_column(_enum(MatchStatus), default=MatchStatus.proposed)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
