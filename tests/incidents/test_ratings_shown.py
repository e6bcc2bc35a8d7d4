"""Reporters' ratings reach matching and coordinators only (incidents/access.py sees_ratings).

B took a case and its reporter rated it 2 of 5; on the next incident B is asked again, with the
rating among its match's reasons. B (the organisation rated) and the next incident's reporter see
neither that reason nor the score it counts in, on the page, in the API's matches, in the answer's
response or in the timeline; the coordinators see both.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from solidarity.incidents import reviews, service
from tests import factories
from tests.factories import bearer
from tests.incidents import scenario

RATED = "rated 2.0 of 5 by reporters (1 review)"


@pytest.fixture
def world(make, session, now):
    net = scenario.build(make, now=now)
    service.answer_match(session, make.admin_of(net.b), net.match_of(session, net.b), True, now=now)
    service.change_status(session, net.reporter, net.incident, "resolved", now=now + timedelta(days=1))
    reviews.leave_review(session, net.reporter, net.incident, net.b.id, 2, now=now + timedelta(days=2))
    reporter = make.admin_of(net.other)
    incident = make.incident(reporter, now=now + timedelta(days=3), needs=["legal"])
    match = next(m for m in service.visible_matches(session, net.coordinator, incident)
                 if m.organisation_id == net.b.id)
    assert RATED in match.reasons and match.score is not None  # the coordinators' view
    return net, incident, match, reporter


def api_get(app, make, user, path):
    response = app.test_client().get(path, headers=bearer(make.token(user)))
    assert response.status_code == 200, response.json
    return response.json


def test_the_rated_organisation_learns_nothing_of_its_rating(app, make, world):
    net, incident, match, _ = world
    rated = make.admin_of(net.b)
    [shown] = api_get(app, make, rated, f"/api/v1/incidents/{incident.id}/matches")
    assert shown["reasons"] and not any("by reporters" in r for r in shown["reasons"]) and shown["score"] is None
    client = app.test_client()
    factories.sign_in(client, rated)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "by reporters" not in page and "Score" not in page and f"{match.score:.2f}" not in page
    answered = app.test_client().post(f"/api/v1/matches/{match.id}/accept", headers=bearer(make.token(rated)))
    assert answered.status_code == 200 and answered.json["score"] is None
    assert not any("by reporters" in r for r in answered.json["reasons"])


def test_the_next_reporter_does_not_see_it_either(app, make, world):
    net, incident, match, reporter = world
    shown = api_get(app, make, reporter, f"/api/v1/incidents/{incident.id}/matches")
    assert {m["organisation_id"] for m in shown} >= {str(net.b.id)}
    assert all(m["score"] is None and not any("by reporters" in r for r in m["reasons"]) for m in shown)
    timeline = api_get(app, make, reporter, f"/api/v1/incidents/{incident.id}")["timeline"]
    candidates = [c for e in timeline if e["kind"] == "matched" for c in e["data"]["candidates"]]
    assert candidates and all("score" not in c for c in candidates)
    assert not any("by reporters" in r for c in candidates for r in c["reasons"])
    client = app.test_client()
    factories.sign_in(client, reporter)
    assert "by reporters" not in client.get(f"/incidents/{incident.id}").get_data(as_text=True)


def test_coordinators_see_the_rating_and_the_score(app, make, world):
    net, incident, match, _ = world
    shown = api_get(app, make, net.coordinator, f"/api/v1/incidents/{incident.id}/matches")
    [b] = [m for m in shown if m["organisation_id"] == str(net.b.id)]
    assert RATED in b["reasons"] and b["score"] == match.score
    timeline = api_get(app, make, net.coordinator, f"/api/v1/incidents/{incident.id}")["timeline"]
    candidates = [c for e in timeline if e["kind"] == "matched" for c in e["data"]["candidates"]]
    assert any(RATED in c["reasons"] and c["score"] == match.score for c in candidates)
    client = app.test_client()
    factories.sign_in(client, net.coordinator)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    # The page says the score as its reasons, not as a number (the API keeps the number).
    assert RATED in page and f"{match.score:.2f}" not in page and "Score" not in page
