"""Who escalation steps tell, and how they land on an incident's timeline."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from solidarity import metrics
from solidarity.incidents.models import Incident, TimelineEntry
from solidarity.members.models import Role, User
from solidarity.notify.outbox import enqueue


def active_coordinators(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.coordinator, User.active.is_(True))
                                .order_by(User.created_at, User.id)))


def alert_coordinators(session: Session, *, now: datetime, ref: str, reason: str,
                       incident: Incident | None = None) -> int:
    """Queue a "coordinator_alert" for every active coordinator; returns how many notifications.

    `reason` is a code the message templates translate (exhausted, no_candidates, checkin_missed...).
    """
    metrics.on_commit(session, metrics.COORDINATOR_ALERTS.labels(reason).inc)
    return sum(len(enqueue(session, user, "coordinator_alert", now=now, incident=incident, ref=ref, reason=reason))
               for user in active_coordinators(session))


def notify_organisations(session: Session, org_ids: list[uuid.UUID], template: str, *, now: datetime,
                         incident: Incident | None = None, roles: tuple[Role, ...] | None = None,
                         **params: Any) -> int:
    """Queue `template` for the active people of each organisation (only `roles` when given)."""
    if not org_ids:
        return 0
    query = select(User).where(User.organisation_id.in_(org_ids), User.active.is_(True))
    if roles:
        query = query.where(User.role.in_(roles))
    return sum(len(enqueue(session, user, template, now=now, incident=incident, **params))
               for user in session.scalars(query.order_by(User.created_at, User.id)))


def add_timeline(incident: Incident, kind: str, at: datetime, **data: Any) -> TimelineEntry:
    """A system step on the incident's timeline; `data` holds codes and counts, never free text."""
    entry = TimelineEntry(id=uuid.uuid4(), at=at, seq=len(incident.timeline) + 1, kind=kind, actor_label="system",
                          data=data)
    incident.timeline.append(entry)
    return entry
