"""Abuse limits: one compromised account or phone cannot flood the network (config "Abuse limits").

Each limit answers 429 with a message that says which allowance ran out, and writes nothing.
"""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from solidarity import create_app
from solidarity.clock import utcnow
from solidarity.errors import RateLimited
from solidarity.escalation.tick import tick
from solidarity.extensions import limiter
from solidarity.incidents.models import Incident
from tests import factories
from tests.api.test_incidents import written
from tests.conftest import csrf_token
from tests.factories import bearer
from tests.incidents import scenario
from tests.notify.conftest import PUBLIC_URL, twilio_settings  # noqa: F401 - a fixture, used by name below
from tests.notify.fake_twilio import AUTH_TOKEN
from tests.notify.sms import reply_text, text_message

REPORT = {"threat_type": "raid", "severity": 3, "country": "KE", "needs": ["legal"], "summary": "a report"}


@pytest.fixture
def limited(app, app_config):
    """Build an app with limits on (Flask-Limiter reads RATELIMIT_ENABLED once, at start-up)."""
    def build(**limits):
        limited_app = create_app({**app_config, "RATELIMIT_ENABLED": True, **limits})
        return limited_app.test_client()
    try:
        yield build
    finally:
        limiter.reset()
        limiter.enabled = False


@pytest.fixture
def net(make):
    return scenario.members(make)


def report_by_web(client, user):
    assert factories.sign_in(client, user).status_code == 302
    form = {**REPORT, "csrf_token": csrf_token(client, "/incidents/new")}
    return client.post("/incidents/new", data=form)


def test_intake_is_limited_per_account(limited, make, session, net):
    client = limited(INTAKE_RATE_LIMIT_ACCOUNT="2 per hour")
    token = bearer(make.token(net.reporter))
    for _ in range(2):
        assert client.post("/api/v1/incidents", headers=token, json=REPORT).status_code == 201
    before = written(session)
    response = client.post("/api/v1/incidents", headers=token, json=REPORT)
    assert response.status_code == 429
    assert "your account" in response.json["errors"][0]["message"]
    assert written(session) == before
    # Someone else of the same organisation still reports.
    other = bearer(make.token(net.reporter_member))
    assert client.post("/api/v1/incidents", headers=other, json=REPORT).status_code == 201


def test_intake_is_limited_per_organisation_across_web_and_api(limited, make, session, net):
    client = limited(INTAKE_RATE_LIMIT_ORGANISATION="2 per hour")
    assert client.post("/api/v1/incidents", headers=bearer(make.token(net.reporter)), json=REPORT).status_code == 201
    assert report_by_web(client, net.reporter_member).status_code == 302
    before = written(session)
    response = client.post("/api/v1/incidents", headers=bearer(make.token(net.reporter_member)), json=REPORT)
    assert response.status_code == 429 and "your organisation" in response.json["errors"][0]["message"]
    page = client.post("/incidents/new", data={**REPORT, "csrf_token": csrf_token(client, "/incidents/new")})
    assert page.status_code == 429 and "your organisation" in page.get_data(as_text=True)
    assert written(session) == before
    # Other organisations are not affected.
    assert client.post("/api/v1/incidents", headers=bearer(make.token(make.admin_of(net.a))),
                       json=REPORT).status_code == 201


def test_sms_is_limited_per_sender_number_and_forgeries_spend_nothing(limited, make, session, net):
    client = limited(SMS_RATE_LIMIT_PHONE="2 per hour", TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_URL=PUBLIC_URL,
                     EMERGENCY_CONTACT="+254 700 000 111")
    phone = net.reporter_member.phone
    for _ in range(3):  # unsigned: refused, and they do not use up the member's allowance
        assert text_message(client, phone, "RAID", signature=None).status_code == 403
    for _ in range(2):
        assert reply_text(text_message(client, phone, "OK")).startswith("No single check-in")
    before = written(session)
    # Twilio sends no reply to an error status, so the refusal is a 200 with a reply that says so.
    reply = reply_text(text_message(client, phone, "RAID HELP LEGAL"))
    assert re.fullmatch(r"Too many messages\. Nothing was done\. Send again in \d+ (minute|hour)s?\. "
                        r"Emergency: \+254 700 000 111", reply), reply
    assert written(session) == before
    assert reply_text(text_message(client, "+254712000999", "HELP")) == "Message received."  # another number


def test_unreadable_sms_do_not_spend_the_senders_allowance(limited, make, session, net):
    client = limited(SMS_RATE_LIMIT_PHONE="1 per hour", SMS_UNREAD_RATE_LIMIT_PHONE="5 per hour",
                     TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_URL=PUBLIC_URL)
    phone = net.reporter_member.phone
    for body in ("RAIDD", "help legl", "HELP", "detension"):  # mistakes and HELP: the usage reply, free
        assert reply_text(text_message(client, phone, body)).startswith("Answer:")
    assert reply_text(text_message(client, phone, "RAID HELP LEGAL")).startswith("Report received: case")
    assert reply_text(text_message(client, phone, "RAID HELP LEGAL")).startswith("Too many messages")
    # Junk has its own looser allowance (the "too many" reply above drew on it too); past it no
    # reply is paid for at all, to junk or to commands.
    assert reply_text(text_message(client, phone, "hello")) is None
    assert reply_text(text_message(client, phone, "RAID HELP LEGAL")) is None


# -- Refused forms do not count; a refused report is never lost -------------------------------------

BAD = {**REPORT, "severity": "", "summary": "detention of our director"}
GOOD = {**REPORT, "threat_type": "detention", "severity": "4", "summary": "detention of our director"}


def test_refused_web_forms_do_not_count_and_a_429_gives_the_report_back(limited, make, session, net):
    client = limited(INTAKE_RATE_LIMIT_ACCOUNT="2 per hour", EMERGENCY_CONTACT="+254 700 000 111")
    assert factories.sign_in(client, net.reporter).status_code == 302
    for _ in range(10):
        page = client.post("/incidents/new", data={**BAD, "csrf_token": csrf_token(client, "/incidents/new")})
        assert page.status_code == 422
    for _ in range(2):
        page = client.post("/incidents/new", data={**GOOD, "csrf_token": csrf_token(client, "/incidents/new")})
        assert page.status_code == 302
    before = written(session)
    page = client.post("/incidents/new", data={**GOOD, "csrf_token": csrf_token(client, "/incidents/new")})
    text = page.get_data(as_text=True)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert re.search(r"You can send again in \d+ (minute|hour)s?\.", text)
    assert "detention of our director</textarea>" in text  # the typed report is kept
    assert re.search(r"<option selected value=\"detention\"|<option value=\"detention\" selected", text)
    assert re.search(r"checked[^>]*value=\"4\"|value=\"4\"[^>]*checked", text)
    assert 'href="tel:+254700000111"' in text
    assert written(session) == before


def test_refused_api_reports_do_not_count_and_a_429_says_when(limited, make, session, net):
    client = limited(INTAKE_RATE_LIMIT_ACCOUNT="1 per hour")
    token = bearer(make.token(net.reporter))
    for body in ({**REPORT, "severity": 9}, {**REPORT, "country": "ZZ"}, {**REPORT, "needs": ["nothing"]}):
        assert client.post("/api/v1/incidents", headers=token, json=body).status_code == 422
    assert client.post("/api/v1/incidents", headers=token, json=REPORT).status_code == 201
    response = client.post("/api/v1/incidents", headers=token, json=REPORT)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    [error] = response.json["errors"]
    assert error["field"] == "account" and re.search(r"You can send again in \d+ (minute|hour)s?\.", error["message"])


def test_the_emergency_contact_is_on_the_report_form_error_pages_and_the_sms_help(
        client, app, make, net, monkeypatch, twilio_settings):  # noqa: F811 - the fixture, by name
    monkeypatch.setitem(app.config, "EMERGENCY_CONTACT", "+254 700 000 111")
    assert reply_text(text_message(client, net.reporter_member.phone, "HELP")).endswith(
        "Emergency: +254 700 000 111")
    factories.sign_in(client, net.reporter)
    for path, status in (("/incidents/new", 200), ("/no/such/page", 404)):
        page = client.get(path)
        assert page.status_code == status and "+254 700 000 111" in page.get_data(as_text=True)


# -- Fan-out: a domain cap, whatever the channel ---------------------------------------------------

@pytest.fixture
def now():
    return utcnow()  # the requests below read the real clock: the window must hold what the fixture sent


@pytest.fixture
def capped(app, monkeypatch, make, net, now):
    """The reporter's organisation has used up its fan-out allowance with one incident."""
    scenario.file(make, net, now=now, severity=3)  # asks A (two people), B and D: four messages
    monkeypatch.setitem(app.config, "FANOUT_MAX_MESSAGES", 3)
    monkeypatch.setitem(app.config, "FANOUT_WINDOW_SECONDS", 3 * 3600)
    return net


def test_fanout_cap_refuses_new_reports_with_429(client, make, session, capped, now):
    before = written(session)
    with pytest.raises(RateLimited):
        make.incident(capped.reporter, now=now)
    response = client.post("/api/v1/incidents", headers=bearer(make.token(capped.reporter)), json=REPORT)
    assert response.status_code == 429 and response.json["errors"][0]["field"] == "organisation"
    assert written(session) == before
    # Once the window has passed, reports go out again.
    assert make.incident(capped.reporter, now=now + timedelta(hours=4)).ref


@pytest.mark.usefixtures("twilio_settings")
def test_fanout_cap_refuses_sms_reports_with_the_neutral_not_filed_reply(client, session, capped):
    before = written(session)
    refusals = REGISTRY.get_sample_value("solidarity_rate_limit_refusals_total", {"limit": "sms_fanout"})
    reply = reply_text(text_message(client, capped.reporter_member.phone, "RAID HELP LEGAL"))
    assert reply.startswith("Not filed")
    assert written(session) == before
    assert REGISTRY.get_sample_value("solidarity_rate_limit_refusals_total", {"limit": "sms_fanout"}) == (
        (refusals or 0) + 1)  # a refusal the HTTP layer cannot see (it answers 200), counted all the same


def test_fanout_cap_holds_escalation_waves_instead_of_exhausting_them(session, capped, now):
    later = now + timedelta(hours=1, minutes=1)  # severity 3: the second wave is due after an hour
    before = written(session)
    counts = tick(session, now=later)
    assert counts["held"] == 2 and counts["waves"] == counts["exhausted"] == 0
    assert written(session) == before  # no match, message or alert
    assert all(n.next_wave_at > later for n in capped.incident.needs)


def test_concurrent_reports_cannot_all_slip_through_the_allowance(limited, make, session, net):
    """Checked, validated, then spent with one atomic increment: of reports sent at the same moment,
    exactly the allowance is filed, whoever wins the race."""
    client_app = limited(INTAKE_RATE_LIMIT_ACCOUNT="2 per hour").application
    token = bearer(make.token(net.reporter))
    for round_ in range(3):
        limiter.reset()
        barrier = threading.Barrier(6, timeout=30)
        statuses: list[int] = []

        def send(barrier=barrier, statuses=statuses):
            client = client_app.test_client()
            barrier.wait()
            statuses.append(client.post("/api/v1/incidents", headers=token, json=REPORT).status_code)
        threads = [threading.Thread(target=send) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(statuses) == [201, 201, 429, 429, 429, 429], statuses
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(Incident)) == 2 * (round_ + 1)
