"""Retention: what an incident said is erased once it has been over for RETENTION_DAYS.

Two independent measures, so that neither a database backup nor a leaked master key brings the
text back: the incident's data key is destroyed (crypto-shredding: every ciphertext sealed with it,
in backups too, becomes unreadable) and the ciphertext columns are nulled. What is kept serves the
indicators and identifies no one: threat type, severity, country and region, needs, dates, status,
the reference, the timeline's kinds and codes, and the after-action ratings (they feed matching).
Who acted on the timeline (a user id; names are not stored there) and who wrote each review are
forgotten. The conversation's posts keep their kinds and dates; their text and authors go. Each
erasure is an audit event.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from solidarity import audit
from solidarity.extensions import settings
from solidarity.incidents import messages
from solidarity.incidents.models import Incident, Status
from solidarity.matching.models import Review

ENDED = (Status.closed, Status.withdrawn)
BATCH = 200
SYSTEM_LABELS = ("system", "coordinator")  # actor kinds that point at no member


def ended_at():
    """When an incident ended. Withdrawal records no date of its own, so its last change stands in:
    never earlier than the withdrawal, so nothing is erased early."""
    return func.coalesce(Incident.closed_at, Incident.updated_at)


def erase_expired(session: Session, *, now: datetime, limit: int = BATCH) -> int:
    """Erase incidents closed or withdrawn more than RETENTION_DAYS before `now`; one commit each.

    Returns how many were erased. Run daily; a run that stops halfway is finished by the next.
    """
    cutoff = now - timedelta(days=int(settings()["RETENTION_DAYS"]))
    ids = list(session.scalars(select(Incident.id).where(Incident.status.in_(ENDED), Incident.erased_at.is_(None),
                                                         ended_at() <= cutoff)
                               .order_by(ended_at(), Incident.id).limit(limit)))
    for incident_id in ids:
        incident = session.get(Incident, incident_id)
        erase(session, incident, now=now)
        session.commit()
    return len(ids)


def erase(session: Session, incident: Incident, *, now: datetime) -> None:
    """Shred one incident's sensitive data in the caller's transaction (it commits)."""
    notes = 0
    for entry in incident.timeline:
        if entry.note_ct is not None:
            entry.note_ct = None
            notes += 1
        entry.actor_id = None  # who acted is forgotten; the timeline then says "a member"
        if entry.actor_label not in SYSTEM_LABELS:
            entry.actor_label = "member"
    for review in session.scalars(select(Review).where(Review.incident_id == incident.id)):
        if review.note_ct is not None:
            review.note_ct = None
            notes += 1
        review.author_id = None
    notes += messages.erase(session, incident)
    incident.summary_ct = incident.details_ct = None
    incident.contact_user_id = incident.reported_by_id = None
    if incident.data_key is not None:
        incident.data_key.destroy(now)
    incident.erased_at = now
    audit.record(session, "retention", "incident.erased", incident, at=now, ref=incident.ref,
                 status=incident.status.value, retention_days=int(settings()["RETENTION_DAYS"]), notes=notes)
