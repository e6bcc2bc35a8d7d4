"""Names are encrypted at rest (members/models.py) and still shown, decrypted, on every page and API
answer that showed them; lists that were sorted by name in SQL are sorted the same way in Python."""
from __future__ import annotations

from datetime import timedelta

import pytest

from solidarity.clock import utcnow
from solidarity.escalation import checkins
from solidarity.incidents import retention
from solidarity.incidents import service as incidents
from solidarity.incidents.models import Status
from solidarity.members import service as members
from solidarity.playbook import service as playbook
from solidarity.playbook.models import PlayVersion
from tests.factories import bearer
from tests.incidents import scenario
from tests.web.pages import sign_in

REPORTER, MEMBER, HELPER, COORDINATOR = "Zawadi Kamau", "Baraka Njoroge", "Imani Otieno", "Kestrel Odinga"


@pytest.fixture
def net(make, session):
    now = utcnow()
    playbook.load_initial_playbook(session, now=now)
    net = scenario.members(make)
    coordinator = net.coordinator
    for person, name in ((net.reporter, REPORTER), (net.reporter_member, MEMBER), (make.admin_of(net.a), HELPER),
                         (coordinator, COORDINATOR)):
        members.update_user(session, coordinator, person, {"name": name}, now=now)
    scenario.file(make, net, now=now, disclosure=("summary", "contact"))
    for org in (net.a, net.b):  # both take the legal need, so check-ins can alert either
        incidents.answer_match(session, make.admin_of(org), net.match_of(session, org), True, now=now)
    incidents.add_note(session, net.reporter_member, net.incident, "Moved the files", now=now)
    first = session.get(PlayVersion, net.incident.play_version_id).steps[0]
    playbook.mark_step(session, net.reporter_member, net.incident, first, True, now=now)
    return net


def text(client, path: str) -> str:
    """The page, with the <bdi> isolation around names taken off (tests/test_hostile_input.py proves it)."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True).replace("<bdi>", "").replace("</bdi>", "")


def in_order(page: str, *names: str) -> bool:
    at = [page.find(name) for name in names]
    return -1 not in at and at == sorted(at)


def test_the_reporters_pages_show_people_and_organisations_by_name(net, client, make, session):
    sign_in(client, net.reporter)
    home = text(client, "/")
    assert REPORTER in home and "Haki Watch" in home
    people = text(client, "/organisation")
    assert in_order(people, MEMBER, REPORTER)  # alphabetical, as the SQL used to sort them
    assert "Haki Watch" in text(client, f"/organisations/{net.reporter_org.id}/edit")
    assert "Haki Watch" in text(client, f"/organisations/{net.reporter_org.id}/users/new")
    assert "Haki Watch" in text(client, f"/organisations/{net.reporter_org.id}/offers/new")
    shown = text(client, f"/incidents/{net.incident.id}")
    assert "Reported by Haki Watch" in shown
    assert f"by {MEMBER}" in shown  # who ticked the checklist step
    assert f'<td data-label="Who">{MEMBER}</td>' in shown  # the timeline's actors
    assert f'<td data-label="Who">{REPORTER}</td>' in shown
    assert f"<p>{MEMBER}<br>" in shown  # the contact person
    checkin_form = text(client, f"/incidents/{net.incident.id}/checkins")
    assert in_order(checkin_form, "Alpha Legal", "Beta Legal")  # the responders that took it, by name
    checkins.request_checkins(session, net.reporter, interval_hours=6, incident=net.incident,
                              responder_org_ids=[str(net.a.id)], now=utcnow())
    assert "Haki Watch" in text(client, "/checkins")


def test_the_api_shows_names(net, client, make):
    reporter = bearer(make.token(net.reporter))
    shown = client.get(f"/api/v1/incidents/{net.incident.id}", headers=reporter).json
    assert shown["organisation"]["name"] == "Haki Watch" and shown["contact"]["name"] == MEMBER
    assert [e["actor"] for e in shown["timeline"]][:1] == [REPORTER]
    assert MEMBER in {e["actor"] for e in shown["timeline"]}
    people = client.get(f"/api/v1/organisations/{net.reporter_org.id}/users", headers=reporter).json
    assert {p["name"] for p in people} == {REPORTER, MEMBER}
    coordinator = bearer(make.token(net.coordinator))
    listed = [o["name"] for o in client.get("/api/v1/organisations", headers=coordinator).json]
    assert listed == sorted(listed, key=str.casefold) and "Haki Watch" in listed
    recipients = client.get(f"/api/v1/incidents/{net.incident.id}/notifications", headers=coordinator).json
    assert HELPER in {n["recipient"] for n in recipients}


def test_the_coordinators_pages_show_names(net, client, make, session):
    applicant = make.org("Applicant Kappa", vetted=False)
    members.vouch(session, net.reporter, applicant, now=utcnow())
    sign_in(client, net.coordinator)
    listing = text(client, "/coordinator/organisations")
    assert "Applicant Kappa" in listing and "Vouched for by Haki Watch" in listing
    vetted = listing[listing.index('<h2 id="vetted">'):]
    assert in_order(vetted, "Alpha Legal", "Beta Legal", "Delta Media", "Haki Watch", "Omega Trust")
    assert "Haki Watch" in text(client, "/coordinator/console")
    shown = text(client, f"/incidents/{net.incident.id}")
    assert '<td data-label="Organisation">Alpha Legal</td>' in shown  # every match, by organisation
    assert '<td data-label="Organisation">Beta Legal</td>' in shown
    assert HELPER in text(client, f"/coordinator/incidents/{net.incident.id}/notifications")
    draft = playbook.draft_play(session, net.coordinator, "raid", {
        "title": "Raid, second opinion", "summary": "What to do", "help_types": ["legal"], "sources": ["Practice"],
        "steps": [{"actor": "responders", "help_type": "legal", "text": "Call the lawyer"}]}, now=utcnow())
    assert f"Written by {COORDINATOR}" in text(client, f"/playbook/{draft.id}")
    sign_in(client, net.reporter)
    assert "Vouched for by Haki Watch" in text(client, "/applicants")


def test_a_person_the_timeline_cannot_name_shows_as_a_member(net, session, make):
    """After retention the timeline keeps what was done and by which kind of actor, never who."""
    incident = net.incident
    incidents.change_status(session, net.reporter, incident, Status.resolved.value, now=utcnow())
    incidents.change_status(session, net.reporter, incident, Status.closed.value, now=utcnow())
    retention.erase(session, incident, now=utcnow() + timedelta(days=400))
    session.commit()
    actors = {e["actor"] for e in incidents._timeline(session, net.coordinator, incident)}
    assert actors <= {"a member", "system", "coordinator"} and "a member" in actors
    assert all(e.actor_id is None for e in incident.timeline)


def test_a_name_that_cannot_be_decrypted_shows_as_a_member(net, session):
    entries = net.incident.timeline
    names = incidents.timeline_actors(session, entries)
    assert names[net.reporter.id] == REPORTER
    net.reporter_org.data_key.destroy(utcnow())  # the organisation's key gone: its people unreadable
    session.flush()
    session.expire_all()
    names = incidents.timeline_actors(session, entries)
    assert net.reporter.id not in names and net.reporter_member.id not in names
    assert {incidents.actor_name(e, names) for e in entries
            if e.actor_id in (net.reporter.id, net.reporter_member.id)} == {"a member"}
    session.rollback()


def test_comparing_an_encrypted_name_in_sql_is_an_error_not_an_empty_result():
    from solidarity.members.models import User

    with pytest.raises(TypeError, match="encrypted"):
        User.name == "Baraka Njoroge"  # noqa: B015 - the comparison itself must raise
