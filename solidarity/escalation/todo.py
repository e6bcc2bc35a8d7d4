"""What a person has to do now, for the home page: requests waiting for their organisation's answer,
its open incidents with who is coming, its check-ins; for coordinators the console's headline.

Read-only, and a fixed number of queries whatever the size of the network (the home page is the
first page after every sign-in, often on a slow phone). Each incident shown passes the one viewer
rule (incidents.access.viewer_of) on rows already loaded, so home shows nothing its own page would not.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from solidarity.escalation.models import OPEN, CheckIn, CheckInState
from solidarity.incidents import access
from solidarity.incidents.models import Incident
from solidarity.incidents.service import ACTIVE
from solidarity.matching.models import PENDING, Match
from solidarity.members.access import may_act
from solidarity.members.models import Organisation, User, Vetting


@dataclass(frozen=True)
class Request:
    """A request for help waiting for the organisation's answer. Only the basics of its incident
    (reference, threat, severity, country, the help asked) are shown before accepting."""

    match: Match
    incident: Incident


@dataclass(frozen=True)
class Case:
    incident: Incident
    coming: list[tuple[str, str]]  # (organisation name, help type) of each responder that accepted


@dataclass(frozen=True)
class Headline:
    """The console's first line, for coordinators."""

    open: int
    unanswered: int
    applying: int


@dataclass(frozen=True)
class Todo:
    requests: list[Request] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    checkins: list[CheckIn] = field(default_factory=list)
    helping: list[Request] = field(default_factory=list)  # cases the organisation accepted, still open
    headline: Headline | None = None

    @property
    def empty(self) -> bool:
        return not (self.requests or self.cases or self.checkins or self.helping)

    def threads(self) -> tuple[list[Incident], dict[uuid.UUID, list[Match]]]:
        """The incidents whose conversation this person takes part in, with the organisation's own
        requests on each (for incidents.messages.unread_counts, without asking again)."""
        own: dict[uuid.UUID, list[Match]] = {c.incident.id: [] for c in self.cases}
        for r in self.helping:
            own.setdefault(r.incident.id, []).append(r.match)
        found = {c.incident.id: c.incident for c in self.cases} | {r.incident.id: r.incident for r in self.helping}
        return list(found.values()), own


def for_user(session: Session, user: User, *, now: datetime) -> Todo:
    headline = headline_for(session) if user.is_coordinator else None
    if user.organisation_id is None or not may_act(user):
        return Todo(headline=headline)
    org_id = user.organisation_id
    # One query for both: the requests waiting for an answer and the cases the organisation took.
    requests: list[Request] = []
    helping: list[Request] = []
    for match, incident in session.execute(
            select(Match, Incident).join(Incident, Incident.id == Match.incident_id)
            .where(Match.organisation_id == org_id, Match.status.in_((*PENDING, *access.ANSWERED_YES)),
                   Incident.status.in_(ACTIVE))
            .order_by(Incident.severity.desc(), Match.created_at, Match.id)):
        viewer = access.viewer_of(user, incident, [match])
        if match.status in PENDING and viewer is access.Viewer.asked and access.can_answer(user, match):
            requests.append(Request(match, incident))
        elif match.status in access.ANSWERED_YES and viewer is access.Viewer.accepted:
            helping.append(Request(match, incident))
    incidents = [i for i in session.scalars(
        select(Incident).where(Incident.organisation_id == org_id, Incident.status.in_(ACTIVE))
        .order_by(Incident.severity.desc(), Incident.created_at, Incident.id))
        if access.viewer_of(user, i, []) is not None]
    coming: dict[uuid.UUID, list[tuple[str, str]]] = {i.id: [] for i in incidents}
    if incidents:
        # Names are encrypted: load the organisations with their data keys and decrypt here.
        for incident_id, org, help_type in session.execute(
                select(Match.incident_id, Organisation, Match.help_type)
                .join(Organisation, Organisation.id == Match.organisation_id)
                .options(joinedload(Organisation.data_key))
                .where(Match.incident_id.in_(coming), Match.status.in_(access.ANSWERED_YES))
                .order_by(Match.answered_at, Match.id)):
            coming[incident_id].append((org.name, help_type))
    checkins = list(session.scalars(
        select(CheckIn).where(CheckIn.organisation_id == org_id, CheckIn.state.in_(OPEN))
        .order_by(CheckIn.next_due_at, CheckIn.id)))
    return Todo(requests=requests, cases=[Case(i, coming[i.id]) for i in incidents], checkins=checkins,
                helping=helping, headline=headline)


def checkin_due(checkin: CheckIn, now: datetime) -> bool:
    """An OK is wanted now: reminded, missed, or past its time."""
    return checkin.state is CheckInState.missed or checkin.reminded_at is not None or checkin.next_due_at <= now


def headline_for(session: Session) -> Headline:
    answered = (select(Match.id).where(Match.incident_id == Incident.id, Match.status.in_(access.ANSWERED_YES))
                .exists())
    open_count, unanswered = session.execute(
        select(func.count(), func.count().filter(~answered)).select_from(Incident)
        .where(Incident.status.in_(ACTIVE))).one()
    applying = session.scalar(select(func.count()).select_from(Organisation)
                              .where(Organisation.vetting_status == Vetting.applied))
    return Headline(open=open_count, unanswered=unanswered, applying=applying)
