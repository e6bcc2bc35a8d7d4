"""Incident, its needs (each with its own escalation deadline) and its timeline."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.fields import DataKey, Encrypted, KeyHolder, UTCDateTime, new_id
from solidarity.members.models import Organisation, User, _enum

THREAT_TYPES = ("deregistration", "media_attack", "raid", "asset_freeze", "expulsion", "detention",
                "political_upheaval", "other")
SEVERITIES = {1: "watch", 2: "serious", 3: "urgent", 4: "life or liberty at risk"}
DISCLOSABLE = ("summary", "details", "contact")


# What the timeline shows for an actor it cannot name (forgotten by retention, removed, unreadable),
# by the kind stored in TimelineEntry.actor_label. Coordinators are never named to the timeline's readers.
ACTOR_NEUTRAL = {"system": "system", "coordinator": "coordinator", "member": "a member"}


class Status(str, enum.Enum):
    open = "open"
    responding = "responding"
    resolved = "resolved"
    closed = "closed"
    withdrawn = "withdrawn"


# Allowed status changes; anything else is a Conflict.
TRANSITIONS: dict[Status, set[Status]] = {
    Status.open: {Status.responding, Status.resolved, Status.withdrawn},
    Status.responding: {Status.resolved, Status.withdrawn, Status.open},
    Status.resolved: {Status.closed, Status.responding},
    Status.closed: set(),
    Status.withdrawn: set(),
}


class NeedState(str, enum.Enum):
    seeking = "seeking"  # waves are going out
    covered = "covered"  # someone accepted
    exhausted = "exhausted"  # no candidate left; coordinators were alerted


class Incident(KeyHolder, db.Model):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_severity", "status", "severity"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    ref: Mapped[str] = mapped_column(String(8), unique=True)  # short code for SMS, e.g. K7QF
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    reported_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    contact_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(8))  # web | api | sms
    threat_type: Mapped[str] = mapped_column(String(30), index=True)
    severity: Mapped[int] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.open)
    disclosure: Mapped[list[str]] = mapped_column(JSON, default=list)  # subset of DISCLOSABLE
    summary_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    details_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    play_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("play_versions.id", use_alter=True))
    data_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("data_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reporter's choice: responders who accept later read the conversation from its start,
    # not only from their acceptance on (incidents/messages.py).
    thread_history_shared: Mapped[bool] = mapped_column(Boolean, default=False)

    organisation: Mapped[Organisation] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    contact_user: Mapped[User | None] = relationship(foreign_keys=[contact_user_id])
    data_key: Mapped[DataKey | None] = relationship()
    needs: Mapped[list[Need]] = relationship(back_populates="incident", cascade="all, delete-orphan",
                                             order_by="Need.help_type")
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="incident", cascade="all, delete-orphan",
        order_by="TimelineEntry.at, TimelineEntry.seq, TimelineEntry.id")

    summary = Encrypted()
    details = Encrypted()

    def key_holder(self) -> Incident:
        return self


class Need(db.Model):
    """One kind of help an incident needs. Covered, seeking or exhausted on its own.

    `next_wave_at` is the escalation deadline: the scheduler tick reads it from here, so a restart
    loses nothing.
    """

    __tablename__ = "incident_needs"
    __table_args__ = (UniqueConstraint("incident_id", "help_type"),
                      Index("ix_incident_needs_due", "state", "next_wave_at"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    help_type: Mapped[str] = mapped_column(String(40))
    state: Mapped[NeedState] = mapped_column(_enum(NeedState), default=NeedState.seeking)
    wave: Mapped[int] = mapped_column(Integer, default=0)
    next_wave_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship(back_populates="needs")


class TimelineEntry(db.Model):
    """What happened to an incident, in order. `note` is free text and so encrypted."""

    __tablename__ = "incident_timeline"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Steps of one transaction share `at`; their order of writing keeps them readable.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(40))  # filed, matched, notified, accepted, declined, wave, ...
    # Who acted, by id and kind (system, coordinator, member), never by name: names are encrypted with
    # their organisation's key and resolved when the timeline is shown (service.timeline_actors).
    # Retention forgets the id; a missing person then shows as ACTOR_NEUTRAL[kind].
    actor_label: Mapped[str] = mapped_column(String(80), default="system")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # never sensitive text: ids, codes, reasons
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    incident: Mapped[Incident] = relationship(back_populates="timeline")

    note = Encrypted()

    def key_holder(self) -> Incident:
        return self.incident


class Message(db.Model):
    """One post in an incident's conversation (incidents/messages.py). `body` is encrypted with the
    incident's key; `private_to_id` set makes it a private line between the reporting organisation
    and that one responder organisation. `kind` says what the post is (a message, a responder's
    progress, covered or handed back, a contact request or decision); `help_type` the need it is about.
    """

    __tablename__ = "incident_messages"
    # `seq` orders a thread (posts of one instant too); unique, so two writers cannot share a place.
    __table_args__ = (UniqueConstraint("incident_id", "seq"),
                      Index("ix_incident_messages_author", "author_id", "created_at"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="message")
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # None once retention erased it
    author_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    author_role: Mapped[str] = mapped_column(String(20))  # reporter | responder | coordinator
    private_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    help_type: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8), default="web")  # web | api | sms
    body_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship()
    author_organisation: Mapped[Organisation | None] = relationship(foreign_keys=[author_organisation_id])
    private_to: Mapped[Organisation | None] = relationship(foreign_keys=[private_to_id])

    body = Encrypted()

    def key_holder(self) -> Incident:
        return self.incident


class ThreadReader(db.Model):
    """One person's place in one conversation: what they read last, whether they muted it, and
    when their latest "new message" notice went (or is due), so a burst is told once."""

    __tablename__ = "incident_thread_readers"

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                                   primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    muted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactShare(db.Model):
    """A responder's request to learn the reporter's contact person, and the reporter's decision.
    The conversation holds the history; this row is the current answer the case page reads."""

    __tablename__ = "incident_contact_shares"

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                                   primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))  # requested | granted | refused
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
