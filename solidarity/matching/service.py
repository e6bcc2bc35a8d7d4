"""Matching's public face: who to ask for one need of one incident, best first, and why."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from solidarity.matching import candidates, reliability, scoring
from solidarity.matching.models import Match
from solidarity.offers.models import Offer


@dataclass(frozen=True)
class NeedProfile:
    help_type: str
    country: str
    region: str
    languages: tuple[str, ...]  # the reporter's, in its order of preference
    reporter_id: uuid.UUID
    exclude: frozenset[uuid.UUID] = frozenset()  # organisations already asked for this need


@dataclass(frozen=True)
class Candidate:
    organisation_id: uuid.UUID
    offer_id: uuid.UUID
    score: float  # scoring points: higher is better; comparable within one ranking
    reasons: tuple[str, ...]


def rank(session: Session, profile: NeedProfile, *, limit: int, now: datetime) -> list[Candidate]:
    """Up to `limit` organisations to ask for this need, one offer each, best first.

    Ties go to the smaller offer id, so the same network always gives the same order.
    """
    found = candidates.find(session, help_type=profile.help_type, country=profile.country, region=profile.region,
                            languages=profile.languages, reporter_id=profile.reporter_id,
                            exclude=profile.exclude, limit=limit, now=now)
    ranked = []
    for fit in found:
        scored = scoring.score(fit.facts)
        ranked.append(Candidate(fit.organisation_id, fit.offer_id, float(scored.points), scored.reasons))
    return ranked


@dataclass(frozen=True)
class Load:
    capacity: int  # of the offer the organisation was asked through
    open_cases: int  # of that help type, accepted and still open

    @property
    def full(self) -> bool:
        return self.open_cases >= self.capacity


def load_of(session: Session, match: Match) -> Load:
    """The asked organisation's load for `match`'s help type, read now: accepting must re-read it
    under its lock, since cases taken after the request was sent count. An offer deleted since
    counts as a capacity of one (its organisation stopped offering more)."""
    capacity = session.scalar(select(Offer.capacity).where(Offer.id == match.offer_id)) if match.offer_id else None
    return Load(capacity=capacity or 1,
                open_cases=reliability.open_cases(session, match.organisation_id, match.help_type))
