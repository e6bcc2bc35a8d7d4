"""What the coordinators' console shows: open incidents by urgency, and the network with its gaps.

Gaps (the README's "Console" section repeats this): the help a threat type calls for is the union
of the help types of its published plays. A region matters when a vetted member organisation is
based there or an open incident happens there. A gap is a help type that some threat type calls
for and that no usable offer (indicators.usable_offers: what matching would use) reaches in a region
that matters: an offer reaches a region when it covers the world, the region, or a country of it
(matching then still finds nobody for the region's other countries; the region's row in "offers by
help type and region" tells how thin it is). Threat types without a published play call for
nothing the console can check, so they show no gap.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from solidarity.extensions import settings
from solidarity.incidents.indicators import ACCEPTED, OfferCount, offers_by_region
from solidarity.incidents.models import Incident
from solidarity.incidents.service import ACTIVE
from solidarity.matching.models import Match
from solidarity.members.models import Organisation, Vetting
from solidarity.offers.models import WORLD
from solidarity.playbook.models import Play, PlayVersion, VersionStatus


@dataclass(frozen=True)
class OpenIncident:
    incident: Incident
    answered: bool  # some responder accepted
    waiting: timedelta  # since it was filed


def open_incidents(session: Session, *, now: datetime) -> list[OpenIncident]:
    """Open and responding incidents: most severe first; within a severity the ones nobody accepted
    first, as they need a coordinator; then the longest waiting."""
    answered = exists().where(Match.incident_id == Incident.id, Match.status.in_(ACCEPTED))
    rows = session.execute(select(Incident, answered.label("answered"))
                           # Each row shows its summary and its organisation's name: their keys come
                           # in the same few statements, not one per incident.
                           .options(selectinload(Incident.needs), selectinload(Incident.data_key),
                                    selectinload(Incident.organisation).selectinload(Organisation.data_key))
                           .where(Incident.status.in_(ACTIVE))
                           .order_by(Incident.severity.desc(), answered, Incident.created_at, Incident.id))
    return [OpenIncident(incident, bool(is_answered), now - incident.created_at) for incident, is_answered in rows]


@dataclass(frozen=True)
class Gap:
    region: str
    help_type: str
    threat_types: list[str]  # those whose plays call for this help


@dataclass(frozen=True)
class Network:
    organisations: dict[Vetting, int]
    offers: list[OfferCount]
    gaps: list[Gap]


def help_needed(session: Session) -> dict[str, set[str]]:
    """Threat type -> help types its published plays call for (configured help types only)."""
    known = set(settings()["HELP_TYPES"])
    needed: dict[str, set[str]] = {}
    rows = session.execute(select(Play.threat_type, PlayVersion.help_types).join(PlayVersion)
                           .where(PlayVersion.status == VersionStatus.published))
    for threat_type, help_types in rows:
        needed.setdefault(threat_type, set()).update(h for h in help_types if h in known)
    return needed


def regions_that_matter(session: Session) -> set[str]:
    members = select(Organisation.region).where(Organisation.vetting_status == Vetting.vetted)
    incidents = select(Incident.region).where(Incident.status.in_(ACTIVE))
    return set(session.scalars(members.union(incidents)))


def gaps(needed: dict[str, set[str]], regions: set[str], offers: list[OfferCount]) -> list[Gap]:
    reached = {(o.help_type, o.region) for o in offers}
    found = []
    for region in sorted(regions):
        for help_type in sorted(set().union(*needed.values())):
            if (help_type, region) not in reached and (help_type, WORLD) not in reached:
                threats = sorted(t for t, wanted in needed.items() if help_type in wanted)
                found.append(Gap(region, help_type, threats))
    return found


def network(session: Session, *, now: datetime) -> Network:
    counts = dict(session.execute(select(Organisation.vetting_status, func.count())
                                  .group_by(Organisation.vetting_status)).all())
    offers = offers_by_region(session, now=now)
    return Network(organisations={status: counts.get(status, 0) for status in Vetting}, offers=offers,
                   gaps=gaps(help_needed(session), regions_that_matter(session), offers))
