"""Need to know: what one person may see of one incident. Pure rules, tested as a table.

A person sees an incident as exactly one kind of viewer, the first rule that holds:
coordinator (everything), reporter (a member of the reporting organisation: everything),
accepted (its organisation accepted a match: the basics plus what the reporter chose to disclose),
asked (its organisation has a match: the basics only). Anyone else sees nothing, and is told
"not found" so that the incident's existence does not leak. A member of an organisation under
lockdown is "anyone else" for every incident, its own included.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

from solidarity.incidents.models import DISCLOSABLE, Incident
from solidarity.matching.models import Match, MatchStatus
from solidarity.members.access import is_member_of, may_act
from solidarity.members.models import User


class Viewer(str, enum.Enum):
    coordinator = "coordinator"
    reporter = "reporter"
    accepted = "accepted"
    asked = "asked"


ANSWERED_YES = (MatchStatus.accepted, MatchStatus.completed)

# What an asked responder needs to decide whether it can help, and nothing that identifies anyone.
BASICS = frozenset({"id", "ref", "threat_type", "country", "severity", "needs"})
EVERYTHING = BASICS | frozenset({
    "region", "status", "channel", "occurred_at", "disclosure", "organisation", "summary", "details",
    "contact", "timeline", "created_at", "updated_at", "resolved_at", "closed_at"})
# Fields read from ciphertext: showing one to anyone but the reporter is an audit event.
SECRET = frozenset({"summary", "details", "contact", "timeline"})

Rule = Callable[[User, Incident, list[Match]], bool]

RULES: tuple[tuple[Viewer, Rule], ...] = (
    (Viewer.coordinator, lambda user, incident, own: user.is_coordinator),
    (Viewer.reporter, lambda user, incident, own: is_member_of(user, incident.organisation_id)),
    (Viewer.accepted, lambda user, incident, own: any(m.status in ANSWERED_YES for m in own)),
    (Viewer.asked, lambda user, incident, own: bool(own)),
)


def own_matches(user: User, incident: Incident, matches: Iterable[Match]) -> list[Match]:
    """The matches of `incident` that belong to `user`'s organisation."""
    return [m for m in matches if m.incident_id == incident.id and is_member_of(user, m.organisation_id)]


def viewer_of(user: User | None, incident: Incident, matches: Iterable[Match]) -> Viewer | None:
    """How `user` sees `incident`, given matches of it (any; only their organisation's count)."""
    if user is None or not getattr(user, "is_authenticated", False) or not may_act(user):
        # Whoever holds a locked organisation's login must learn nothing: not its own incidents
        # (the adversary's first target), nor those of others it was asked to help; a suspended
        # organisation no longer reads the cases it took.
        return None
    own = own_matches(user, incident, matches)
    return next((viewer for viewer, rule in RULES if rule(user, incident, own)), None)


def fields_for(viewer: Viewer | None, incident: Incident) -> frozenset[str]:
    if viewer in (Viewer.coordinator, Viewer.reporter):
        return EVERYTHING
    if viewer is Viewer.accepted:
        # Status too: a responder at work must know when the case is resolved or withdrawn.
        return BASICS | {"status"} | {f for f in DISCLOSABLE if f in (incident.disclosure or [])}
    if viewer is Viewer.asked:
        return BASICS
    return frozenset()


def sees_all_matches(viewer: Viewer | None) -> bool:
    """Reporters and coordinators see every match with its reasons; responders only their own."""
    return viewer in (Viewer.coordinator, Viewer.reporter)


def sees_ratings(user: User) -> bool:
    """Reporters' after-action ratings reach matching and coordinators only: not the organisation
    rated (it would learn who was candid about it), nor other reporters. A match's score counts
    the rating in, and the other reasons give away the rest of it, so the score goes with it."""
    return user.is_coordinator


def can_change_status(viewer: Viewer | None) -> bool:
    return viewer in (Viewer.coordinator, Viewer.reporter)


def can_answer(user: User, match: Match) -> bool:
    """Only people of the asked organisation answer for it; coordinators do not answer on its behalf."""
    return may_act(user) and is_member_of(user, match.organisation_id)


def reveals_secret(viewer: Viewer | None, shown: Iterable[str]) -> list[str]:
    """The encrypted fields among `shown` whose display must be audited (everyone but the reporter)."""
    if viewer is Viewer.reporter:
        return []
    return sorted(SECRET.intersection(shown))
