"""A coordinator opens the console, sees the incident nobody answered, and reads the charts."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from solidarity.clock import utcnow
from tests.browser.navigators import CoordinatorNav
from tests.factories import totp_code
from tests.incidents.known_indicators import build


@pytest.mark.browser
def test_coordinator_sees_the_unanswered_incident_and_the_charts(session, make, live_server, new_page, now):
    build(session, make, now)  # the indicators' hand-built data set, numbers worked out in that module
    reporter = make.admin_of(make.org("Kivuli Rights Desk", country="UG"))
    fresh = make.incident(reporter, now=utcnow() - timedelta(hours=3, minutes=5), severity=4,
                          threat_type="detention", needs=["relocation"])
    user = make.coordinator()

    coordinator = CoordinatorNav(new_page(phone=True), live_server)
    coordinator.sign_in(user.email, code=totp_code(user))
    page = coordinator.open_console()
    expect(page.get_by_text(re.compile(r"with no responder yet$"))).to_be_visible()
    assert coordinator.console_flag(fresh.ref) == "No responder yet — 3 h 5 min"
    first = page.get_by_role("heading", level=3).first
    expect(first).to_contain_text(fresh.ref)  # the most severe, unanswered: at the top

    coordinator.open_indicators("2026-01-01", "2026-11-22")
    per_month = coordinator.chart_bars("Incidents per month by threat type")
    assert {key: value for key, (value, _) in per_month.items()} == {
        ("2026-09", "Raid"): "1", ("2026-10", "Media attack"): "1", ("2026-10", "Raid"): "1",
        ("2026-11", "Deregistration and bureaucratic harassment"): "1", ("2026-11", "Political upheaval"): "1"}
    first_acceptance = coordinator.chart_bars("Time to first acceptance")
    (median, median_px), (p90, p90_px) = first_acceptance[("Median", "hours")], first_acceptance[
        ("90th percentile", "hours")]
    assert (median, p90) == ("2", "4") and median_px > 0 and p90_px == pytest.approx(2 * median_px, rel=0.02)
    answers = coordinator.chart_bars("Requests to responders by answer")
    assert {label: value for (label, _), (value, _) in answers.items()} == {
        "Accepted": "3", "Declined": "1", "Expired": "2", "Awaiting answer": "2"}
    assert answers[("Accepted", "requests")][1] == pytest.approx(3 * answers[("Declined", "requests")][1], rel=0.02)
    covered = coordinator.chart_bars("Incidents by needs covered")
    assert {label: value for (label, _), (value, _) in covered.items()} == {
        "Every need": "2", "Some needs": "1", "No need": "1"}
    offers = coordinator.chart_bars("Offers by help type and region")
    assert offers[("Eastern Africa", "legal")][0] == "2" and offers[("Worldwide", "digital security")][0] == "1"
    assert coordinator.chart_table("Table: requests by answer") == {
        "Accepted": "3", "Declined": "1", "Expired": "2", "Awaiting answer": "2", "All requests": "8"}
    expect(page.get_by_text("75% of answered requests were accepted")).to_be_visible()
