"""The playbook: draft, review, publish and retire play versions; find the play for an incident;
record checklist progress. Each public function that writes is one transaction.

Review rule (four eyes): a version is published by a coordinator who neither created nor last
edited it. When the network has a single active coordinator, that coordinator may publish their
own draft; otherwise the playbook could never change. Either way, publishing needs the version to
have been submitted for review first.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from solidarity import audit
from solidarity.errors import Checks, Conflict, Forbidden, NotFound, ValidationError
from solidarity.extensions import settings
from solidarity.members.models import Role, User
from solidarity.playbook.content import PLAYS
from solidarity.playbook.models import (
    THREAT_TYPES,
    Actor,
    ChecklistProgress,
    Play,
    PlayStep,
    PlayVersion,
    VersionStatus,
)
from solidarity.records import get_or_404, parse_id
from solidarity.text import clean_text

FIELDS = ("title", "summary", "help_types", "sources", "steps")
STEP_FIELDS = ("actor", "help_type", "text", "checklist")
MAX_TITLE, MAX_SUMMARY, MAX_SOURCE, MAX_STEP, MAX_ITEM = 200, 1000, 500, 1000, 300
MAX_STEPS, MAX_ITEMS, MAX_SOURCES = 30, 12, 20
OPEN = (VersionStatus.draft, VersionStatus.in_review)


# -- Validation ----------------------------------------------------------------------------------

def _text(value: Any, field: str, limit: int, *, line: bool = False) -> str:
    return clean_text(value, field, limit, line=line, required=True) or ""


def _list(value: Any, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError(field, "must be a list")
    return list(value)


def clean_threat_type(value: Any, field: str = "threat_type") -> str:
    code = str(value or "").strip().lower()
    if code not in THREAT_TYPES:
        raise ValidationError(field, f"{value!r} is not a threat type; use one of {', '.join(THREAT_TYPES)}")
    return code


def _help_type(value: Any, field: str) -> str:
    code = str(value or "").strip().lower()
    known = settings()["HELP_TYPES"]
    if code not in known:
        raise ValidationError(field, f"{value!r} is not a help type; use one of {', '.join(known)}")
    return code


def _step(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be an object with actor, help_type, text and checklist")
    checks = Checks()
    for key in sorted(set(value) - set(STEP_FIELDS)):
        checks.fail(f"{field}.{key}", "is not a field of a step")
    actor = str(value.get("actor") or "").strip().lower()
    if actor not in {a.value for a in Actor}:
        checks.fail(f"{field}.actor", "must be affected, responders or coordinators")
    help_type = value.get("help_type")
    if help_type not in (None, ""):
        help_type = checks(_help_type, help_type, f"{field}.help_type")
    items = checks(_list, value.get("checklist"), f"{field}.checklist") or []
    if len(items) > MAX_ITEMS:
        checks.fail(f"{field}.checklist", f"use at most {MAX_ITEMS} items")
    cleaned_items = [checks(_text, item, f"{field}.checklist", MAX_ITEM, line=True) for item in items]
    text = checks(_text, value.get("text"), f"{field}.text", MAX_STEP)
    checks.done()
    return {"actor": Actor(actor), "help_type": help_type or None, "text": text, "checklist": cleaned_items}


def clean_version_data(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Check every field of a version and report all failures at once; `partial` allows leaving fields out."""
    checks = Checks()
    for key in sorted(set(data) - set(FIELDS)):
        checks.fail(key, "is not a field of a play version")
    values: dict[str, Any] = {}
    if "title" in data or not partial:
        values["title"] = checks(_text, data.get("title"), "title", MAX_TITLE, line=True)
    if "summary" in data or not partial:
        values["summary"] = checks(_text, data.get("summary"), "summary", MAX_SUMMARY)
    if "help_types" in data or not partial:
        codes = [checks(_help_type, h, "help_types") for h in checks(_list, data.get("help_types"), "help_types") or []]
        if not codes:
            checks.fail("help_types", "name at least one help type the play calls for")
        values["help_types"] = list(dict.fromkeys(c for c in codes if c))
    if "sources" in data or not partial:
        sources = [checks(_text, s, "sources", MAX_SOURCE, line=True)
                   for s in checks(_list, data.get("sources"), "sources") or []]
        sources = [s for s in sources if s]
        if not sources:
            checks.fail("sources", "cite at least one source")
        if len(sources) > MAX_SOURCES:
            checks.fail("sources", f"use at most {MAX_SOURCES} sources")
        values["sources"] = sources
    if "steps" in data or not partial:
        steps = checks(_list, data.get("steps"), "steps") or []
        if not steps:
            checks.fail("steps", "a play needs at least one step")
        if len(steps) > MAX_STEPS:
            checks.fail("steps", f"use at most {MAX_STEPS} steps")
        values["steps"] = [checks(_step, s, f"steps.{i}") for i, s in enumerate(steps)]
    checks.done()
    return values


def _apply(version: PlayVersion, values: dict[str, Any]) -> None:
    for key in ("title", "summary", "help_types", "sources"):
        if key in values:
            setattr(version, key, values[key])
    if "steps" in values:
        # Rewrite rows in place by position: replacing them wholesale would insert the new step 1
        # before deleting the old one and trip the (version, position) unique constraint.
        steps = values["steps"]
        for position, data in enumerate(steps, 1):
            if position <= len(version.steps):
                for key, value in data.items():
                    setattr(version.steps[position - 1], key, value)
            else:
                version.steps.append(PlayStep(id=uuid.uuid4(), position=position, **data))
        del version.steps[len(steps):]


# -- Reading -------------------------------------------------------------------------------------

def can_see(viewer: User | None, version: PlayVersion) -> bool:
    """Published and retired versions are for everyone signed in; drafts are coordinators' work."""
    if version.frozen:
        return viewer is not None
    return viewer is not None and viewer.is_coordinator


def get_version(session: Session, viewer: User, version_id: uuid.UUID | str) -> PlayVersion:
    """A version the viewer may read; 404 (not 403) for drafts, so their existence stays private."""
    version = session.get(PlayVersion, parse_id(version_id, "play version"))
    if version is None or not can_see(viewer, version):
        raise NotFound("no such play version", field="id")
    return version


def get_step(session: Session, step_id: uuid.UUID | str) -> PlayStep:
    return get_or_404(session, PlayStep, step_id, "step", field="step_id")


def list_versions(session: Session, viewer: User, *, threat_type: str | None = None,
                  status: str | None = None) -> list[PlayVersion]:
    """Published versions for members; for coordinators drafts and versions in review too.

    Retired versions appear only when a coordinator asks for `status="retired"`; incidents that
    follow one reach it through `get_version`.
    """
    query = (select(PlayVersion).join(Play)
             .options(selectinload(PlayVersion.steps), selectinload(PlayVersion.play))
             .order_by(Play.threat_type, Play.created_at, Play.slug, PlayVersion.number))
    if threat_type is not None:
        query = query.where(Play.threat_type == clean_threat_type(threat_type))
    wanted = [VersionStatus.published]
    if viewer.is_coordinator:
        wanted = [VersionStatus(status)] if status else [VersionStatus.published, *OPEN]
    elif status not in (None, VersionStatus.published.value):
        raise Forbidden("only coordinators see drafts and retired versions", field="status")
    return list(session.scalars(query.where(PlayVersion.status.in_(wanted))))


def play_for(session: Session, threat_type: str) -> PlayVersion | None:
    """The published version incidents of this threat type follow, or None if there is none.

    Several plays may answer one threat type; the oldest play with a published version is the
    main one, so a coordinator adding a secondary play does not change what new incidents get.
    Each play has at most one published version (publishing retires the previous one).
    """
    return session.scalar(
        select(PlayVersion).join(Play)
        .where(Play.threat_type == threat_type, PlayVersion.status == VersionStatus.published)
        .order_by(Play.created_at, Play.slug).limit(1))


def history(session: Session, play: Play) -> list[PlayVersion]:
    return list(session.scalars(select(PlayVersion).where(PlayVersion.play_id == play.id)
                                .order_by(PlayVersion.number.desc())))


def open_draft(session: Session, play: Play) -> PlayVersion | None:
    return session.scalar(select(PlayVersion).where(PlayVersion.play_id == play.id, PlayVersion.status.in_(OPEN)))


# -- Writing -------------------------------------------------------------------------------------

def _require_coordinator(actor: User, doing: str) -> None:
    if not actor.is_coordinator:
        raise Forbidden(f"only coordinators {doing}")


def _require_open(version: PlayVersion) -> None:
    if version.frozen:
        raise Conflict(f"version {version.number} is {version.status.value}; draft a new version to change it",
                       field="status")


def _slug(session: Session, threat_type: str, title: str) -> str:
    base = f"{threat_type}-" + "-".join(re.findall(r"[a-z0-9]+", title.lower()))
    base = base[:72].rstrip("-")
    slug, n = base, 1
    while session.scalar(select(Play.id).where(Play.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def draft_play(session: Session, actor: User, threat_type: str, data: Mapping[str, Any], *,
               now: datetime) -> PlayVersion:
    """Start a new play for a threat type; its version 1 is a draft."""
    _require_coordinator(actor, "write plays")
    checks = Checks()
    threat = checks(clean_threat_type, threat_type)
    values = checks(clean_version_data, data, partial=False)
    checks.done()
    play = Play(id=uuid.uuid4(), slug=_slug(session, threat, values["title"]), threat_type=threat, created_at=now)
    version = PlayVersion(id=uuid.uuid4(), play=play, number=1, status=VersionStatus.draft, created_by_id=actor.id,
                          updated_by_id=actor.id, created_at=now, updated_at=now)
    _apply(version, values)
    session.add_all([play, version])
    audit.record(session, actor, "play.drafted", version, at=now, threat_type=threat, number=1)
    session.commit()
    return version


def new_version(session: Session, actor: User, play: Play, *, now: datetime) -> PlayVersion:
    """A draft copy of the play's latest version, numbered one higher. One open draft per play."""
    _require_coordinator(actor, "write plays")
    if (existing := open_draft(session, play)) is not None:
        raise Conflict(f"version {existing.number} is already open as a {existing.status.value}", field="play_id")
    latest = session.scalar(select(PlayVersion).where(PlayVersion.play_id == play.id)
                            .order_by(PlayVersion.number.desc()).limit(1))
    steps = [PlayStep(id=uuid.uuid4(), position=s.position, actor=s.actor, help_type=s.help_type,
                      text=s.text, checklist=list(s.checklist)) for s in latest.steps]
    version = PlayVersion(id=uuid.uuid4(), play=play, number=latest.number + 1, status=VersionStatus.draft,
                          title=latest.title, summary=latest.summary, help_types=list(latest.help_types),
                          sources=list(latest.sources), steps=steps, created_by_id=actor.id,
                          updated_by_id=actor.id, created_at=now, updated_at=now)
    session.add(version)
    audit.record(session, actor, "play.drafted", version, at=now, threat_type=play.threat_type,
                 number=version.number)
    session.commit()
    return version


def update_draft(session: Session, actor: User, version: PlayVersion, data: Mapping[str, Any], *,
                 now: datetime) -> PlayVersion:
    """Change a draft. Changing a version in review sends it back to draft: reviewers review final text."""
    _require_coordinator(actor, "write plays")
    _require_open(version)
    values = clean_version_data(data, partial=True)
    _apply(version, values)
    version.status = VersionStatus.draft
    version.submitted_at = None
    version.updated_by_id = actor.id
    version.updated_at = now
    session.commit()
    return version


def submit_for_review(session: Session, actor: User, version: PlayVersion, *, now: datetime) -> PlayVersion:
    _require_coordinator(actor, "submit plays for review")
    if version.status is not VersionStatus.draft:
        raise Conflict(f"only a draft can be submitted; this version is {version.status.value}", field="status")
    version.status = VersionStatus.in_review
    version.submitted_at = now
    audit.record(session, actor, "play.submitted", version, at=now, number=version.number)
    session.commit()
    return version


def _active_coordinators(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)
                          .where(User.role == Role.coordinator, User.active.is_(True)))


def publish(session: Session, actor: User, version: PlayVersion, *, now: datetime) -> PlayVersion:
    """Publish a version in review; the play's previous published version is retired in the same commit."""
    _require_coordinator(actor, "publish plays")
    if version.status is not VersionStatus.in_review:
        raise Conflict(f"submit the version for review first; it is {version.status.value}", field="status")
    authors = {version.created_by_id, version.updated_by_id}
    if actor.id in authors and _active_coordinators(session) > 1:
        raise Forbidden("another coordinator must review and publish a version you wrote", field="reviewed_by")
    previous = session.scalar(select(PlayVersion).where(PlayVersion.play_id == version.play_id,
                                                        PlayVersion.status == VersionStatus.published))
    if previous is not None:
        previous.status = VersionStatus.retired
        previous.retired_at = now
        audit.record(session, actor, "play.retired", previous, at=now, number=previous.number,
                     superseded_by=version.number)
    version.status = VersionStatus.published
    version.reviewed_by_id = actor.id
    version.published_at = now
    audit.record(session, actor, "play.published", version, at=now, number=version.number,
                 threat_type=version.play.threat_type)
    session.commit()
    return version


def retire(session: Session, actor: User, version: PlayVersion, *, now: datetime) -> PlayVersion:
    """Withdraw a published version without a successor; new incidents then get another play or none."""
    _require_coordinator(actor, "retire plays")
    if version.status is not VersionStatus.published:
        raise Conflict(f"only a published version can be retired; this one is {version.status.value}",
                       field="status")
    version.status = VersionStatus.retired
    version.retired_at = now
    audit.record(session, actor, "play.retired", version, at=now, number=version.number)
    session.commit()
    return version


# -- Checklist progress --------------------------------------------------------------------------

def progress_for(session: Session, incident_id: uuid.UUID) -> dict[uuid.UUID, ChecklistProgress]:
    """The incident's checklist rows by step id (a step without a row was never ticked)."""
    rows = session.scalars(select(ChecklistProgress).where(ChecklistProgress.incident_id == incident_id))
    return {row.step_id: row for row in rows}


def can_mark(user: User, incident: Any, step: PlayStep, *, accepted_responder: bool) -> bool:
    """Who may tick a step: the affected organisation's people and coordinators any step;
    people of a responder organisation that accepted a match only the responders' steps."""
    if user.is_coordinator:
        return True
    if user.organisation_id is not None and user.organisation_id == incident.organisation_id:
        return True
    return accepted_responder and step.actor is Actor.responders


def mark_step(session: Session, user: User, incident: Any, step: PlayStep, done: bool, *, now: datetime,
              accepted_responder: bool = False) -> ChecklistProgress:
    """Tick or untick one step of the incident's play.

    `incident` is an incidents.models.Incident (not imported: incidents sits above playbook).
    `accepted_responder` says whether the user's organisation has an accepted match on this
    incident; the caller works it out through matching, which playbook may not import either.
    """
    if step.version_id != incident.play_version_id:
        raise ValidationError("step_id", "this step is not part of the incident's play")
    if not can_mark(user, incident, step, accepted_responder=accepted_responder):
        raise Forbidden("you cannot tick this step", field="step_id")
    row = session.scalar(select(ChecklistProgress).where(ChecklistProgress.incident_id == incident.id,
                                                         ChecklistProgress.step_id == step.id))
    if row is None:
        row = ChecklistProgress(id=uuid.uuid4(), incident_id=incident.id, step_id=step.id)
        session.add(row)
    if done and row.done_at is None:
        row.done_at, row.done_by_id = now, user.id
    elif not done:
        row.done_at, row.done_by_id = None, None
    row.changed_at, row.changed_by_id = now, user.id
    session.commit()
    return row


# -- The initial playbook ------------------------------------------------------------------------

def load_initial_playbook(session: Session, *, now: datetime) -> list[PlayVersion]:
    """Create the first playbook (content.PLAYS) as published version 1 of each play, authored by
    the system. Idempotent: plays whose slug already exists are left alone. Returns what it created."""
    created: list[PlayVersion] = []
    existing = set(session.scalars(select(Play.slug)))
    for entry in PLAYS:
        if entry["slug"] in existing:
            continue
        values = clean_version_data({k: entry[k] for k in FIELDS}, partial=False)
        play = Play(id=uuid.uuid4(), slug=entry["slug"], threat_type=clean_threat_type(entry["threat_type"]),
                    created_at=now)
        version = PlayVersion(id=uuid.uuid4(), play=play, number=1, status=VersionStatus.published,
                              created_at=now, updated_at=now, submitted_at=now, published_at=now)
        _apply(version, values)
        session.add_all([play, version])
        audit.record(session, "system", "play.published", version, at=now, number=1, threat_type=play.threat_type)
        created.append(version)
    session.commit()
    return created
