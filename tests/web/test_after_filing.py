"""After filing, the incident page opens with what the reporter needs first: the reference, what
happens next, and who is coming; wide tables carry the labels their stacked rows show on a phone."""
from __future__ import annotations

import re

from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.incidents import service as incidents
from solidarity.matching.models import Match
from tests.web.pages import post, sign_in


def test_the_incident_page_opens_with_the_reference_what_happens_next_and_who_is_coming(client, session, make):
    responder_org = make.org("Baobab Legal Aid", country="KE")
    make.offer(responder_org, "legal", countries=["KE"])
    reporter = make.admin_of(make.org(country="KE"))
    sign_in(client, reporter)
    filed = post(client, "/incidents/new", {"threat_type": "raid", "severity": "3", "country": "KE",
                                            "needs": ["legal"], "contact_user_id": str(reporter.id)})
    assert filed.status_code == 302
    html = client.get(filed.location).get_data(as_text=True)
    ref = re.search(r"<h1>Incident (\w+)</h1>", html).group(1)
    summary = html.split('class="summary"', 1)[1].split("</section>", 1)[0]
    assert html.index('class="summary"') < html.index("Help asked")  # first, before everything else
    assert f"Reference <strong>{ref}</strong>" in summary
    assert "What happens next:</b> 1 member organisation that can help is being asked now." in summary
    assert "Who is coming:</b> no one has accepted yet." in summary

    match = session.scalars(select(Match)).one()
    incidents.answer_match(session, make.admin_of(responder_org), match, True, now=utcnow())
    summary = client.get(filed.location).get_data(as_text=True).split('class="summary"', 1)[1]
    assert "Who is coming:</b> <bdi>Baobab Legal Aid</bdi> (legal)" in summary


def test_responders_see_no_reporter_summary(client, make):
    responder_org = make.org(country="KE")
    make.offer(responder_org, "legal", countries=["KE"])
    incident = make.incident(make.admin_of(make.org(country="KE")))
    sign_in(client, make.admin_of(responder_org))
    assert 'class="summary"' not in client.get(f"/incidents/{incident.id}").get_data(as_text=True)


def test_wide_tables_label_every_cell_for_their_stacked_rows(client, make):
    responder_org = make.org(country="KE")
    make.offer(responder_org, "legal", countries=["KE"])
    reporter = make.admin_of(make.org(country="KE"))
    incident = make.incident(reporter)
    sign_in(client, reporter)
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    for table in re.findall(r'<table class="stack">(.*?)</table>', html, re.S):
        cells = re.findall(r"<td([^>]*)>", table)
        assert cells and all("data-label=" in c for c in cells)
    assert html.count('<table class="stack">') == 2  # responders asked, and the timeline
