"""Plays, their versions and steps, and each incident's checklist progress.

A play answers one threat type. Its text lives in numbered versions: coordinators draft one, submit
it for review, and publish it; publishing retires the play's previous published version. A
published (or retired) version never changes again, so an incident that was given version 3
reads exactly what it was given, even after version 4 appears. The guard at the bottom of this
module enforces that for every session, whatever code path tries to write.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from solidarity.clock import utcnow
from solidarity.errors import Conflict
from solidarity.extensions import db
from solidarity.fields import UTCDateTime, new_id
from solidarity.members.models import User, _enum

# The Solidarity Playbook seed's four situations, with raids, asset freezes, expulsions and
# detention split so that each gets its own play. incidents.models carries the same tuple; this
# package sits below incidents in the import layers, so the tuple is defined here too and a test
# keeps the two equal.
THREAT_TYPES = ("deregistration", "media_attack", "raid", "asset_freeze", "expulsion", "detention",
                "political_upheaval", "other")

THREAT_LABELS = {
    "deregistration": "Deregistration and bureaucratic harassment",
    "media_attack": "Media attack",
    "raid": "Raid",
    "asset_freeze": "Frozen assets",
    "expulsion": "Expulsion",
    "detention": "Detention or house arrest",
    "political_upheaval": "Political upheaval",
    "other": "Other attacks",
}


class VersionStatus(str, enum.Enum):
    draft = "draft"
    in_review = "in_review"
    published = "published"
    retired = "retired"


FROZEN = (VersionStatus.published, VersionStatus.retired)


class Actor(str, enum.Enum):
    """Who carries out a step."""

    affected = "affected"  # the organisation under attack
    responders = "responders"  # member organisations that accepted to help
    coordinators = "coordinators"  # the network's coordinators


ACTOR_LABELS = {Actor.affected: "Affected organisation", Actor.responders: "Responders",
                Actor.coordinators: "Coordinators"}


class ImmutableVersion(Conflict):
    """Something tried to change a published or retired play version."""


class Play(db.Model):
    __tablename__ = "plays"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    threat_type: Mapped[str] = mapped_column(String(30), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[PlayVersion]] = relationship(back_populates="play", order_by="PlayVersion.number")


class PlayVersion(db.Model):
    __tablename__ = "play_versions"
    __table_args__ = (UniqueConstraint("play_id", "number"),
                      Index("ix_play_versions_status_play", "status", "play_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    play_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus), default=VersionStatus.draft)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    help_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # pre-fill an incident's needs
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)  # one citation per item
    # None means the system (the initial playbook loader).
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    play: Mapped[Play] = relationship(back_populates="versions")
    steps: Mapped[list[PlayStep]] = relationship(back_populates="version", cascade="all, delete-orphan",
                                                 order_by="PlayStep.position")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def frozen(self) -> bool:
        return self.status in FROZEN

    @property
    def author_label(self) -> str:
        return self.created_by.name if self.created_by is not None else "system"


class PlayStep(db.Model):
    __tablename__ = "play_steps"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("play_versions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... in reading order
    actor: Mapped[Actor] = mapped_column(_enum(Actor))
    help_type: Mapped[str | None] = mapped_column(String(40))  # None: no outside help needed for it
    text: Mapped[str] = mapped_column(Text)
    checklist: Mapped[list[str]] = mapped_column(JSON, default=list)

    version: Mapped[PlayVersion] = relationship(back_populates="steps")

    @property
    def actor_label(self) -> str:
        return ACTOR_LABELS[self.actor]


class ChecklistProgress(db.Model):
    """Whether one step of an incident's play is done. One row per (incident, step), kept when unticked.

    The foreign key to incidents is by table name only: incidents sits above playbook.
    """

    __tablename__ = "checklist_progress"
    __table_args__ = (UniqueConstraint("incident_id", "step_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("play_steps.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: ticked once, then unticked
    done_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))

    step: Mapped[PlayStep] = relationship()
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])


# -- The immutability guard ----------------------------------------------------------------------
# The service refuses to edit a frozen version; this catches every other path (a view that sets
# an attribute, a script, a future service) at flush time, before anything reaches the database.

# Retiring is the one change a published version may still undergo.
_RETIRE_COLUMNS = {"status", "retired_at"}


def _committed_status(version: PlayVersion) -> VersionStatus | None:
    state = inspect(version)
    if state.pending or state.transient:
        return None  # a brand-new version (e.g. the loader's published v1) is written whole
    history = state.attrs.status.history
    return history.deleted[0] if history.deleted else version.status


def _check_version(version: PlayVersion, deleted: bool) -> None:
    was = _committed_status(version)
    if was not in FROZEN:
        return
    if deleted:
        raise ImmutableVersion(f"version {version.number} is {was.value} and cannot be deleted", field="status")
    state = inspect(version)
    changed = {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}
    if state.attrs.steps.history.has_changes():
        changed.add("steps")
    allowed = _RETIRE_COLUMNS if (was is VersionStatus.published
                                  and version.status is VersionStatus.retired) else set()
    if changed - allowed:
        raise ImmutableVersion(f"version {version.number} is {was.value}; change a new draft instead",
                               field=sorted(changed - allowed)[0])


def _check_step(step: PlayStep) -> None:
    version = step.version
    if version is None and step.version_id is not None:
        version = Session.object_session(step).get(PlayVersion, step.version_id)
    if version is not None and _committed_status(version) in FROZEN:
        raise ImmutableVersion(f"steps of version {version.number} cannot change", field="steps")
    state = inspect(step)
    if state.persistent and state.attrs.version_id.history.deleted:
        # Moving a step out of a frozen version changes that version too.
        old = Session.object_session(step).get(PlayVersion, state.attrs.version_id.history.deleted[0])
        if old is not None and _committed_status(old) in FROZEN:
            raise ImmutableVersion(f"steps of version {old.number} cannot change", field="steps")


@event.listens_for(Session, "before_flush")
def _guard_frozen_versions(session: Session, _context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, PlayVersion) and session.is_modified(obj):
            _check_version(obj, deleted=False)
        elif isinstance(obj, PlayStep) and session.is_modified(obj):
            _check_step(obj)
    for obj in session.deleted:
        if isinstance(obj, PlayVersion):
            _check_version(obj, deleted=True)
        elif isinstance(obj, PlayStep):
            _check_step(obj)
    for obj in session.new:
        if isinstance(obj, PlayStep):
            _check_step(obj)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_writes(state) -> None:
    # Bulk UPDATE/DELETE statements skip the flush, and so the guard above; nothing needs them.
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ in (PlayVersion, PlayStep):
        raise ImmutableVersion("play versions and steps change only through the session, one object at a time",
                               field="status")
