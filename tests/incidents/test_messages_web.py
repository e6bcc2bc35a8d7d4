"""The conversation on the incident page (no JavaScript) and over the API: posting, bad input kept on
the form or named in the error, progress, contact requests, unread counts on home and the list."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.incidents import messages, service
from solidarity.incidents.models import Message
from solidarity.matching.models import MatchStatus
from tests.factories import bearer
from tests.incidents import scenario
from tests.web.pages import errors_by_field, post, sign_in


@pytest.fixture
def net(make, session):
    now = utcnow() - timedelta(minutes=5)
    net = scenario.build(make, now=now, disclosure=("summary",))
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    return net


def page(net):
    return f"/incidents/{net.incident.id}"


def test_the_reporter_writes_on_the_page_and_the_responder_reads_it(client, make, session, net):
    sign_in(client, net.reporter)
    response = post(client, f"{page(net)}/messages", {"body": "We need a lawyer at Central station"}, page=page(net))
    assert response.status_code == 302 and response.location.endswith("#thread")
    sign_in(client, make.admin_of(net.a))
    html = client.get(page(net)).get_data(as_text=True)
    assert "We need a lawyer at Central station" in html and "The reporting organisation" in html
    assert "Everyone on the case can read this" in html


def test_bad_input_is_refused_naming_the_field_and_the_text_is_kept(client, make, session, net):
    sign_in(client, net.reporter)
    response = post(client, f"{page(net)}/messages", {"body": "   "}, page=page(net))
    assert response.status_code == 422
    assert errors_by_field(response.get_data(as_text=True))["body"] == ["write a message"]
    response = post(client, f"{page(net)}/messages", {"body": "Keep this text", "private_to": str(net.b.id)},
                    page=page(net))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Keep this text</textarea>" in html
    assert "choose a responder that took the case" in html
    assert session.scalars(select(Message)).all() == []


def test_a_private_line_from_the_page_says_who_reads_it(client, make, session, net):
    sign_in(client, net.reporter)
    post(client, f"{page(net)}/messages", {"body": "For the lawyers only", "private_to": str(net.a.id)},
         page=page(net))
    html = client.get(page(net)).get_data(as_text=True)
    assert "Only you and Alpha Legal can read this." in html


def test_progress_and_hand_back_from_the_page(client, make, session, net):
    sign_in(client, make.admin_of(net.a))
    response = post(client, f"{page(net)}/progress", {"state": "progress", "body": "Lawyer on the way",
                                                      "help_type": "legal"}, page=page(net))
    assert response.status_code == 302
    response = post(client, f"{page(net)}/progress", {"state": "progress", "body": ""}, page=page(net))
    assert response.status_code == 422 and errors_by_field(response.get_data(as_text=True))["body"]
    sign_in(client, net.reporter)
    html = client.get(page(net)).get_data(as_text=True)
    assert "What responders are doing" in html and "Lawyer on the way" in html
    sign_in(client, make.admin_of(net.a))
    post(client, f"{page(net)}/progress", {"state": "handed_back", "help_type": "legal"}, page=page(net))
    assert net.match_of(session, net.a).status is MatchStatus.handed_back


def test_contact_on_request_from_the_page(client, make, session, net):
    sign_in(client, make.admin_of(net.a))
    assert post(client, f"{page(net)}/contact", page=page(net)).status_code == 302
    sign_in(client, net.reporter)
    html = client.get(page(net)).get_data(as_text=True)
    assert "Alpha Legal asks for your contact person" in html
    post(client, f"{page(net)}/contact/{net.a.id}", {"share": "1"}, page=page(net))
    sign_in(client, make.admin_of(net.a))
    html = client.get(page(net)).get_data(as_text=True)
    assert "Contact person" in html and net.reporter_member.email in html


def test_unread_counts_on_home_and_the_list(client, make, session, net):
    messages.post(session, net.reporter, net.incident, "one", now=utcnow())
    messages.post(session, net.reporter, net.incident, "two", now=utcnow())
    sign_in(client, make.admin_of(net.a))
    assert f"Case {net.incident.ref}</a>: 2 new messages" in client.get("/").get_data(as_text=True)
    assert "2 new messages" in client.get("/incidents").get_data(as_text=True)
    client.get(page(net))
    assert "new messages" not in client.get("/").get_data(as_text=True)


def test_the_api_reads_posts_and_names_bad_fields(client, make, session, net):
    reporter, responder = make.token(net.reporter), make.token(make.admin_of(net.a))
    path = f"/api/v1/incidents/{net.incident.id}/messages"
    response = client.post(path, headers=bearer(reporter), json={"body": "Hello", "private_to": str(net.a.id)})
    assert response.status_code == 201 and response.json["readers"] == "Only you and Alpha Legal can read this."
    response = client.post(path, headers=bearer(reporter), json={"body": ""})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "body"
    response = client.post(path, headers=bearer(reporter), json={"body": "x", "private_to": str(net.b.id)})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "private_to"
    unread = client.get("/api/v1/incidents/unread", headers=bearer(responder)).json
    assert unread == [{"incident_id": str(net.incident.id), "ref": net.incident.ref, "unread": 1}]
    [shown] = client.get(path, headers=bearer(responder)).json
    assert shown["body"] == "Hello" and shown["author"] == "The reporting organisation" and shown["unread"]
    response = client.post(f"/api/v1/incidents/{net.incident.id}/progress", headers=bearer(responder),
                           json={"state": "covered"})
    assert response.status_code == 201 and response.json["says"] == "Reports legal help covered."
