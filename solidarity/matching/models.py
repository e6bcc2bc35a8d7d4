"""A match: one responder organisation asked to help with one need of one incident; and the
after-action reviews organisations leave once the incident is resolved.

Both live here rather than in incidents because matching reads them (capacity, reliability) and
incidents sits above matching; their foreign keys to incidents are by table name only.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.fields import Encrypted, UTCDateTime, new_id
from solidarity.members.models import Organisation, _enum


class MatchStatus(str, enum.Enum):
    proposed = "proposed"
    notified = "notified"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    completed = "completed"
    handed_back = "handed_back"  # accepted, then given back by the responder: its capacity is free again


PENDING = (MatchStatus.proposed, MatchStatus.notified)


class Match(db.Model):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("incident_id", "help_type", "organisation_id"),
                      Index("ix_matches_org_status", "organisation_id", "status"),
                      # Ranking reads the candidates' open cases and their matches of the history window
                      # (reliability.load): one index for each side of its OR, so it reads what is open or
                      # recent, never the whole past.
                      Index("ix_matches_status_org", "status", "organisation_id"),
                      Index("ix_matches_created_org", "created_at", "organisation_id"))

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
    # Declared so that one flush writes an incident before the matches asked for it (the unit of
    # work orders tables by relationships): intake writes everything in its commit's single flush.
    incident = relationship("Incident")


class ReviewRole(str, enum.Enum):
    reporter = "reporter"  # the affected organisation rating one responder that took the case
    responder = "responder"  # a responder organisation rating how the case went with the reporter


RATINGS = range(1, 6)


class Review(db.Model):
    """One organisation's after-action review of another's part in one incident: a rating and a note.

    Only reporters' ratings of responders count towards a responder's reliability (matching
    reliability.ratings); responders' reviews are for the coordinators' learning. The note is
    encrypted with the incident's data key, so erasing the incident's key erases it too.
    """

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("incident_id", "author_organisation_id", "subject_organisation_id"),
                      CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
                      Index("ix_reviews_subject_role", "subject_organisation_id", "role"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    role: Mapped[ReviewRole] = mapped_column(_enum(ReviewRole))
    author_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # None once retention erased it
    subject_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    rating: Mapped[int] = mapped_column(Integer)
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # By class name, resolved when the mappers configure: this module may not import incidents.
    incident = relationship("Incident")
    subject: Mapped[Organisation] = relationship(foreign_keys=[subject_organisation_id])
    author_organisation: Mapped[Organisation] = relationship(foreign_keys=[author_organisation_id])

    note = Encrypted()

    def key_holder(self):
        return self.incident
