"""The report form and pages: plain HTML, light, every error beside its field."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from solidarity.incidents.models import Incident
from tests import factories
from tests.conftest import csrf_token
from tests.incidents import scenario

BUDGET = 30 * 1024


def sign_in(client, user) -> str:
    assert factories.sign_in(client, user).status_code == 302
    return csrf_token(client, "/incidents/new")


def errors_by_field(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, message in re.findall(r'<p class="error" id="([a-z_]+)-err">([^<]*)</p>', page):
        found.setdefault(field, []).append(message)
    return found


def test_the_form_page_with_its_css_weighs_under_30_kb(make, client):
    net = scenario.members(make)
    sign_in(client, net.reporter)
    page = client.get("/incidents/new")
    assert page.status_code == 200
    html = page.get_data()
    stylesheets = re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html)
    css = sum(len(client.get(href.decode()).get_data()) for href in stylesheets)
    assert stylesheets and len(html) + css < BUDGET, (len(html), css)
    assert b"<script" not in html and b"style=" not in html  # no JavaScript needed; strict CSP


def test_form_defaults_to_own_country_and_self_as_contact(make, client):
    net = scenario.members(make)
    sign_in(client, net.reporter)
    page = client.get("/incidents/new").get_data(as_text=True)
    assert '<option selected value="KE">Kenya</option>' in page
    assert f'<option selected value="{net.reporter.id}">' in page
    for words in ("1 · watch", "2 · serious", "3 · urgent", "4 · life or liberty at risk"):
        assert words in page


def test_errors_are_shown_beside_each_field_and_nothing_is_filed(make, client, session):
    net = scenario.members(make)
    token = sign_in(client, net.reporter)
    response = client.post("/incidents/new", data={
        "csrf_token": token, "threat_type": "", "country": "KE", "summary": "x" * 501,
        "disclosure": ["summary", "address"], "contact_user_id": str(net.reporter.id)})
    assert response.status_code == 422
    errors = errors_by_field(response.get_data(as_text=True))
    assert set(errors) == {"threat_type", "severity", "needs", "summary", "disclosure"}
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_malformed_date_is_reported_with_the_other_errors(make, client, session):
    net = scenario.members(make)
    token = sign_in(client, net.reporter)
    response = client.post("/incidents/new", data={
        "csrf_token": token, "threat_type": "raid", "severity": "9", "country": "KE", "needs": ["legal"],
        "occurred_at": "yesterday", "contact_user_id": str(net.reporter.id)})
    assert response.status_code == 422
    assert set(errors_by_field(response.get_data(as_text=True))) == {"occurred_at", "severity"}
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_filing_from_the_form(make, client, session):
    net = scenario.members(make)
    token = sign_in(client, net.reporter)
    response = client.post("/incidents/new", data={
        "csrf_token": token, "threat_type": "raid", "severity": "4", "country": "KE",
        "needs": ["legal", "communications"], "summary": scenario.SECRET_SUMMARY, "details": "",
        "occurred_at": "2026-11-22T09:30", "disclosure": ["summary"], "contact_user_id": str(net.reporter_member.id)})
    assert response.status_code == 302
    incident = session.scalar(select(Incident))
    assert response.location.endswith(f"/incidents/{incident.id}")
    assert (incident.channel, incident.severity, incident.disclosure) == ("web", 4, ["summary"])
    assert incident.occurred_at.isoformat() == "2026-11-22T09:30:00+00:00"
    assert incident.contact_user_id == net.reporter_member.id and incident.details is None
    page = client.get(response.location).get_data(as_text=True)
    assert incident.ref in page and scenario.SECRET_SUMMARY in page and "Alpha Legal" in page


def test_a_form_without_csrf_token_is_refused(make, client, session):
    net = scenario.members(make)
    sign_in(client, net.reporter)
    response = client.post("/incidents/new", data={"threat_type": "raid", "severity": "4", "country": "KE",
                                                   "needs": ["legal"]})
    assert response.status_code in (400, 422)
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_signed_out_people_are_sent_to_sign_in(client, app):
    response = client.get("/incidents/new")
    assert response.status_code == 302 and "/login" in response.location
