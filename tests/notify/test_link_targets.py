"""Every notification link goes to the page of the thing it is about, and its recipient may open it."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.incidents import messages as thread
from solidarity.incidents import service
from solidarity.notify import dispatcher, messages
from solidarity.notify.models import Channel, Notification
from tests.factories import sign_in
from tests.incidents import scenario


def _links(app, row: Notification) -> list[str]:
    job = dispatcher._job(row, now=utcnow(), config=app.config)
    return [urlsplit(url).path for url in re.findall(r"https?://\S+", job.message.body)]


def test_email_links_lead_to_the_incident_and_its_recipient_may_open_it(app, make, session):
    net = scenario.build(make, now=utcnow())
    service.answer_match(session, net.a.users[0], net.match_of(session, net.a), True, now=utcnow())
    thread.post(session, net.reporter, net.incident, "Thank you for coming", now=utcnow())
    service.change_status(session, net.reporter, net.incident, "resolved", now=utcnow())
    rows = list(session.scalars(select(Notification).where(Notification.channel == Channel.email,
                                                           Notification.template != "match_request")))
    assert {r.template for r in rows} >= {"match_accepted", "incident_status", "thread_message"}
    for row in rows:
        assert _links(app, row) == [f"/incidents/{net.incident.id}"], row.template
        client = app.test_client()
        sign_in(client, row.user)
        assert client.get(f"/incidents/{net.incident.id}").status_code == 200, (row.template, row.user)


def test_the_reporters_accepted_email_says_open_case_not_sign_in(app, make, session):
    net = scenario.build(make, now=utcnow())
    service.answer_match(session, net.a.users[0], net.match_of(session, net.a), True, now=utcnow())
    row = session.scalar(select(Notification).where(Notification.template == "match_accepted",
                                                    Notification.channel == Channel.email).limit(1))
    body = dispatcher._job(row, now=utcnow(), config=app.config).message.body
    assert f"Open case {net.incident.ref}:\n" in body and f"/incidents/{net.incident.id}" in body


def test_messages_about_no_incident_lead_to_the_page_that_acts_on_them(app):
    served = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    for template, path in messages.PAGES.items():
        assert path in served, template
        assert messages.page_url("https://s.example/", template, None) == "https://s.example" + path
