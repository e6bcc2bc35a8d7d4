"""After-action reviews: once an incident is resolved, the organisations that worked on it say how it went.

The reporting organisation rates each responder organisation that took the case; each of those
responders rates the case with the reporter. A review is a rating from 1 to 5 and a short note,
encrypted with the incident's data key. Reporters' ratings feed the responder's reliability in
matching (matching.reliability.ratings); responders' reviews are for the coordinators' learning.

Who reads them: coordinators read every review; an organisation reads the reviews it wrote. A
rating is not shown to the organisation rated, so that a reporter under pressure can be candid.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from solidarity import audit
from solidarity.errors import Checks, Conflict, Forbidden, NotFound, ValidationError
from solidarity.incidents import access
from solidarity.incidents.access import Viewer
from solidarity.incidents.models import Incident, Status
from solidarity.incidents.service import add_to_timeline, one_transaction, viewer_for
from solidarity.matching.models import RATINGS, Match, Review, ReviewRole
from solidarity.members.models import Organisation, User
from solidarity.text import clean_text, is_whole

NOTE_MAX = 1_000
REVIEWABLE = (Status.resolved, Status.closed)


@dataclass(frozen=True)
class Due:
    """A review the viewer's organisation may still write: of whom, in which role."""

    subject: Organisation
    role: ReviewRole


def _took(session: Session, incident: Incident) -> list[uuid.UUID]:
    """Organisations that accepted a match on the incident (completed once it was resolved)."""
    return list(dict.fromkeys(session.scalars(
        select(Match.organisation_id).where(Match.incident_id == incident.id,
                                            Match.status.in_(access.ANSWERED_YES))
        .order_by(Match.answered_at, Match.id))))


def _written(session: Session, incident: Incident, org_id: uuid.UUID) -> set[uuid.UUID]:
    return set(session.scalars(select(Review.subject_organisation_id).where(
        Review.incident_id == incident.id, Review.author_organisation_id == org_id)))


def _candidates(session: Session, user: User, incident: Incident) -> list[Due]:
    """Every review `user`'s organisation may write on `incident`, written or not."""
    if user.is_coordinator or user.organisation_id is None:
        return []
    viewer = viewer_for(session, user, incident)
    if viewer is Viewer.reporter:
        orgs = [session.get(Organisation, org_id) for org_id in _took(session, incident)]
        return [Due(org, ReviewRole.reporter) for org in orgs]
    if viewer is Viewer.accepted:
        return [Due(incident.organisation, ReviewRole.responder)]
    return []


def due(session: Session, user: User, incident: Incident) -> list[Due]:
    """The reviews `user`'s organisation still owes on `incident`; none before it is resolved."""
    if incident.status not in REVIEWABLE:
        return []
    written = _written(session, incident, user.organisation_id) if user.organisation_id else set()
    return [d for d in _candidates(session, user, incident) if d.subject.id not in written]


def _clean_rating(value: Any) -> int:
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not is_whole(text) or int(text) not in RATINGS:
        raise ValidationError("rating", f"must be a whole number from {RATINGS[0]} to {RATINGS[-1]}")
    return int(text)


def _clean_note(value: Any) -> str | None:
    return clean_text(value, "note", NOTE_MAX)


def _clean_subject(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise ValidationError("subject_organisation_id", "choose the organisation you are reviewing") from exc


def leave_review(session: Session, user: User, incident: Incident, subject_organisation_id: Any, rating: Any,
                 note: Any = None, *, now: datetime) -> Review:
    """Store one review by `user`'s organisation of another's part in a resolved incident. One commit."""
    if viewer_for(session, user, incident) is None:
        raise NotFound("no such incident", field="id")
    if user.is_coordinator:
        raise Forbidden("reviews come from the organisations that worked on the incident")
    checks = Checks()
    subject_id = checks(_clean_subject, subject_organisation_id)
    rating = checks(_clean_rating, rating)
    note = checks(_clean_note, note)
    checks.done()
    if incident.status not in REVIEWABLE:
        raise Conflict(f"this incident is {incident.status.value}; reviews come once it is resolved", field="status")
    candidates = {d.subject.id: d for d in _candidates(session, user, incident)}
    if not candidates:
        raise Forbidden("only the reporting organisation and the responders that took the case review it")
    if subject_id not in candidates:
        raise ValidationError("subject_organisation_id", "this organisation is not one you worked with on it")
    if subject_id in _written(session, incident, user.organisation_id):
        raise Conflict("your organisation already reviewed this", field="subject_organisation_id")
    role = candidates[subject_id].role
    with one_transaction(session):
        review = Review(id=uuid.uuid4(), incident=incident, role=role, author_organisation_id=user.organisation_id,
                        author_id=user.id, subject_organisation_id=subject_id, rating=rating, created_at=now)
        review.note = note  # after `incident` is set: the note is encrypted with the incident's key
        session.add(review)
        # The timeline says that a review was left, not what it says: the reporter reads the timeline.
        add_to_timeline(incident, "reviewed", now, actor=user, role=role.value)
        audit.record(session, user, "incident.reviewed", incident, at=now, role=role.value,
                     subject=str(subject_id))
        session.commit()
    return review


def visible_reviews(session: Session, user: User, incident: Incident) -> list[Review]:
    """Every review for coordinators; the reviews its organisation wrote for anyone else."""
    if viewer_for(session, user, incident) is None:
        raise NotFound("no such incident", field="id")
    query = select(Review).where(Review.incident_id == incident.id).order_by(Review.created_at, Review.id)
    if not user.is_coordinator:
        if user.organisation_id is None:
            return []
        query = query.where(Review.author_organisation_id == user.organisation_id)
    return list(session.scalars(query))
