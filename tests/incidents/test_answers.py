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
from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.incidents import service
from solidarity.incidents.models import NeedState, TimelineEntry
from solidarity.matching.models import Match, MatchStatus
from solidarity.members.models import User
from solidarity.notify import links
from solidarity.notify.models import Notification
from tests import factories
from tests.conftest import csrf_token
from tests.notify.conftest import PUBLIC_URL
from tests.notify.fake_twilio import AUTH_TOKEN
from tests.notify.sms import reply_text, text_message
from tests.races import at_once

ROUNDS = 20
ALPHA_PHONE = "+254712345641"
ALPHA_SECOND_PHONE = "+254712345642"


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


def test_two_sessions_following_one_answer_link_at_once_answer_once(app, make, session, net, now):
    make.offer(net["alpha"], "legal", capacity=5)
    person = net["people"][0]
    incident = make.incident(net["reporter"], now=utcnow())
    match = request_of(session, incident, net["alpha"])
    path = links.PATH + links.make_token(app.config["SECRET_KEY"], links.AnswerLink(match.id, person.id, True),
                                         now=utcnow())
    clients = [app.test_client() for _ in range(2)]
    forms = []
    for client in clients:
        assert factories.sign_in(client, person).status_code == 302
        forms.append({"csrf_token": csrf_token(client, path)})

    statuses = at_once(app, lambda i: clients[i].post(path, data=forms[i]).status_code)
    assert sorted(statuses) == [302, 409]
    session.expire_all()
    assert timeline_kinds(session, incident).count("accepted") == 1
    assert count(session, AuditEvent, AuditEvent.action == "match.accepted") == 1


def test_two_phones_of_one_organisation_replying_yes_at_once_accept_once(app, make, session, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    reporter = make.admin_of(make.org(country="KE"))
    alpha = make.org("Alpha Legal", country="KE", phone=ALPHA_PHONE)
    make.user(alpha, phone=ALPHA_SECOND_PHONE)
    make.offer(alpha, "legal", capacity=5)
    for _ in range(5):
        incident = make.incident(reporter, now=utcnow())
        replies = at_once(app, lambda i, ref=incident.ref: reply_text(
            text_message(app.test_client(), (ALPHA_PHONE, ALPHA_SECOND_PHONE)[i], f"YES {ref}")))
        thanks = f"Thank you: you accepted case {incident.ref}. Sign in to see the details."
        assert replies.count(thanks) == 1, replies
        other = next(r for r in replies if r != thanks)
        # Too late by a moment, or late enough that the request no longer waits: either way, said.
        assert other.startswith(f"Case {incident.ref} was already answered by your organisation at ") or \
            other == f"No open request {incident.ref} for you. Check the code.", other
        session.expire_all()
        assert timeline_kinds(session, incident).count("accepted") == 1


# -- At capacity, by every channel -----------------------------------------------------------------------

FULL_WORDS = "your organisation is at its capacity of 1 open case of legal help"


@pytest.fixture
def full(make, session, app, monkeypatch, now):
    """Alpha Legal (capacity 1) was asked about two incidents, took the first and is now asked to
    answer the second; Beta Legal, who covers the world and so ranks below, waits its turn."""
    policy = dict(app.config["ESCALATION_POLICY"])
    policy[3] = {**policy[3], "wave_size": 1}
    monkeypatch.setitem(app.config, "ESCALATION_POLICY", policy)
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    reporter = make.admin_of(make.org("Haki Watch", country="KE"))
    alpha = make.org("Alpha Legal", country="KE", phone=ALPHA_PHONE)
    beta = make.org("Beta Legal", country="FR")
    make.offer(alpha, "legal", capacity=1)
    make.offer(beta, "legal", countries=[], worldwide=True)
    taken, second = (make.incident(reporter, now=utcnow()) for _ in range(2))
    service.answer_match(session, make.admin_of(alpha), request_of(session, taken, alpha), True, now=utcnow())
    assert request_of(session, second, beta) is None
    return {"alpha": alpha, "beta": beta, "incident": second, "match": request_of(session, second, alpha),
            "person": make.admin_of(alpha)}


def _by_web(app, full):
    client = app.test_client()
    factories.sign_in(client, full["person"])
    token = csrf_token(client, f"/incidents/{full['incident'].id}")
    response = client.post(f"/matches/{full['match'].id}/answer", data={"answer": "accept", "csrf_token": token})
    return response.status_code, response.get_data(as_text=True)


def _by_api(app, full):
    response = app.test_client().post(f"/api/v1/matches/{full['match'].id}/accept",
                                      headers=factories.bearer(factories.Factory(db.session).token(full["person"])))
    return response.status_code, response.json["errors"][0]["message"]


def _by_sms(app, full):
    """Twilio is answered 200 with the reply to send (reply_text checks that); the reply says why."""
    return None, reply_text(text_message(app.test_client(), ALPHA_PHONE, f"YES {full['incident'].ref}"))


def _by_link(app, full):
    client = app.test_client()
    factories.sign_in(client, full["person"])
    path = links.PATH + links.make_token(app.config["SECRET_KEY"],
                                         links.AnswerLink(full["match"].id, full["person"].id, True), now=utcnow())
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("channel", [_by_web, _by_api, _by_sms, _by_link], ids=["web", "api", "sms", "link"])
def test_accepting_at_capacity_is_refused_by_every_channel_and_the_next_one_is_asked(app, session, full, channel):
    status, said = channel(app, full)
    ref = full["incident"].ref
    if channel is _by_sms:
        assert said == f"Case {ref} goes to others: your organisation is at its capacity (1)."
    else:
        assert status == 409 and FULL_WORDS in said and "passed to others" in said

    session.expire_all()
    assert full["match"].status is MatchStatus.declined
    released = [e for e in full["incident"].timeline if e.kind == "declined"]
    assert [(e.data["reason"], e.data["capacity"]) for e in released] == [("capacity", 1)]
    asked = request_of(session, full["incident"], full["beta"])
    assert asked is not None and asked.status is MatchStatus.notified  # the next one, at once
    assert count(session, Notification, Notification.match_id == asked.id,
                 Notification.template == "match_request") >= 1
    assert count(session, AuditEvent, AuditEvent.action == "match.released") == 1
    assert count(session, Match, Match.organisation_id == full["alpha"].id,
                 Match.status == MatchStatus.accepted) == 1
    assert audit.verify_chain(session) is None


def test_a_request_released_for_capacity_says_so_when_answered_again(app, session, full, now):
    with pytest.raises(service.AtCapacity):
        service.answer_match(session, full["person"], full["match"], True, now=now)
    with pytest.raises(service.AlreadyAnswered) as again:
        service.answer_match(session, full["person"], session.get(Match, full["match"].id), False, now=now)
    assert again.value.message == ("this request was passed to others at 12:00 UTC: your organisation was at "
                                   "its capacity")
