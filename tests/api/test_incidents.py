"""/api/v1/incidents and /api/v1/matches: input checking, status changes and the OpenAPI document.
Who may call what is in tests/incidents/test_access_matrix.py."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity.audit import AuditEvent
from solidarity.incidents.models import Incident, Need, TimelineEntry
from solidarity.matching.models import Match
from solidarity.notify.models import Notification
from tests.factories import bearer
from tests.incidents import scenario


def written(session) -> tuple:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Incident, Need, Match, TimelineEntry, Notification)) + (
        session.scalar(select(func.count()).where(AuditEvent.action.like("incident.%"))),)


@pytest.fixture
def net(make):
    return scenario.members(make)


def test_report_an_incident(client, make, session, net):
    response = client.post("/api/v1/incidents", headers=bearer(make.token(net.reporter)), json={
        "threat_type": "raid", "severity": 4, "country": "ke", "needs": ["legal", "communications"],
        "summary": scenario.SECRET_SUMMARY, "disclosure": ["summary"], "occurred_at": "2026-11-22T08:00:00+03:00"})
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["viewer"], body["channel"], body["country"], body["status"]) == ("reporter", "api", "KE", "open")
    assert body["summary"] == scenario.SECRET_SUMMARY and body["occurred_at"].startswith("2026-11-22T05:00")
    assert body["contact"]["name"] == net.reporter.name
    assert {n["help_type"]: n["state"] for n in body["needs"]} == {"legal": "seeking", "communications": "seeking"}
    assert [e["kind"] for e in body["timeline"]][0] == "filed"
    matches = client.get(f"/api/v1/incidents/{body['id']}/matches", headers=bearer(make.token(net.reporter)))
    assert {m["organisation_name"] for m in matches.json} == {"Alpha Legal", "Beta Legal", "Delta Media"}


def test_invalid_meaning_names_every_field_and_writes_nothing(client, make, session, net):
    before = written(session)
    response = client.post("/api/v1/incidents", headers=bearer(make.token(net.reporter)), json={
        "threat_type": "burglary", "severity": 0, "country": "Kenya", "needs": ["legal", "cooking"],
        "details": "x" * 20_001, "disclosure": ["address"], "contact_user_id": str(make.admin_of(net.a).id)})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {
        "threat_type", "severity", "country", "needs", "details", "disclosure", "contact_user_id"}
    assert written(session) == before


def test_invalid_types_name_every_field_and_write_nothing(client, make, session, net):
    before = written(session)
    response = client.post("/api/v1/incidents", headers=bearer(make.token(net.reporter)), json={
        "threat_type": "raid", "severity": "high", "needs": "legal", "occurred_at": "2026-11-22T08:00:00",
        "contact_user_id": "nobody", "channel": "sms"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {
        "severity", "country", "needs", "occurred_at", "contact_user_id", "channel"}
    assert written(session) == before


def test_members_of_unvetted_organisations_cannot_report(client, make, session):
    applicant = make.org(vetted=False)
    before = written(session)
    response = client.post("/api/v1/incidents", headers=bearer(make.token(make.admin_of(applicant))),
                           json={"threat_type": "raid", "severity": 4, "country": "KE", "needs": ["legal"]})
    assert response.status_code == 403
    assert written(session) == before


def test_status_changes(client, make, session, now, net):
    scenario.file(make, net, now=now)
    url, headers = f"/api/v1/incidents/{net.incident.id}", bearer(make.token(net.reporter))
    refused = client.patch(url, headers=headers, json={"status": "closed"})
    assert refused.status_code == 409 and refused.json["errors"][0]["field"] == "status"
    assert client.patch(url, headers=headers, json={"status": "done"}).json["errors"][0]["field"] == "status"
    assert client.patch(url, headers=headers, json={}).status_code == 422
    assert client.patch(url, headers=headers, json={"note": "x" * 2001}).json["errors"][0]["field"] == "note"

    response = client.patch(url, headers=headers, json={"status": "resolved", "note": "Staff released"})
    assert response.status_code == 200
    assert response.json["status"] == "resolved" and response.json["resolved_at"]
    assert response.json["timeline"][-1]["note"] == "Staff released"
    listed = client.get("/api/v1/incidents?status=resolved", headers=headers)
    assert [row["id"] for row in listed.json] == [str(net.incident.id)]
    assert client.get("/api/v1/incidents?status=open", headers=headers).json == []
    assert client.get("/api/v1/incidents?status=lost", headers=headers).status_code == 422


def test_answering_twice_is_a_conflict(client, make, session, now, net):
    scenario.file(make, net, now=now)
    match = net.match_of(session, net.a)
    headers = bearer(make.token(make.admin_of(net.a)))
    assert client.post(f"/api/v1/matches/{match.id}/accept", headers=headers).status_code == 200
    again = client.post(f"/api/v1/matches/{match.id}/decline", headers=headers)
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "status"


def test_unknown_ids_are_404(client, make, net):
    headers = bearer(make.token(net.reporter))
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/api/v1/incidents/{missing}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/matches/{missing}/accept", headers=headers).status_code == 404


def test_openapi_documents_every_route_and_its_responses(client, app):
    spec = client.get("/api/v1/openapi.json").json
    expected = {
        ("/api/v1/incidents", "get"): {"200", "401", "422"},
        ("/api/v1/incidents", "post"): {"201", "401", "403", "422"},
        ("/api/v1/incidents/{incident_id}", "get"): {"200", "401", "404"},
        ("/api/v1/incidents/{incident_id}", "patch"): {"200", "401", "403", "404", "409", "422"},
        ("/api/v1/incidents/{incident_id}/matches", "get"): {"200", "401", "404"},
        ("/api/v1/matches/{match_id}/accept", "post"): {"200", "401", "403", "404", "409"},
        ("/api/v1/matches/{match_id}/decline", "post"): {"200", "401", "403", "404", "409"},
    }
    for (path, method), codes in expected.items():
        operation = spec["paths"][path][method]
        assert codes <= set(operation["responses"]), (path, method, operation["responses"].keys())
        assert operation.get("summary") or operation.get("description")
    assert "IncidentIn" in spec["components"]["schemas"] and "MatchOut" in spec["components"]["schemas"]
