"""Home is a to-do list: requests waiting for my organisation's answer, its open incidents with who
is coming, its check-ins; for coordinators the console's headline. A fixed number of statements."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from solidarity.clock import utcnow
from solidarity.escalation import checkins
from solidarity.extensions import db
from solidarity.incidents import service
from solidarity.matching.models import Match
from solidarity.offers.models import Offer
from tests.conftest import csrf_token
from tests.factories import sign_in
from tests.incidents import scenario
from tests.statements import counted

MAX_STATEMENTS = 10



def home(client) -> str:
    page = client.get("/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.fixture
def net(make):
    net = scenario.members(make)
    scenario.file(make, net, now=utcnow())
    return net


def test_a_responder_sees_the_request_and_answers_it_through_the_link_confirmation(client, make, session, net):
    responder = net.a.users[0]
    sign_in(client, responder)
    text = home(client)
    assert f"Case {net.incident.ref} · legal help" in text
    accept = re.search(r'href="(/answer/[^"]+)">Accept</a>', text).group(1)
    confirm = client.get(accept)
    assert confirm.status_code == 200 and f"Accept case {net.incident.ref}?" in confirm.get_data(as_text=True)
    done = client.post(accept, data={"csrf_token": csrf_token(client, accept)})
    assert done.status_code == 302 and done.location == f"/incidents/{net.incident.id}"
    assert net.match_of(session, net.a).status.value == "accepted"
    assert "No request is waiting for your organisation's answer." in home(client)


def test_the_reporter_sees_its_open_incident_status_and_who_is_coming(client, make, session, net):
    service.answer_match(session, net.a.users[0], net.match_of(session, net.a), True, now=utcnow())
    checkins.request_checkins(session, net.reporter, interval_hours=24, incident=net.incident, now=utcnow())
    sign_in(client, net.reporter_member)
    text = home(client)
    assert f'href="/incidents/{net.incident.id}">Case {net.incident.ref}</a>' in text
    assert "Status: being helped" in text and "Coming: <bdi>Alpha Legal</bdi> (legal)" in text
    assert "Check-in " in text and "We are safe" in text
    assert "No request is waiting" in text  # the reporter is not asked about its own case


def test_an_uninvolved_organisation_sees_nothing_of_the_case(client, make, net):
    sign_in(client, make.admin_of(net.other))
    text = home(client)
    assert net.incident.ref not in text
    assert "No request is waiting" in text and "Your organisation has no open incident." in text


def test_coordinators_see_the_console_headline(client, make, net):
    make.org("Applying Org", vetted=False)
    sign_in(client, net.coordinator)
    text = home(client)
    assert "1 open incident · <strong class=\"alert\">1 with no responder yet</strong>" in text
    assert "1 organisation applying" in text and 'href="/coordinator/console"' in text


def _grow(make, net, n: int) -> None:
    """n more incidents of the reporter, each asking A again; A accepts every other one."""
    db.session.execute(update(Offer).where(Offer.organisation_id == net.a.id).values(capacity=50))
    db.session.commit()
    for k in range(n):
        incident = make.incident(net.reporter, now=utcnow(), severity=3, needs=["legal"])
        if k % 2:
            match = db.session.scalar(select(Match).where(Match.incident_id == incident.id,
                                                          Match.organisation_id == net.a.id))
            service.answer_match(db.session, net.a.users[0], match, True, now=utcnow())
        checkins.request_checkins(db.session, net.reporter, interval_hours=24, incident=incident, now=utcnow())


@pytest.mark.parametrize("who", ["reporter_member", "responder", "coordinator"])
def test_home_takes_a_fixed_number_of_statements_whatever_the_network_size(app, client, make, net, who):
    person = {"reporter_member": net.reporter_member, "responder": net.a.users[0],
              "coordinator": net.coordinator}[who]
    sign_in(client, person)
    home(client)
    db.session.expire_all()  # as in production, where each request loads what it reads afresh
    with counted() as small:
        home(client)
    _grow(make, net, 6)
    db.session.expire_all()
    with counted() as large:
        text = home(client)
    assert len(large) == len(small) <= MAX_STATEMENTS, "\n".join(s[:90] for s in large)
    if who == "responder":
        assert text.count(">Accept</a>") == 4  # the first and three of the six; A accepted the other three
