"""Phone first: no page scrolls sideways at 360 px, in any role.

Every GET page of app.url_map whose path parameters this world can fill is opened for the reporter's
admin, a responder who accepted, and a coordinator, at 360 CSS pixels; the test fails on any page
whose document is wider than the screen (document.documentElement.scrollWidth > 360)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.escalation import checkins
from solidarity.incidents import service as incidents
from solidarity.matching.models import Match
from solidarity.playbook import service as playbook
from tests.browser.navigators import Nav
from tests.factories import totp_code

WIDTH = 360
# Not pages a person reads: machine answers, and the signed links whose tokens this world lacks.
SKIP = {"health.healthz", "health.readyz", "metrics.metrics_page", "static", "api-docs.openapi_json",
        "auth.reset", "members.confirm_email", "links.answer", "auth.second_factor"}
LONG = "Haki na Usawa Centre for the Defence of Human Rights Defenders and Independent Journalists"


@pytest.fixture
def world(session, make):
    now = utcnow()
    versions = playbook.load_initial_playbook(session, now=now)
    reporter_org = make.org(LONG, country="KE", languages=("en", "sw"))
    responder_org = make.org("Baobab Legal Aid Network of Eastern and Southern Africa", country="KE")
    offer = make.offer(responder_org, "legal", countries=["KE"])
    make.org("Kivuli Rights Desk applying for membership of the network", vetted=False)
    reporter = make.admin_of(reporter_org)
    incident = make.incident(reporter, severity=4, threat_type="detention", needs=["legal"],
                             summary="Two staff detained at the airport" + " and held overnight" * 5)
    match = session.scalars(select(Match).where(Match.incident_id == incident.id)).first()
    responder = make.admin_of(responder_org)
    incidents.answer_match(session, responder, match, True, now=now)
    checkin = checkins.request_checkins(session, reporter, interval_hours=6, incident=incident, now=now)
    return {"member": reporter, "responder": responder, "coordinator": make.coordinator(),
            "values": {"incident_id": incident.id, "org_id": reporter_org.id, "offer_id": offer.id,
                       "version_id": versions[0].id, "checkin_id": checkin.id}}


def pages(app, values: dict) -> list[str]:
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP or rule.rule.startswith(("/api/", "/webhooks/")):
            continue
        if not set(rule.arguments) <= set(values):
            continue
        found.append(app.url_map.bind("localhost").build(rule.endpoint, {k: values[k] for k in rule.arguments}))
    assert len(found) > 30  # the whole surface, not a sample
    return sorted(set(found))


@pytest.mark.browser
@pytest.mark.parametrize("role", ["member", "responder", "coordinator"])
def test_no_page_scrolls_sideways_at_360_px(app, world, live_server, browser, role):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    try:
        nav = Nav(context.new_page(), live_server)
        user = world[role]
        nav.sign_in(user.email, code=totp_code(user) if user.is_coordinator else None)
        wide = {}
        for path in pages(app, world["values"]):
            response = nav.page.goto(live_server.url(path))
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            width = nav.page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                wide[path] = width
        assert not wide, f"wider than {WIDTH} px for the {role}: {wide}"
    finally:
        context.close()
