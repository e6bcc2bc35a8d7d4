"""GET /api/v1/indicators: coordinators only, exact numbers on the known data set, bad windows named."""
from __future__ import annotations

import pytest

from tests.factories import bearer
from tests.incidents.known_indicators import build

PATH = "/api/v1/indicators"


def test_the_indicators_of_the_known_data_set(client, session, make, now):
    build(session, make, now)
    token = make.token(make.coordinator())
    response = client.get(PATH + "?since=2026-01-01&until=2026-11-22", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["since"] == "2026-01-01" and body["until"] == "2026-11-22"
    assert body["incidents_per_month"] == [
        {"month": "2026-09", "threat_type": "raid", "incidents": 1},
        {"month": "2026-10", "threat_type": "media_attack", "incidents": 1},
        {"month": "2026-10", "threat_type": "raid", "incidents": 1},
        {"month": "2026-11", "threat_type": "deregistration", "incidents": 1},
        {"month": "2026-11", "threat_type": "political_upheaval", "incidents": 1}]
    assert body["first_acceptance"] == {"incidents": 5, "accepted": 3, "median_seconds": 7200.0,
                                        "p90_seconds": 14400.0}
    assert body["acceptance"] == {"asked": 8, "accepted": 3, "declined": 1, "expired": 2, "waiting": 2,
                                  "answered": 4, "rate": 0.75, "response_rate": 0.5}
    assert body["needs_covered"] == {"incidents": 4, "every": 2, "some": 1, "none": 1, "share": 0.5}
    assert sorted(body["offers"], key=lambda o: (o["region"], o["help_type"])) == [
        {"help_type": "communications", "region": "014", "offers": 1},
        {"help_type": "legal", "region": "014", "offers": 2},
        {"help_type": "legal", "region": "155", "offers": 1},
        {"help_type": "digital_security", "region": "world", "offers": 1}]


def test_empty_indicators_are_zeros_and_nulls(client, make, now):
    body = client.get(PATH, headers=bearer(make.token(make.coordinator()))).get_json()
    assert body["incidents_per_month"] == [] and body["offers"] == []
    assert body["first_acceptance"] == {"incidents": 0, "accepted": 0, "median_seconds": None, "p90_seconds": None}
    assert body["acceptance"]["rate"] is None and body["needs_covered"]["share"] is None


def test_only_coordinators_read_the_indicators(client, make):
    member = make.member()
    assert client.get(PATH).status_code == 401
    assert client.get(PATH, headers=bearer(member.token)).status_code == 403
    assert client.get(PATH, headers=bearer(make.token(make.user(member.org)))).status_code == 403
    coordinator = make.coordinator()
    token = make.token(coordinator)
    coordinator.active = False
    make.session.commit()
    assert client.get(PATH, headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("query, field", [("?since=garbage", "since"), ("?until=2026-02-30", "until"),
                                          ("?since=2026-05-01&until=2026-04-01", "since"),
                                          ("?since=2015-01-01&until=2026-01-01", "since")])
def test_a_bad_window_is_a_422_naming_the_field(client, make, query, field):
    response = client.get(PATH + query, headers=bearer(make.token(make.coordinator())))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_the_openapi_document_describes_the_indicators(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    get = spec["paths"]["/api/v1/indicators"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"since", "until"}
    schema = spec["components"]["schemas"]["IndicatorsOut"]
    assert set(schema["properties"]) == {"since", "until", "incidents_per_month", "first_acceptance", "acceptance",
                                         "needs_covered", "offers"}
    assert "422" in get["responses"]
