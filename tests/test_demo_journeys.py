"""Walking the demo in every role: responder accounts with passwords, and SMS without Twilio
(`flask --app wsgi sms receive`), through the same signed webhook as Twilio's requests."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from solidarity import demo
from solidarity.clock import utcnow
from solidarity.incidents import service
from solidarity.matching.models import Match, MatchStatus
from solidarity.members import auth
from solidarity.members.models import User
from solidarity.notify.channels import twilio_sms
from tests.incidents import scenario
from tests.notify.conftest import twilio_settings  # noqa: F401 - a fixture, used by name below


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_the_demo_prints_responder_accounts_that_sign_in_and_their_phones(session, cli, now):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    for name, email in demo.RESPONDERS.items():
        assert f"responder     {email}  password {demo.RESPONDER_PASSWORD}  ({name})" in result.output
        user = auth.authenticate(session, email, demo.RESPONDER_PASSWORD, now=now)
        assert user is not None and user.organisation.name == name
        assert user.phone in result.output
    assert session.get(User, auth.authenticate(session, demo.MEMBER_EMAIL, demo.MEMBER_PASSWORD, now=now).id
                       ).phone in result.output


@pytest.fixture
def spy(monkeypatch):
    calls = []
    real = twilio_sms.signature_is_valid

    def checked(*args):
        calls.append(real(*args))
        return calls[-1]
    monkeypatch.setattr(twilio_sms, "signature_is_valid", checked)
    return calls


@pytest.mark.usefixtures("twilio_settings")
def test_sms_receive_answers_a_request_through_the_signed_webhook(make, session, cli, spy):
    net = scenario.build(make, now=utcnow())
    responder = make.user(net.a, phone="+254712000777")
    result = cli("sms", "receive", "--from", responder.phone, f"YES {net.incident.ref}")
    assert result.exit_code == 0, result.output
    assert f"Reply: Thank you: you accepted case {net.incident.ref}." in result.output
    assert spy == [True]  # the real view checked the signature, and it held
    session.expire_all()
    assert net.match_of(session, net.a).status is MatchStatus.accepted


@pytest.mark.usefixtures("twilio_settings")
def test_sms_receive_files_a_report_like_a_phone_would(make, session, cli, spy):
    net = scenario.members(make)
    result = cli("sms", "receive", "--from", net.reporter_member.phone, "RAID HELP LEGAL")
    assert re.search(r"Reply: Report received: case [A-Z0-9]+\.", result.output), result.output


def test_sms_receive_needs_a_token_to_sign_with(cli, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
    result = cli("sms", "receive", "--from", "+254712000777", "HELP")
    assert result.exit_code == 2 and "SOLIDARITY_TWILIO_AUTH_TOKEN" in result.output


@pytest.mark.usefixtures("twilio_settings")
def test_sms_receive_is_refused_in_production(cli, app, monkeypatch, spy):
    monkeypatch.setitem(app.config, "SOLIDARITY_ENV", "production")
    result = cli("sms", "receive", "--from", "+254712000777", "HELP")
    assert result.exit_code == 2 and "refused in production" in result.output
    assert spy == []


def test_a_demo_report_asks_the_demo_responders(session, cli, now):
    cli("demo")
    member = auth.authenticate(session, demo.MEMBER_EMAIL, demo.MEMBER_PASSWORD, now=now)
    incident = service.file_incident(session, member, service.IncidentDraft(
        threat_type="detention", severity=4, country="KE", needs=["legal", "digital_security"], channel="web"),
        now=utcnow())
    asked = {m.organisation.name for m in session.scalars(select(Match).where(Match.incident_id == incident.id))}
    assert set(demo.RESPONDERS) <= asked, asked
