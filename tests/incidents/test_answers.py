"""Answers that hold: of simultaneous answers to one request exactly one counts, accepting respects the
offer's capacity, and an organisation at capacity is told so by every channel while the request moves on.

Races run as races (tests/races.py): threads released by a barrier, each with its own session, on
SQLite and on PostgreSQL (SOLIDARITY_TEST_DATABASE_URL).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity import audit
from solidarity.audit import AuditEvent
from solidarity.extensions import db
from solidarity.incidents import service
from solidarity.incidents.models import NeedState, TimelineEntry
from solidarity.matching.models import Match, MatchStatus
from solidarity.members.models import User
from solidarity.notify.models import Notification
from tests.races import at_once

ROUNDS = 20


@pytest.fixture
def net(make):
    """A reporter, and Alpha Legal with two admins who are both asked and may both answer."""
    reporter_org = make.org("Haki Watch", country="KE")
    alpha = make.org("Alpha Legal", country="KE")
    return {"reporter": make.admin_of(reporter_org), "alpha": alpha,
            "people": [make.admin_of(alpha), make.user(alpha, role="org_admin")]}


def request_of(session, incident, org) -> Match:
    return session.scalar(select(Match).where(Match.incident_id == incident.id, Match.organisation_id == org.id))


def answering(user_id, match_id, accept, now):
    """One person's answer in a thread of its own: "ok", or the error the service raised."""
    service.answer_match(db.session, db.session.get(User, user_id), db.session.get(Match, match_id), accept,
                         now=now)
    return "ok"


def timeline_kinds(session, incident) -> list[str]:
    return list(session.scalars(select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)
                                .order_by(TimelineEntry.seq)))


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_two_people_accepting_one_request_at_once_make_one_acceptance(app, make, session, net, now):
    make.offer(net["alpha"], "legal", capacity=ROUNDS)  # capacity is not what this race is about
    first, second = net["people"]
    for _ in range(ROUNDS):
        incident = make.incident(net["reporter"], now=now)
        match_id = request_of(session, incident, net["alpha"]).id
        people = [first.id, second.id]
        results = at_once(app, lambda i, m=match_id, p=people: answering(p[i], m, True, now))

        assert results.count("ok") == 1, results
        lost = next(r for r in results if r != "ok")
        assert isinstance(lost, service.AlreadyAnswered), lost
        winner = first if results[0] == "ok" else second
        assert lost.message == f"this request was already accepted by {winner.name} at 12:00 UTC"
        session.expire_all()
        assert timeline_kinds(session, incident).count("accepted") == 1
        told = count(session, Notification, Notification.incident_id == incident.id,
                     Notification.template == "match_accepted")
        assert told == 1  # the reporter's one person, told once
        assert count(session, AuditEvent, AuditEvent.action == "match.accepted",
                     AuditEvent.target_id == str(match_id)) == 1
    assert audit.verify_chain(session) is None


def test_simultaneous_accepts_and_declines_over_the_api_one_wins_the_others_get_409(app, make, session, net, now):
    make.offer(net["alpha"], "legal", capacity=5)
    tokens = [make.token(person) for person in net["people"] for _ in range(2)]
    paths = ["accept", "decline", "decline", "accept"]
    for _ in range(5):
        incident = make.incident(net["reporter"], now=now)
        match_id = request_of(session, incident, net["alpha"]).id

        def answer(i, match_id=match_id):
            response = app.test_client().post(f"/api/v1/matches/{match_id}/{paths[i]}",
                                              headers={"Authorization": f"Bearer {tokens[i]}"})
            return response.status_code, response.json

        results = at_once(app, answer, threads=4)
        assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
        said = {body["errors"][0]["message"].split(" by ")[0] for status, body in results if status == 409}
        assert len(said) == 1  # every loser is told the same thing: what the winner did
        session.expire_all()
        kinds = [k for k in timeline_kinds(session, incident) if k in ("accepted", "declined")]
        assert len(kinds) == 1
        events = list(session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(match_id))))
        assert len(events) == 1 and events[0] in ("match.accepted", "match.declined")
    assert audit.verify_chain(session) is None


def test_two_incidents_accepted_at_once_by_a_capacity_one_offer_one_wins(app, make, session, net, now):
    make.offer(net["alpha"], "legal", capacity=1)
    for _ in range(ROUNDS // 2):
        incidents = [make.incident(net["reporter"], now=now) for _ in range(2)]
        matches = [request_of(session, incident, net["alpha"]).id for incident in incidents]
        people = [person.id for person in net["people"]]
        results = at_once(app, lambda i, m=matches, p=people: answering(p[i], m[i], True, now))

        assert results.count("ok") == 1, results
        won = results.index("ok")
        full = results[1 - won]
        assert isinstance(full, service.AtCapacity) and full.capacity == 1
        assert "capacity of 1 open case of legal help" in full.message
        session.expire_all()
        winner, loser = incidents[won], incidents[1 - won]
        assert request_of(session, winner, net["alpha"]).status is MatchStatus.accepted
        assert request_of(session, loser, net["alpha"]).status is MatchStatus.declined
        assert loser.needs[0].state is NeedState.seeking
        assert loser.needs[0].next_wave_at == now  # nobody else offers legal help: escalation acts at once
        assert count(session, Match, Match.organisation_id == net["alpha"].id,
                     Match.status == MatchStatus.accepted) == 1
        # Done with the winner: its case is closed, which frees the capacity for the next round.
        service.change_status(session, net["reporter"], winner, "resolved", now=now)
    assert audit.verify_chain(session) is None
