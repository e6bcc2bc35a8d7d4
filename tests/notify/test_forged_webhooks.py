"""A forged Twilio request costs nobody anything: no write of any kind, no 500, no spent allowance of
the number it claims, one log line per interval and source instead of one audit row per request."""
from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import event, func, select

from solidarity.api import webhooks
from solidarity.audit import AuditEvent
from solidarity.extensions import db
from solidarity.incidents.models import Incident
from tests.incidents import scenario
from tests.notify.conftest import PUBLIC_URL
from tests.notify.fake_twilio import AUTH_TOKEN
from tests.notify.sms import reply_text, signed_post, text_message
from tests.test_abuse_limits import limited  # noqa: F401 - a fixture, used by name below

FORGERIES = 24


@pytest.fixture
def limited_app(limited):  # noqa: F811 - the fixture imported above
    """Limits on, and our own failures answered as 500 (not raised into the test) as in production."""
    return limited(SMS_RATE_LIMIT_PHONE="3 per hour", TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_URL=PUBLIC_URL,
                          PROPAGATE_EXCEPTIONS=False).application


@pytest.fixture
def writes(app):
    """Every statement that is not a read, on any connection of the engine, while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA", "SHOW", "SET", "BEGIN", "ROLLBACK")):
            seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def forge(client, phone: str, n: int, body: str = "RAID HELP LEGAL"):
    kinds = [{"signature": None}, {"signature": ""}, {"signature": "bm90IGEgc2lnbmF0dXJl"},
             {"signature": "compute", "token": "someone-elses-token"}]
    return text_message(client, phone, body, **kinds[n % len(kinds)])


def flood(app, phone: str, n: int = FORGERIES) -> list[int]:
    """n forged requests at once, each thread with its own client, released together."""
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=10)
            statuses.append(forge(client, phone, i).status_code)
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(statuses) == n
    return statuses


def limited_reply(response) -> bool:
    """Whether the answer is the "too many messages" reply (a 200 TwiML: Twilio drops error replies)."""
    assert response.status_code == 200
    return reply_text(response).startswith("Too many messages.")


def audit_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("_round", range(3))
def test_a_parallel_flood_of_forgeries_writes_nothing_and_the_member_still_reports(
        limited_app, make, session, writes, _round):
    net = scenario.members(make)
    phone = net.reporter_member.phone
    session.commit()
    audited, writes[:] = audit_rows(session), []

    statuses = flood(limited_app, phone)
    assert statuses == [403] * FORGERIES  # refused, none failed
    assert writes == [] and audit_rows(session) == audited
    # The member's allowance (3 per hour) is untouched: three genuine commands all go through,
    # the first of them a report that is filed.
    client = limited_app.test_client()
    reply = reply_text(text_message(client, phone, "RAID HELP LEGAL"))
    incident = session.scalar(select(Incident))
    assert incident is not None and reply.startswith(f"Report received: case {incident.ref}.")
    for _ in range(2):
        assert not limited_reply(text_message(client, phone, "OK"))
    assert limited_reply(text_message(client, phone, "OK"))  # now it is spent, by the member alone


def test_a_forgery_over_the_members_spent_allowance_is_still_a_plain_403(limited_app, make, session):
    # The limit key comes only from a verified sender: a forger learns nothing about a real number's
    # allowance and is never answered from it.
    net = scenario.members(make)
    phone = net.reporter_member.phone
    client = limited_app.test_client()
    for _ in range(3):
        assert not limited_reply(text_message(client, phone, "OK"))
    assert limited_reply(text_message(client, phone, "OK"))
    assert forge(client, phone, 0).status_code == 403


def test_our_own_failure_does_not_spend_the_senders_allowance(limited_app, make, session, monkeypatch):
    net = scenario.members(make)
    phone = net.reporter_member.phone

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")
    client = limited_app.test_client()
    monkeypatch.setattr("solidarity.api.sms_commands.handle", broken)
    for _ in range(5):
        assert text_message(client, phone, "OK").status_code == 500
    monkeypatch.undo()
    for _ in range(3):
        assert not limited_reply(text_message(client, phone, "OK"))
    assert limited_reply(text_message(client, phone, "OK"))


def test_the_status_callback_refuses_forgeries_without_writing(limited_app, make, session, writes):
    client = limited_app.test_client()
    response = signed_post(client, "/webhooks/twilio/status?n=1", {"MessageSid": "SM1", "MessageStatus": "failed"},
                           signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403 and response.json["errors"][0]["field"] == "X-Twilio-Signature"
    assert writes == [] and audit_rows(session) == 0


def test_refusals_are_logged_once_per_interval_per_source(app, client, make, caplog, monkeypatch):
    clock = [1000.0]
    monkeypatch.setitem(app.extensions, "solidarity.webhook_refusals", webhooks.RefusalLog(clock=lambda: clock[0]))
    monkeypatch.setitem(app.config, "WEBHOOK_REFUSAL_LOG_SECONDS", 300)
    calls: list[str] = []
    original = webhooks.refused_webhook
    monkeypatch.setattr(webhooks, "refused_webhook", lambda source: (calls.append(source), original(source)))
    caplog.set_level(logging.WARNING, logger="solidarity.api.webhooks")
    phone = "+254712345678"

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "solidarity.api.webhooks"]
    for n in range(10):
        assert forge(client, phone, n).status_code == 403
    assert len(lines()) == 1 and "127.0.0.1 /webhooks/twilio/sms" in lines()[0]
    assert forge(app.test_client(), phone, 0).status_code == 403  # another client, same address: same source
    assert len(lines()) == 1
    clock[0] += 301
    assert forge(client, phone, 0).status_code == 403
    assert len(lines()) == 2 and "10 more held back" in lines()[1]
    assert len(calls) == 12  # the hook for a counter sees every refusal
    assert phone not in caplog.text


def test_the_refusal_log_forgets_quiet_sources_past_its_bound(monkeypatch):
    clock = [0.0]
    log = webhooks.RefusalLog(clock=lambda: clock[0])
    monkeypatch.setattr(webhooks.RefusalLog, "MAX_SOURCES", 3)
    for n in range(3):
        log.refused(f"10.0.0.{n}", 60)
    clock[0] = 100
    log.refused("10.0.0.9", 60)
    assert list(log.sources) == ["10.0.0.9"]
