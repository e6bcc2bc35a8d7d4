"""incidents.service: filing, waves, answers and status changes, each all-or-nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from solidarity.audit import AuditEvent
from solidarity.errors import Conflict, Forbidden, NotFound, ValidationError
from solidarity.incidents import service
from solidarity.incidents.models import Incident, Need, NeedState, Status, TimelineEntry
from solidarity.incidents.service import IncidentDraft
from solidarity.matching import waves
from solidarity.matching.models import Match, MatchStatus
from solidarity.members import service as members
from solidarity.members.models import Role, Vetting
from solidarity.notify.models import Notification
from solidarity.playbook.models import Play, PlayVersion, VersionStatus
from tests.incidents import scenario
from tests.incidents.scenario import SECRET_DETAILS, SECRET_SUMMARY, build

TABLES = (Incident, Need, Match, TimelineEntry, Notification)


def counts(session) -> dict:
    tables = {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in TABLES}
    tables["audit"] = session.scalar(select(func.count()).where(AuditEvent.action.like("incident.%")))
    return tables


def matches_for(session, incident, help_type=None) -> list[Match]:
    query = select(Match).where(Match.incident_id == incident.id)
    if help_type:
        query = query.where(Match.help_type == help_type)
    return list(session.scalars(query.order_by(Match.created_at, Match.score.desc())))


def kinds(incident) -> list[str]:
    return [entry.kind for entry in incident.timeline]


def test_filing_writes_everything_in_one_commit(make, session, now):
    net = scenario.members(make)
    commits = []

    def count(committed):
        commits.append(committed)

    event.listen(session(), "after_commit", count)
    try:
        incident = scenario.file(make, net, now=now)
    finally:
        event.remove(session(), "after_commit", count)
    assert len(commits) == 1
    session.expire_all()

    assert incident.status is Status.open and incident.channel == "web"
    assert incident.organisation_id == net.reporter_org.id and incident.region == "014"
    assert incident.summary == SECRET_SUMMARY and incident.details == SECRET_DETAILS
    assert SECRET_SUMMARY.encode() not in incident.summary_ct
    assert {n.help_type: (n.state, n.wave, n.next_wave_at) for n in incident.needs} == {
        h: (NeedState.seeking, 1, now + waves.wave_interval(4)) for h in ("legal", "communications")}

    legal = matches_for(session, incident, "legal")
    assert {m.organisation_id for m in legal} == {net.a.id, net.b.id}
    assert all(m.wave == 1 and m.status is MatchStatus.notified and m.reasons and m.score > 0 for m in legal)
    assert [m.organisation_id for m in matches_for(session, incident, "communications")] == [net.d.id]

    assert kinds(incident)[0] == "filed"
    matched = [e for e in incident.timeline if e.kind == "matched"]
    assert {e.data["help_type"] for e in matched} == {"legal", "communications"}
    assert all(c["reasons"] for e in matched for c in e.data["candidates"])
    assert kinds(incident).count("notified") == 2

    requests = list(session.scalars(select(Notification).where(Notification.template == "match_request")))
    assert {n.user.organisation_id for n in requests} == {net.a.id, net.b.id, net.d.id}
    assert len({n.user_id for n in requests if n.user.organisation_id == net.a.id}) == 2  # all of A's people
    assert all(n.params == {"ref": incident.ref, "help_type": n.params["help_type"]} for n in requests)
    assert all(n.incident_id == incident.id and n.match_id is not None for n in requests)
    assert not any(n.user.role is Role.coordinator for n in session.scalars(select(Notification)))
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "incident.filed")).target_id == str(
        incident.id)


def test_invalid_draft_names_every_field_and_writes_nothing(make, session, now):
    org = make.org(country="KE")
    other = make.org(country="UG")
    before = counts(session)
    draft = IncidentDraft(threat_type="burglary", severity=7, country="XX", needs=["cooking"],
                          summary="x" * (service.SUMMARY_MAX + 1), disclosure=["address"],
                          occurred_at=now + timedelta(days=2), contact_user_id=make.admin_of(other).id,
                          channel="fax")
    with pytest.raises(ValidationError) as caught:
        service.file_incident(session, make.admin_of(org), draft, now=now)
    assert {e.field for e in caught.value.errors} == {
        "threat_type", "severity", "country", "needs", "summary", "disclosure", "occurred_at", "contact_user_id",
        "channel"}
    assert counts(session) == before


def test_empty_needs_are_an_error_without_a_play(make, session, now):
    org = make.org()
    with pytest.raises(ValidationError) as caught:
        service.file_incident(session, make.admin_of(org), IncidentDraft("raid", 3, "KE", []), now=now)
    assert [e.field for e in caught.value.errors] == ["needs"]


def test_empty_needs_are_filled_from_the_published_play(make, session, now):
    play = Play(slug="raid", threat_type="raid", created_at=now)
    version = PlayVersion(play=play, number=1, status=VersionStatus.published, title="Raid",
                          help_types=["legal", "digital_security"], created_at=now, published_at=now)
    session.add_all([play, version])
    session.commit()
    org = make.org()
    incident = service.file_incident(session, make.admin_of(org), IncidentDraft("raid", 3, "KE", []), now=now)
    assert [n.help_type for n in incident.needs] == ["digital_security", "legal"]
    assert incident.play_version_id == version.id


def test_a_failure_halfway_leaves_nothing_behind(make, session, now, monkeypatch):
    net = build(make, now=now)
    before = counts(session)

    def broken(*args, **kwargs):
        raise RuntimeError("matching is down")

    monkeypatch.setattr(service, "rank", broken)
    with pytest.raises(RuntimeError):
        make.incident(net.reporter, now=now)
    assert counts(session) == before  # the session is usable and nothing half-built was flushed


@pytest.mark.parametrize("case", ["suspended", "applied", "inactive", "coordinator"])
def test_only_active_members_of_vetted_organisations_file(make, session, now, case):
    org = make.org(vetted=case != "applied")
    user = make.user(org)
    if case == "suspended":
        members.set_vetting(session, make.coordinator(), org, "suspended", now=now)
    if case == "inactive":
        user.active = False
        session.commit()
    reporter = make.coordinator() if case == "coordinator" else user
    with pytest.raises(Forbidden):
        service.file_incident(session, reporter, IncidentDraft("raid", 3, "KE", ["legal"]), now=now)
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_nobody_fits_leaves_the_need_due_for_escalation(make, session, now):
    org = make.org(country="KE")
    incident = make.incident(make.admin_of(org), now=now, needs=["relocation"])
    need = incident.needs[0]
    assert (need.state, need.wave, need.next_wave_at) == (NeedState.seeking, 1, now)
    assert matches_for(session, incident) == []
    assert [e.data["candidates"] for e in incident.timeline if e.kind == "matched"] == [[]]


def test_accept_covers_the_need_and_tells_the_reporter(make, session, now):
    net = build(make, now=now)
    match = net.match_of(session, net.a)
    responder = make.admin_of(net.a)
    later = now + timedelta(minutes=3)
    service.answer_match(session, responder, match, True, now=later)

    incident = service.get_incident(session, net.incident.id)
    legal = next(n for n in incident.needs if n.help_type == "legal")
    assert (match.status, match.answered_at, match.answered_by_id) == (MatchStatus.accepted, later, responder.id)
    assert (legal.state, legal.next_wave_at) == (NeedState.covered, None)
    assert next(n for n in incident.needs if n.help_type == "communications").state is NeedState.seeking
    assert incident.status is Status.responding
    assert kinds(incident)[-1] == "accepted"
    told = list(session.scalars(select(Notification).where(Notification.template == "match_accepted")))
    assert {n.user.organisation_id for n in told} == {net.reporter_org.id}
    assert {n.user_id for n in told} == {net.reporter.id, net.reporter_member.id}
    assert told[0].params == {"ref": incident.ref, "help_type": "legal"}
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "match.accepted")) is not None

    with pytest.raises(Conflict) as caught:
        service.answer_match(session, responder, match, False, now=later)
    assert caught.value.field == "status"


@pytest.mark.parametrize("who", ["reporter", "coordinator", "other responder"])
def test_only_the_asked_organisation_answers(make, session, now, who):
    net = build(make, now=now)
    user = {"reporter": net.reporter, "coordinator": net.coordinator, "other responder": make.admin_of(net.b)}[who]
    with pytest.raises(Forbidden):
        service.answer_match(session, user, net.match_of(session, net.a), True, now=now)
    assert net.match_of(session, net.a).status is MatchStatus.notified


def test_decline_asks_the_next_candidate_at_once(make, session, now):
    net = build(make, now=now)
    spare = make.org("Gamma Legal", country="KE")
    make.offer(spare, "legal", countries=["KE"])
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), False, now=now)

    replacement = net.match_of(session, spare)
    assert replacement is not None
    assert (replacement.wave, replacement.status) == (1, MatchStatus.notified)
    assert session.scalar(select(Notification).where(Notification.match_id == replacement.id)) is not None
    assert kinds(net.incident)[-3:] == ["declined", "matched", "notified"]
    assert net.match_of(session, net.a).status is MatchStatus.declined
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "match.declined")) is not None


def test_decline_with_nobody_left_makes_the_need_due_now(make, session, now):
    net = build(make, now=now)
    later = now + timedelta(minutes=1)
    service.answer_match(session, make.admin_of(net.d), net.match_of(session, net.d), False, now=later)
    comms = next(n for n in net.incident.needs if n.help_type == "communications")
    assert (comms.state, comms.next_wave_at) == (NeedState.seeking, later)
    legal = next(n for n in net.incident.needs if n.help_type == "legal")
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), False, now=later)
    assert legal.next_wave_at == now + waves.wave_interval(4)  # B has not answered yet: keep waiting


def test_open_next_wave_asks_only_new_organisations(make, session, now):
    net = build(make, now=now)
    spare = make.org("Gamma Legal", country="KE")
    make.offer(spare, "legal", countries=["KE"])
    legal = next(n for n in net.incident.needs if n.help_type == "legal")
    later = now + timedelta(minutes=10)

    added = service.open_next_wave(session, legal, now=later, reason="no answer in 10 minutes")
    session.commit()
    assert [m.organisation_id for m in added] == [spare.id]
    assert (added[0].wave, legal.wave, legal.next_wave_at) == (2, 2, later + waves.wave_interval(4))
    wave = [e for e in net.incident.timeline if e.kind == "wave"][-1]
    assert wave.data["reason"] == "no answer in 10 minutes" and wave.data["wave"] == 2

    assert service.open_next_wave(session, legal, now=later, reason="still nothing") == []
    session.commit()
    assert (legal.state, legal.next_wave_at, legal.wave) == (NeedState.exhausted, None, 2)
    assert kinds(net.incident)[-1] == "exhausted"


def test_open_next_wave_stops_after_the_last_wave(make, session, now):
    net = build(make, now=now)
    legal = next(n for n in net.incident.needs if n.help_type == "legal")
    legal.wave = waves.max_waves(4)
    assert service.open_next_wave(session, legal, now=now, reason="tick") == []
    assert legal.state is NeedState.exhausted


def test_open_next_wave_leaves_a_covered_need_alone(make, session, now):
    net = build(make, now=now)
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    legal = next(n for n in net.incident.needs if n.help_type == "legal")
    assert service.open_next_wave(session, legal, now=now, reason="tick") == []
    assert (legal.state, legal.wave) == (NeedState.covered, 1)


def test_status_changes_follow_the_transitions(make, session, now):
    net = build(make, now=now)
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    incident = net.incident
    with pytest.raises(Conflict) as caught:
        service.change_status(session, net.reporter, incident, "closed", now=now)
    assert caught.value.field == "status"
    with pytest.raises(ValidationError) as caught:
        service.change_status(session, net.reporter, incident, "finished", now=now)
    assert caught.value.field == "status"

    later = now + timedelta(days=3)
    service.change_status(session, net.reporter_member, incident, "resolved", now=later, note="All released")
    assert (incident.status, incident.resolved_at) == (Status.resolved, later)
    assert incident.timeline[-1].note == "All released" and b"All released" not in incident.timeline[-1].note_ct
    assert net.match_of(session, net.b).status is MatchStatus.expired  # unanswered requests are withdrawn
    assert all(n.next_wave_at is None for n in incident.needs)
    told = list(session.scalars(select(Notification).where(Notification.template == "incident_status")))
    assert {n.user.organisation_id for n in told} == {net.a.id}
    assert told[0].params == {"ref": incident.ref, "status": "resolved"}

    service.change_status(session, net.coordinator, incident, "closed", now=later)
    assert (incident.status, incident.closed_at) == (Status.closed, later)
    with pytest.raises(Conflict):
        service.change_status(session, net.coordinator, incident, "open", now=later)
    assert [e.data["new"] for e in incident.timeline if e.kind == "status"] == ["resolved", "closed"]


def test_withdrawing_stops_answers(make, session, now):
    net = build(make, now=now)
    service.change_status(session, net.reporter, net.incident, "withdrawn", now=now)
    match = net.match_of(session, net.a)
    assert match.status is MatchStatus.expired
    with pytest.raises(Conflict):
        service.answer_match(session, make.admin_of(net.a), match, True, now=now)


@pytest.mark.parametrize("who, error", [("responder", Forbidden), ("other", NotFound)])
def test_only_reporter_and_coordinators_change_status(make, session, now, who, error):
    net = build(make, now=now)
    user = make.admin_of(net.a if who == "responder" else net.other)
    with pytest.raises(error):
        service.change_status(session, user, net.incident, "withdrawn", now=now)
    with pytest.raises(error):
        service.add_note(session, user, net.incident, "hello", now=now)
    assert net.incident.status is Status.open


def test_reveal_audits_only_what_others_see(make, session, now):
    net = build(make, now=now)

    def revealed():
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.revealed")))

    shown = service.reveal(session, net.reporter, net.incident, now=now)
    assert shown["summary"] == SECRET_SUMMARY and revealed() == []
    shown = service.reveal(session, make.admin_of(net.a), net.incident, now=now)
    assert "summary" not in shown and revealed() == []

    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    shown = service.reveal(session, make.admin_of(net.a), net.incident, now=now)
    assert shown["summary"] == SECRET_SUMMARY and "details" not in shown
    assert shown["contact"]["phone"] == "+254712345678"
    events = revealed()
    assert len(events) == 1
    assert events[0].details == {"fields": ["contact", "summary"], "viewer": "accepted"}
    assert events[0].actor_id == str(make.admin_of(net.a).id) and events[0].target_id == str(net.incident.id)
    assert SECRET_SUMMARY not in str(events[0].details)

    service.reveal(session, net.coordinator, net.incident, now=now)
    assert revealed()[-1].details["fields"] == ["contact", "details", "summary"]


def test_find_by_ref_forgives_case_and_spaces(make, session, now):
    net = build(make, now=now)
    ref = net.incident.ref
    assert service.find_by_ref(session, f" {ref.lower()[:2]} {ref.lower()[2:]} ") is net.incident
    assert service.find_by_ref(session, "OOOOO") is None
    assert service.find_by_ref(session, "") is None


def test_list_shows_each_person_what_they_may_know_of(make, session, now):
    net = build(make, now=now)
    mine = make.incident(make.admin_of(net.other), now=now, needs=["relocation"])
    assert service.list_incidents(session, net.reporter) == [net.incident]
    assert service.list_incidents(session, make.admin_of(net.a)) == [net.incident]
    assert service.list_incidents(session, make.admin_of(net.other)) == [mine]
    assert set(service.list_incidents(session, net.coordinator)) == {net.incident, mine}
    assert service.list_incidents(session, net.coordinator, status="resolved") == []
    with pytest.raises(ValidationError):
        service.list_incidents(session, net.coordinator, status="nonsense")


def test_suspended_responder_cannot_accept(make, session, now):
    net = build(make, now=now)
    members.set_vetting(session, net.coordinator, net.a, Vetting.suspended.value, now=now)
    with pytest.raises(Forbidden):
        service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
