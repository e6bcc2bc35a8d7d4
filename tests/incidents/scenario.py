"""A small network around one incident, shared by the service, API and web tests.

Reporter R (Kenya) asks for legal and communications help. A and B offer legal help in Kenya,
D offers communications worldwide; O is a vetted member with no offers. After `build`, A and B
have pending legal matches and D a pending communications match.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from solidarity.incidents import service
from solidarity.incidents.models import Incident
from solidarity.matching.models import Match
from solidarity.members.models import Organisation, User
from solidarity.playbook import service as playbook
from tests.factories import Factory

SECRET_SUMMARY = "Police raided the Nairobi office of Haki Watch"
SECRET_DETAILS = "Three staff taken to Central station; laptops seized"


@dataclass
class Network:
    reporter_org: Organisation
    reporter: User
    reporter_member: User
    a: Organisation
    b: Organisation
    d: Organisation
    other: Organisation
    coordinator: User
    incident: Incident | None

    def match_of(self, session, org: Organisation) -> Match:
        return session.scalar(select(Match).where(Match.incident_id == self.incident.id,
                                                  Match.organisation_id == org.id))


def members(make: Factory) -> Network:
    """The network without the incident (`incident` is None until `file` is called)."""
    reporter_org = make.org("Haki Watch", country="KE", languages=("en", "sw"))
    reporter = make.admin_of(reporter_org)
    member = make.user(reporter_org, phone="+254712345678")
    a = make.org("Alpha Legal", country="KE")
    b = make.org("Beta Legal", country="KE")
    d = make.org("Delta Media", country="FR")
    other = make.org("Omega Trust", country="KE")
    make.offer(a, "legal", countries=["KE"])
    make.offer(b, "legal", countries=["KE"])
    make.offer(d, "communications", countries=[], worldwide=True)
    make.user(a, role="member")  # a second person at A: both are asked
    return Network(reporter_org, reporter, member, a, b, d, other, make.coordinator(), None)


def file(make: Factory, net: Network, *, now, severity: int = 4, disclosure=("summary", "contact")) -> Incident:
    net.incident = make.incident(net.reporter, now=now, severity=severity, needs=["legal", "communications"],
                                 summary=SECRET_SUMMARY, details=SECRET_DETAILS, disclosure=list(disclosure),
                                 contact_user_id=net.reporter_member.id)
    return net.incident


def build(make: Factory, *, now, **options) -> Network:
    net = members(make)
    file(make, net, now=now, **options)
    return net


def taken(make: Factory, session, *, now) -> Network:
    """`build` with the first playbook loaded (the incident follows the raid play, with a checklist)
    and A's acceptance of the legal request."""
    playbook.load_initial_playbook(session, now=now)
    net = build(make, now=now)
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    return net
