import re

import pytest

from solidarity.playbook import service
from solidarity.playbook.models import PlayVersion, VersionStatus
from tests import factories
from tests.conftest import csrf_token


def sign_in(client, user):
    r = factories.sign_in(client, user)
    assert r.status_code == 302, r.get_data(as_text=True)


@pytest.fixture
def coordinator_client(app, make):
    client = app.test_client()
    sign_in(client, make.coordinator())
    return client


@pytest.fixture
def member_client(app, make):
    client = app.test_client()
    sign_in(client, make.admin_of(make.org()))
    return client


def post(client, path, data, page=None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page or path)})


def test_playbook_needs_sign_in(client, loaded):
    assert client.get("/playbook").status_code == 302


def test_member_reads_published_plays_only(member_client, session, make, loaded, now):
    draft = service.new_version(session, make.coordinator(), loaded["raid"].play, now=now)
    page = member_client.get("/playbook").get_data(as_text=True)
    assert "Police raid on the office" in page and "Frozen bank accounts and assets" in page
    assert "draft" not in page and "Write a new play" not in page
    show = member_client.get(f"/playbook/{loaded['raid'].id}").get_data(as_text=True)
    assert '<ol class="steps">' in show and "Affected organisation" in show and "For coordinators" not in show
    assert member_client.get(f"/playbook/{draft.id}").status_code == 404
    assert member_client.get("/playbook/new").status_code == 403
    assert member_client.get(f"/playbook/{draft.id}/edit").status_code == 403


def test_coordinator_drafts_edits_submits_and_publishes(coordinator_client, session, loaded):
    v1 = loaded["media_attack"]
    r = post(coordinator_client, f"/playbook/{v1.id}/draft", {}, page=f"/playbook/{v1.id}")
    assert r.status_code == 302 and r.location.endswith("/edit")
    edit_path = r.location
    form = coordinator_client.get(edit_path).get_data(as_text=True)
    assert "affected | - | Collect the attack before it changes" in form  # the steps in the text format
    r = post(coordinator_client, edit_path, {
        "title": "Smear campaign, revised", "summary": "Facts first.", "help_types": ["communications", "legal"],
        "steps": "affected | - | Save the links.\n- Screenshots\nresponders | communications | Write the answer.",
        "sources": "Solidarity Playbook, Civil Society Involvement"})
    assert r.status_code == 302, r.get_data(as_text=True)
    version_id = r.location.rsplit("/", 1)[1]
    page = coordinator_client.get(r.location).get_data(as_text=True)
    assert "Smear campaign, revised" in page and "Screenshots" in page and "Submit for review" in page
    post(coordinator_client, f"/playbook/{version_id}/submit", {}, page=f"/playbook/{version_id}")
    r = post(coordinator_client, f"/playbook/{version_id}/publish", {}, page=f"/playbook/{version_id}")
    assert r.status_code == 302
    session.expire_all()
    assert session.get(PlayVersion, v1.id).status is VersionStatus.retired
    assert service.play_for(session, "media_attack").title == "Smear campaign, revised"


def test_edit_form_errors_name_fields_and_lines(coordinator_client, loaded, session, now, make):
    draft = service.new_version(session, make.coordinator(), loaded["raid"].play, now=now)
    path = f"/playbook/{draft.id}/edit"
    r = post(coordinator_client, path, {"title": "", "summary": "s", "help_types": ["legal"], "sources": "",
                                        "steps": "affected | - | ok\npolice | legal | Arrest them\nno pipes here"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    errors = dict(re.findall(r'<p class="error" id="(\w+)-err">([^<]+)</p>', html))
    assert set(errors) == {"title", "sources", "steps"}
    assert "line 3" in errors["steps"]
    # Once the text parses, a bad code is reported against the line it is on.
    r = post(coordinator_client, path, {"title": "t", "summary": "s", "help_types": ["legal"], "sources": "x",
                                        "steps": "affected | - | ok\n\npolice | legal | Arrest them"})
    assert "line 3: actor must be affected, responders or coordinators" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(PlayVersion, draft.id).title == loaded["raid"].title  # nothing saved


def test_coordinator_writes_a_new_play(coordinator_client, session):
    r = post(coordinator_client, "/playbook/new", {
        "threat_type": "expulsion", "title": "Expelled partner staff", "summary": "When partner staff must leave.",
        "help_types": ["relocation"], "sources": "Solidarity Playbook",
        "steps": "responders | relocation | Find a temporary base."})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert "Expelled partner staff" in coordinator_client.get(r.location).get_data(as_text=True)


def test_state_changes_need_csrf(coordinator_client, session, loaded):
    r = coordinator_client.post(f"/playbook/{loaded['raid'].id}/draft", data={})
    assert r.status_code == 400
    assert len(service.history(session, loaded["raid"].play)) == 1
