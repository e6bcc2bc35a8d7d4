"""Past requests written straight as rows: the incidents service would rank and notify on the way."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta

from solidarity.geo import REGION_OF
from solidarity.incidents.models import Incident, Status
from solidarity.matching.models import Match, MatchStatus, Review, ReviewRole
from solidarity.members.models import Organisation

_refs = itertools.count(1)


def past_match(session, reporter: Organisation, responder: Organisation, *, help_type: str = "legal",
               status: MatchStatus, created_at: datetime, answered_after: timedelta | None = None) -> Match:
    """A match of `responder` on a fresh incident of `reporter`; not committed."""
    incident = Incident(id=uuid.uuid4(), ref=f"T{next(_refs):07d}", organisation_id=reporter.id, channel="web",
                        threat_type="raid", severity=3, country=reporter.country,
                        region=REGION_OF[reporter.country], status=Status.open, disclosure=[],
                        created_at=created_at, updated_at=created_at)
    match = Match(id=uuid.uuid4(), incident_id=incident.id, help_type=help_type, organisation_id=responder.id,
                  wave=1, score=0.0, reasons=[], status=status, created_at=created_at,
                  answered_at=created_at + answered_after if answered_after is not None else None)
    session.add_all([incident, match])
    return match


def past_rating(session, match: Match, rating: int, *, author_id: uuid.UUID, created_at: datetime,
                role: ReviewRole = ReviewRole.reporter) -> Review:
    """A rating of `match`'s organisation by the reporter of its incident (no note); not committed."""
    reporter_id = session.get(Incident, match.incident_id).organisation_id
    review = Review(id=uuid.uuid4(), incident_id=match.incident_id, role=role, rating=rating, created_at=created_at,
                    author_organisation_id=reporter_id, subject_organisation_id=match.organisation_id,
                    author_id=author_id)
    session.add(review)
    return review
