"""Words people use: the incident pages show statuses, timeline kinds and rounds of requests in plain
words, never an internal key ("checkin_requested", "wave 1", "Score 60.00")."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.escalation import checkins
from solidarity.incidents import service as incidents
from solidarity.matching.models import Match
from solidarity.web import labels
from tests.web.pages import sign_in

KEY = re.compile(r"\b[a-z]+_[a-z_]+\b")  # snake_case: a key, not a word


class Visible(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_the_incident_pages_speak_in_words(client, session, make):
    responder_org = make.org("Baobab Legal Aid", country="KE")
    make.offer(responder_org, "legal", countries=["KE"])
    reporter = make.admin_of(make.org(country="KE"))
    incident = make.incident(reporter, threat_type="detention")
    checkins.request_checkins(session, reporter, interval_hours=6, incident=incident, now=utcnow())
    match = session.scalars(select(Match).where(Match.incident_id == incident.id)).one()
    incidents.answer_match(session, make.admin_of(responder_org), match, True, now=utcnow())
    incidents.change_status(session, reporter, incident, "resolved", note="All safe", now=utcnow())
    sign_in(client, reporter)
    for path in (f"/incidents/{incident.id}", "/incidents"):
        text = visible(client.get(path).get_data(as_text=True))
        assert not KEY.findall(text), (path, KEY.findall(text))
        assert "wave 1" not in text and "Score" not in text
    page = visible(client.get(f"/incidents/{incident.id}").get_data(as_text=True))
    for words in ("first round of requests", "Safety check-ins set up", "Safety check-ins stopped", "Request accepted",
                  "Being helped → Resolved", "Resolved", "Helped", "someone is coming", "Detention"):
        assert words in page, words


def test_every_label_has_words_and_unknown_keys_still_read_as_words():
    assert labels.wave_label(1) == "first round of requests" and labels.wave_label(12) == "round 12 of requests"
    assert labels.timeline_label("something_new") == "Something new"
    assert labels.status_label(None) == "" and labels.status_label("responding") == "Being helped"
    for mapping in (labels.STATUS, labels.MATCH_STATUS, labels.NEED_STATE, labels.TIMELINE, labels.VIEWER):
        assert all(value and not KEY.search(value) for value in mapping.values())
