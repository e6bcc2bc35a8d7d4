import pytest

from solidarity.playbook.models import THREAT_TYPES
from tests.factories import bearer
from tests.playbook.conftest import version_data

PLAYS = "/api/v1/playbook/plays"


@pytest.fixture
def tokens(make):
    coordinator = make.coordinator()
    return {"coordinator": make.token(coordinator), "member": make.member().token}


@pytest.fixture
def draft(client, loaded, tokens):
    r = client.post(f"{PLAYS}/{loaded['raid'].id}/drafts", headers=bearer(tokens["coordinator"]))
    assert r.status_code == 201, r.json
    return r.json


def test_members_list_published_versions(client, loaded, tokens, draft):
    r = client.get(PLAYS, headers=bearer(tokens["member"]))
    assert r.status_code == 200
    assert sorted(v["threat_type"] for v in r.json) == sorted(THREAT_TYPES)
    assert {v["status"] for v in r.json} == {"published"}
    raid = next(v for v in r.json if v["threat_type"] == "raid")
    assert raid["created_by"] == "system" and raid["steps"][0]["position"] == 1
    assert raid["steps"][0]["actor"] in ("affected", "responders", "coordinators")


def test_coordinators_also_see_drafts(client, tokens, draft):
    r = client.get(PLAYS, headers=bearer(tokens["coordinator"]), query_string={"threat_type": "raid"})
    assert [(v["number"], v["status"]) for v in r.json] == [(1, "published"), (2, "draft")]


def test_member_cannot_read_a_draft_or_ask_for_drafts(client, tokens, draft):
    assert client.get(f"{PLAYS}/{draft['id']}", headers=bearer(tokens["member"])).status_code == 404
    assert client.get(f"{PLAYS}/{draft['id']}", headers=bearer(tokens["coordinator"])).status_code == 200
    r = client.get(PLAYS, headers=bearer(tokens["member"]), query_string={"status": "draft"})
    assert r.status_code == 403 and r.json["errors"][0]["field"] == "status"


def test_requires_a_token(client, loaded):
    r = client.get(PLAYS)
    assert r.status_code == 401 and r.json["errors"][0]["field"] == "Authorization"


def test_filter_by_unknown_threat_type_names_the_field(client, tokens):
    r = client.get(PLAYS, headers=bearer(tokens["member"]), query_string={"threat_type": "flood"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "threat_type"


def test_draft_update_submit_publish(client, loaded, tokens, draft, make):
    headers = bearer(tokens["coordinator"])
    steps = [{"actor": "affected", "help_type": None, "text": "Stay calm.", "checklist": ["Warrant seen"]},
             {"actor": "coordinators", "help_type": "legal", "text": "Find a lawyer."}]
    r = client.patch(f"{PLAYS}/{draft['id']}", headers=headers,
                     json={"title": "Raid, revised", "steps": steps, "help_types": ["legal"]})
    assert r.status_code == 200, r.json
    assert [s["text"] for s in r.json["steps"]] == ["Stay calm.", "Find a lawyer."]
    assert client.post(f"{PLAYS}/{draft['id']}/submit", headers=headers).json["status"] == "in_review"
    r = client.post(f"{PLAYS}/{draft['id']}/publish", headers=headers)  # the only coordinator
    assert r.status_code == 200 and r.json["status"] == "published" and r.json["published_at"]
    old = client.get(f"{PLAYS}/{loaded['raid'].id}", headers=bearer(tokens["member"])).json
    assert old["status"] == "retired" and old["title"] == "Police raid on the office"
    r = client.patch(f"{PLAYS}/{draft['id']}", headers=headers, json={"title": "Again"})
    assert r.status_code == 409 and r.json["errors"][0]["field"] == "status"


def test_create_a_play_and_validation_errors_name_fields(client, tokens):
    headers = bearer(tokens["coordinator"])
    r = client.post(PLAYS, headers=headers, json={**version_data(), "threat_type": "expulsion"})
    assert r.status_code == 201, r.json
    assert (r.json["number"], r.json["status"], r.json["threat_type"]) == (1, "draft", "expulsion")
    bad = {**version_data(help_types=["bribery"], steps=[{"actor": "affected", "help_type": "x", "text": "t"}]),
           "threat_type": "expulsion"}
    r = client.post(PLAYS, headers=headers, json=bad)
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"help_types", "steps.0.help_type"}
    r = client.post(PLAYS, headers=headers, json={"threat_type": "raid", "title": "t"})
    assert r.status_code == 422
    assert {"summary", "help_types", "sources", "steps"} <= {e["field"] for e in r.json["errors"]}


def test_members_cannot_write(client, loaded, tokens):
    headers = bearer(tokens["member"])
    assert client.post(PLAYS, headers=headers, json={**version_data(), "threat_type": "raid"}).status_code == 403
    assert client.post(f"{PLAYS}/{loaded['raid'].id}/drafts", headers=headers).status_code == 403
    assert client.patch(f"{PLAYS}/{loaded['raid'].id}", headers=headers, json={"title": "x"}).status_code == 403


def test_openapi_documents_the_playbook(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/playbook/plays"])
    assert {"get", "patch"} <= set(paths["/api/v1/playbook/plays/{version_id}"])
    for action in ("drafts", "submit", "publish", "retire"):
        assert "post" in paths[f"/api/v1/playbook/plays/{{version_id}}/{action}"]
