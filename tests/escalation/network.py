"""A reporter and a ring of legal responders in Kenya, for escalation tests."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from solidarity.incidents.models import Incident, Need
from solidarity.matching.models import Match
from solidarity.members import service as members
from solidarity.members.models import Organisation, User
from solidarity.notify.models import Notification
from tests.factories import PASSWORD, Factory


@dataclass
class Network:
    reporter: User
    responders: list[Organisation]
    coordinators: list[User] = field(default_factory=list)

    @property
    def reporter_org(self) -> Organisation:
        return self.reporter.organisation


def build(make: Factory, *, responders: int = 9, coordinators: int = 2) -> Network:
    reporter_org = make.org("Haki Watch", country="KE", languages=("en", "sw"))
    orgs = []
    for _ in range(responders):
        org = make.org(country="KE")
        make.offer(org, "legal", countries=["KE"], capacity=5)
        orgs.append(org)
    duty = [make.coordinator()]
    duty += [members.create_coordinator(make.session, email=f"duty{n}@network.example", name=f"Duty {n}",
                                        password=PASSWORD, now=duty[0].created_at) for n in range(coordinators - 1)]
    return Network(make.admin_of(reporter_org), orgs, duty)


def file(make: Factory, net: Network, *, now, severity: int = 4, needs=("legal",)) -> Incident:
    return make.incident(net.reporter, now=now, severity=severity, needs=list(needs))


def need_of(incident: Incident, help_type: str = "legal") -> Need:
    return next(n for n in incident.needs if n.help_type == help_type)


def matches(session, incident: Incident) -> list[Match]:
    return list(session.scalars(select(Match).where(Match.incident_id == incident.id)
                                .order_by(Match.wave, Match.created_at)))


def alerts(session, template: str = "coordinator_alert") -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.template == template)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))
