"""The incident workspace page and its small forms, for every role: who sees and may do what.

The network of test_access_matrix (A asked for legal help, B accepted it, D asked for
communications), with the first playbook loaded before the incident is filed, so the incident
follows the raid play: step 1 is the affected organisation's, step 3 the responders'.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity.incidents import service
from solidarity.incidents.models import Status
from solidarity.matching.models import Review
from solidarity.playbook import service as playbook
from solidarity.playbook.models import ChecklistProgress, PlayVersion
from tests.incidents.test_access_matrix import ROLES, World

STEP_ROLES = {"reporter", "accepted", "coordinator"}  # see the play's checklist
MANAGERS = {"reporter", "coordinator"}


@pytest.fixture
def world(make, session, client, now):
    playbook.load_initial_playbook(session, now=now)
    return World(make, session, client, now)


def page(world, role) -> str:
    world.sign_in(role)
    response = world.client.get(f"/incidents/{world.net.incident.id}")
    assert response.status_code == (302 if role == "anonymous" else 404 if role == "other_org" else 200)
    return response.get_data(as_text=True)


def step(world, position):
    version = world.session.get(PlayVersion, world.net.incident.play_version_id)
    return version.steps[position - 1]


def ticked(world) -> int:
    return world.session.scalar(select(func.count()).where(ChecklistProgress.done_at.is_not(None)))


def expected_for(role, allowed: set[str], *, refused: int = 403) -> int:
    if role == "anonymous":
        return 302  # to the sign-in page
    if role == "other_org":
        return 404  # its existence does not leak
    return 302 if role in allowed else refused


# -- What the page shows ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("anonymous", "other_org")])
def test_each_role_sees_its_part_of_the_workspace(world, role):
    html = page(world, role)
    assert ("What to do:" in html) is (role in STEP_ROLES)
    assert ("Mark step 1 done" in html) is (role in MANAGERS)  # the affected organisation's step
    assert ("Mark step 3 done" in html) is (role in STEP_ROLES)  # the responders' step
    assert ("Post update</button>" in html) is (role in MANAGERS)
    assert ("Ask for this help</button>" in html) is (role in MANAGERS)
    assert ("No longer needed</button>" in html) is (role in MANAGERS)
    assert ("Safety check-ins" in html) is (role in MANAGERS)
    assert ("Notifications sent" in html) is (role == "coordinator")
    assert "After-action review" not in html  # nothing to review while the incident is open


def test_the_play_shown_is_the_version_the_incident_was_given(world, make, now):
    coordinator = world.net.coordinator
    version = world.session.get(PlayVersion, world.net.incident.play_version_id)
    draft = playbook.new_version(world.session, coordinator, version.play, now=now)
    playbook.update_draft(world.session, coordinator, draft, {"title": "Raid, revised"}, now=now)
    playbook.submit_for_review(world.session, coordinator, draft, now=now)
    playbook.publish(world.session, coordinator, draft, now=now)
    html = page(world, "reporter")
    assert f"What to do: {version.title}" in html and "Raid, revised" not in html
    assert "version 1</a>" in html


# -- Ticking steps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("position", [1, 3])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_tick_which_step(world, role, position):
    token = world.sign_in(role)
    target = step(world, position)
    response = world.client.post(f"/incidents/{world.net.incident.id}/steps/{target.id}",
                                 data={"done": "1", "csrf_token": token})
    allowed = MANAGERS | ({"accepted"} if position == 3 else set())
    assert response.status_code == expected_for(role, allowed)
    assert ticked(world) == (1 if role in allowed else 0)


def test_ticking_and_unticking_is_recorded_per_step(world):
    token = world.sign_in("reporter")
    url = f"/incidents/{world.net.incident.id}/steps/{step(world, 1).id}"
    assert world.client.post(url, data={"done": "1", "csrf_token": token}).status_code == 302
    html = world.client.get(f"/incidents/{world.net.incident.id}").get_data(as_text=True)
    assert "1 of 6 steps done" in html and "Not done after all" in html
    assert world.client.post(url, data={"done": "0", "csrf_token": token}).status_code == 302
    [row] = world.session.scalars(select(ChecklistProgress)).all()
    assert row.done_at is None and row.changed_by_id == world.users["reporter"].id


@pytest.mark.parametrize(("data", "status", "field"), [
    ({"done": "maybe"}, 422, "done"),
    ({}, 422, "done"),
])
def test_bad_ticks_name_the_field(world, data, status, field):
    token = world.sign_in("reporter")
    response = world.client.post(f"/incidents/{world.net.incident.id}/steps/{step(world, 1).id}",
                                 data={**data, "csrf_token": token})
    assert response.status_code == status
    assert f"<b>{field}</b>" in response.get_data(as_text=True)
    assert world.session.scalar(select(func.count()).select_from(ChecklistProgress)) == 0


def test_a_step_of_another_play_or_no_step_is_refused(world, session):
    token = world.sign_in("reporter")
    other = next(v for v in playbook.list_versions(session, world.net.coordinator)
                 if v.id != world.net.incident.play_version_id)
    response = world.client.post(f"/incidents/{world.net.incident.id}/steps/{other.steps[0].id}",
                                 data={"done": "1", "csrf_token": token})
    assert response.status_code == 422 and "<b>step_id</b>" in response.get_data(as_text=True)
    response = world.client.post(f"/incidents/{world.net.incident.id}/steps/not-a-step",
                                 data={"done": "1", "csrf_token": token})
    assert response.status_code == 404
    assert ticked(world) == 0


def test_forms_without_their_csrf_token_are_refused(world):
    world.sign_in("reporter")
    incident = world.net.incident
    for url, data in ((f"/incidents/{incident.id}/steps/{step(world, 1).id}", {"done": "1"}),
                      (f"/incidents/{incident.id}/updates", {"note": "x"}),
                      (f"/incidents/{incident.id}/needs", {"help_type": "relocation"}),
                      (f"/incidents/{incident.id}/reviews", {"rating": "3"})):
        assert world.client.post(url, data=data).status_code == 400
    assert ticked(world) == 0 and not [e for e in incident.timeline if e.kind == "note"]


# -- Updates and needs -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_who_may_post_an_update(world, role):
    token = world.sign_in(role)
    response = world.client.post(f"/incidents/{world.net.incident.id}/updates",
                                 data={"note": "Lawyer reached the station", "csrf_token": token})
    assert response.status_code == expected_for(role, MANAGERS)
    notes = [e.note for e in world.net.incident.timeline if e.kind == "note"]
    assert notes == (["Lawyer reached the station"] if role in MANAGERS else [])


def test_an_empty_update_comes_back_on_the_incident_page_with_the_error_beside_it(world):
    token = world.sign_in("reporter")
    response = world.client.post(f"/incidents/{world.net.incident.id}/updates", data={"note": " ", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f"<h1>Incident {world.net.incident.ref}</h1>" in html
    assert '<p class="error" id="update-note-err">is empty: write the update first</p>' in html
    assert 'href="#update-note"' in html and "<title>Error: Incident" in html


def test_a_too_long_update_keeps_the_text(world):
    token = world.sign_in("reporter")
    text = "Lawyer at the station. " * 100
    response = world.client.post(f"/incidents/{world.net.incident.id}/updates",
                                 data={"note": text, "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "use at most 2000 characters" in html
    assert text.strip() in html  # nothing typed is lost
    assert not [e for e in world.net.incident.timeline if e.kind == "note"]


@pytest.mark.parametrize("role", ROLES)
def test_who_may_add_and_remove_needs(world, role):
    token = world.sign_in(role)
    incident = world.net.incident
    added = world.client.post(f"/incidents/{incident.id}/needs", data={"help_type": "relocation", "csrf_token": token})
    removed = world.client.post(f"/incidents/{incident.id}/needs/remove",
                                data={"help_type": "communications", "csrf_token": token})
    assert added.status_code == removed.status_code == expected_for(role, MANAGERS)
    world.session.expire_all()
    needs = {n.help_type for n in incident.needs}
    assert needs == ({"legal", "relocation"} if role in MANAGERS else {"legal", "communications"})


@pytest.mark.parametrize(("url", "help_type", "status"), [
    ("needs", "plumbing", 422), ("needs", "legal", 409), ("needs/remove", "relocation", 422),
    ("needs/remove", "legal", 409),  # B took it
])
def test_bad_need_changes_name_the_field(world, url, help_type, status):
    token = world.sign_in("reporter")
    response = world.client.post(f"/incidents/{world.net.incident.id}/{url}",
                                 data={"help_type": help_type, "csrf_token": token})
    assert response.status_code == status and "<b>help_type</b>" in response.get_data(as_text=True)


# -- After-action reviews ------------------------------------------------------------------------------

@pytest.fixture
def resolved(world, now):
    service.change_status(world.session, world.net.reporter, world.net.incident, "resolved", now=now)
    return world


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("anonymous", "other_org")])
def test_review_forms_appear_for_the_reporter_and_the_responder_that_took_the_case(resolved, role):
    html = page(resolved, role)
    forms = html.count("Save review</button>")
    assert forms == {"reporter": 1, "accepted": 1}.get(role, 0)  # B is the only organisation that accepted
    if role == "reporter":
        assert f"How did <bdi>{resolved.net.b.name}</bdi> help?" in html
    if role == "accepted":
        assert f"How did the case go with <bdi>{resolved.net.reporter_org.name}</bdi>?" in html


@pytest.mark.parametrize("role", ROLES)
def test_who_may_leave_a_review(resolved, role):
    token = resolved.sign_in(role)
    net = resolved.net
    subject = net.reporter_org.id if role in ("accepted", "asked", "other_responder", "coordinator") else net.b.id
    response = resolved.client.post(f"/incidents/{net.incident.id}/reviews", data={
        "subject_organisation_id": str(subject), "rating": "4", "note": "Fast and careful", "csrf_token": token})
    allowed = {"reporter", "accepted"}
    assert response.status_code == expected_for(role, allowed)
    written = resolved.session.scalars(select(Review)).all()
    assert len(written) == (1 if role in allowed else 0)
    if role in allowed:
        html = resolved.client.get(f"/incidents/{net.incident.id}").get_data(as_text=True)
        assert "Fast and careful" in html and "Save review</button>" not in html  # written once, then shown


def test_a_bad_rating_names_the_field_and_writes_nothing(resolved):
    token = resolved.sign_in("reporter")
    response = resolved.client.post(f"/incidents/{resolved.net.incident.id}/reviews", data={
        "subject_organisation_id": str(resolved.net.b.id), "rating": "9", "csrf_token": token})
    assert response.status_code == 422 and "<b>rating</b>" in response.get_data(as_text=True)
    assert resolved.session.scalar(select(func.count()).select_from(Review)) == 0


def test_no_review_before_the_incident_is_resolved(world):
    token = world.sign_in("reporter")
    response = world.client.post(f"/incidents/{world.net.incident.id}/reviews", data={
        "subject_organisation_id": str(world.net.b.id), "rating": "4", "csrf_token": token})
    assert response.status_code == 409 and "<b>status</b>" in response.get_data(as_text=True)
    assert world.net.incident.status is Status.responding
