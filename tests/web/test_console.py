"""The coordinators' console and indicators pages: who may open them, and what they show."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.incidents.service import answer_match, change_status
from solidarity.matching.models import Match
from solidarity.playbook import service as playbook
from tests.incidents.known_indicators import build
from tests.web.pages import BUDGET, sign_in, weight

CONSOLE, INDICATORS = "/coordinator/console", "/coordinator/indicators"
KNOWN_WINDOW = "?since=2026-01-01&until=2026-11-22"


@pytest.fixture
def people(session, make):
    org = make.org()
    disabled = make.coordinator()
    return {"member": make.user(org), "org admin": make.admin_of(org), "coordinator": disabled,
            "applicant admin": make.admin_of(make.org(vetted=False))}


@pytest.mark.parametrize("path", [CONSOLE, INDICATORS])
@pytest.mark.parametrize("role, status", [("anonymous", 302), ("member", 403), ("org admin", 403),
                                          ("applicant admin", 403), ("coordinator", 200)])
def test_only_coordinators_open_the_console_and_indicators(app, people, path, role, status):
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, people[role])
    response = client.get(path)
    assert response.status_code == status
    if role == "anonymous":
        assert response.location.startswith("/login")


@pytest.mark.parametrize("path", [CONSOLE, INDICATORS])
def test_a_disabled_coordinator_is_signed_out(app, session, people, path):
    client = app.test_client()
    coordinator = people["coordinator"]
    sign_in(client, coordinator)
    coordinator.active = False
    session.commit()
    response = client.get(path)
    assert response.status_code == 302 and response.location.startswith("/login")


def test_the_navigation_shows_the_console_to_coordinators_only(app, people):
    for role, shown in (("coordinator", True), ("org admin", False), ("member", False)):
        client = app.test_client()
        sign_in(client, people[role])
        assert ('href="/coordinator/console"' in client.get("/account").get_data(as_text=True)) is shown, role


def _refs(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/incidents/[^"]+">([A-Z0-9]+)</a>', html)


def test_open_incidents_by_severity_unanswered_first_then_longest_waiting(client, session, make):
    reporter = make.admin_of(make.org("Haki Watch", country="KE"))
    responder = make.org("Alpha Legal", country="KE")
    make.offer(responder, "legal", capacity=5)
    now = utcnow()
    answered = make.incident(reporter, now=now - timedelta(hours=5), severity=4)
    answer_match(session, make.admin_of(responder),
                 session.scalar(select(Match).where(Match.incident_id == answered.id)), True,
                 now=now - timedelta(hours=4))
    waiting_long = make.incident(reporter, now=now - timedelta(hours=3, minutes=10), severity=2)
    waiting_short = make.incident(reporter, now=now - timedelta(minutes=20), severity=2)
    unanswered_severe = make.incident(reporter, now=now - timedelta(minutes=5), severity=4)
    closed = make.incident(reporter, now=now - timedelta(days=2), severity=4)
    change_status(session, reporter, closed, "withdrawn", now=now)

    sign_in(client, make.coordinator())
    html = client.get(CONSOLE).get_data(as_text=True)
    assert _refs(html) == [unanswered_severe.ref, answered.ref, waiting_long.ref, waiting_short.ref]
    assert "4 open incidents · <strong class=\"alert\">3 with no responder yet</strong>" in html
    item = html.split(f">{waiting_long.ref}</a>")[1].split("</li>")[0]
    assert "No responder yet — 3 h 10 min" in item
    assert "Responder found" in html.split(f">{answered.ref}</a>")[1].split("</li>")[0]
    assert html.count('<li class="unanswered">') == 3
    assert "<script" not in html and weight(client, html.encode()) < BUDGET


def test_the_network_by_vetting_status_offers_and_gaps(client, session, make, now):
    playbook.load_initial_playbook(session, now=now)
    make.offer(make.org("Alpha Legal", country="KE"), "legal")
    make.offer(make.org("Delta Media", country="FR"), "communications", countries=[], worldwide=True)
    make.org("Kivuli Applicant", country="JP", vetted=False)  # not vetted: Eastern Asia does not matter
    sign_in(client, make.coordinator())
    html = client.get(CONSOLE).get_data(as_text=True)
    statuses = dict(re.findall(r'#(applied|vetted|suspended)">[A-Za-z]+</a></th><td>(\d+)</td>', html))
    assert statuses == {"applied": "1", "vetted": "2", "suspended": "0"}
    assert "<th scope=\"row\">Worldwide</th><td>communications 1</td>" in html
    assert "<th scope=\"row\">Eastern Africa</th><td>legal 1</td>" in html
    gaps = re.findall(r'<tr><th scope="row">([^<]+)</th><td><span class="badge bad">([^<]+)</span>',
                      html.split('id="gaps"')[1])
    # Eastern Africa has legal help, Western Europe none; communications reaches both from the world.
    assert ("Eastern Africa", "legal") not in gaps and ("Western Europe", "legal") in gaps
    assert not [g for g in gaps if g[1] == "communications"] and not [g for g in gaps if g[0] == "Eastern Asia"]
    assert ("Eastern Africa", "relocation") in gaps


def test_the_indicators_page_draws_each_chart_with_its_table(client, session, make, now):
    build(session, make, now)
    sign_in(client, make.coordinator())
    response = client.get(INDICATORS + KNOWN_WINDOW)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script" not in html
    assert weight(client, html.encode()) < BUDGET
    for chart in ("per-month", "first-acceptance", "acceptance", "needs-covered", "offers"):
        svg = re.search(rf'<svg [^>]*id="chart-{chart}".*?</svg>', html, re.S).group(0)
        assert f'aria-labelledby="chart-{chart}-title chart-{chart}-desc"' in svg and "<desc " in svg
    assert html.count("<details><summary>Table:") == 5 and html.count("<caption>") == 5

    def bar(label: str, series: str) -> str | None:
        group = re.search(rf'<g class="bar" data-label="{re.escape(label)}"[^>]*>(.*?)</g>', html, re.S).group(1)
        found = re.search(rf'data-series="{re.escape(series)}" data-value="([^"]+)"', group)
        return found and found.group(1)

    assert bar("2026-10", "Raid") == "1" and bar("2026-10", "Media attack") == "1"
    assert bar("2026-11", "Political upheaval") == "1" and bar("2026-08", "Raid") is None
    assert len(re.findall(r'<g class="bar" data-label="2026-\d\d"', html)) == 11  # every month, even empty
    assert bar("Median", "hours") == "2" and bar("90th percentile", "hours") == "4"
    assert bar("Accepted", "requests") == "3" and bar("Declined", "requests") == "1"
    assert bar("Expired", "requests") == "2" and bar("Awaiting answer", "requests") == "2"
    assert bar("Every need", "incidents") == "2" and bar("No need", "incidents") == "1"
    assert bar("Eastern Africa", "legal") == "2" and bar("Worldwide", "digital security") == "1"
    assert "75% (3 accepted of 4 answered; 8 requests sent)" in html
    assert "median 2 h, 90th percentile 4 h (3 of 5 incidents had an acceptance)" in html
    assert "50% (2 of 4 incidents)" in html


def test_the_indicators_page_of_an_empty_network_says_so(client, make):
    sign_in(client, make.coordinator())
    html = client.get(INDICATORS).get_data(as_text=True)
    assert "No incidents in this period." in html and "Nothing to draw for this period." in html
    assert "median –, 90th percentile –" in html


@pytest.mark.parametrize("query, field", [("?since=garbage", "since"), ("?until=2026-13-01", "until"),
                                          ("?since=2026-05-01&until=2026-04-01", "since")])
def test_a_bad_window_comes_back_as_typed_with_the_problem_beside_its_field(client, make, query, field):
    sign_in(client, make.coordinator())
    response = client.get(INDICATORS + query)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'<p class="error" id="{field}-err">' in html
    assert f'aria-describedby="{field}-err"' in html and "<title>Error: Indicators" in html
    for typed in query.lstrip("?").split("&"):
        assert f'value="{typed.split("=")[1]}"' in html  # what was typed is kept
    assert 'action="/coordinator/indicators"' in html


def test_from_after_to_says_so_in_the_pages_words(client, make):
    sign_in(client, make.coordinator())
    html = client.get(INDICATORS + "?since=2026-05-01&until=2026-04-01").get_data(as_text=True)
    assert "From must be on or before To." in html and "until</" not in html
