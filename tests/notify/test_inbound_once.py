"""Twilio's retries of an inbound SMS (same MessageSid) are answered alike and acted on once."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from solidarity.fields import DataKey
from solidarity.incidents.models import Incident, TimelineEntry
from solidarity.matching.models import Match, MatchStatus
from solidarity.notify import once
from solidarity.notify.models import InboundSms, Notification
from tests.notify.fake_twilio import ACCOUNT_SID, FROM
from tests.notify.sms import reply_text, signed_post
from tests.notify.test_webhooks import REPORTER_PHONE, RESPONDER_PHONE, incident_for


@pytest.fixture
def network(make, twilio_settings):
    """A vetted reporter and a responder offering legal help, each with a known phone."""
    reporter_org = make.org(country="KE", phone=REPORTER_PHONE)
    responder_org = make.org(country="KE", phone=RESPONDER_PHONE)
    make.offer(responder_org, "legal")
    return reporter_org, responder_org


def params(sender: str, body: str, sid: str | None = None) -> dict:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": sender, "To": FROM,
            "Body": body, "NumMedia": "0"}


def post(client, form: dict):
    return signed_post(client, "/webhooks/twilio/sms", form)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_report_delivered_twice_files_one_incident_with_the_same_reply(client, session, network):
    form = params(REPORTER_PHONE, "RAID")
    first = reply_text(post(client, form))
    notified = count(session, Notification)
    assert first.startswith("Report received: case ")
    assert reply_text(post(client, form)) == first
    assert count(session, Incident) == 1
    assert count(session, Notification) == notified  # responders asked once
    row = session.scalar(select(InboundSms))
    assert row.reply == first and row.answered_at is not None
    assert first.encode() not in row.reply_ct  # sealed: it names the case's reference


def test_a_yes_delivered_twice_answers_once_with_the_same_reply(client, session, make, network, now):
    reporter_org, _ = network
    incident = incident_for(make, reporter_org, now)
    form = params(RESPONDER_PHONE, f"YES {incident.ref}")
    first = reply_text(post(client, form))
    assert f"accepted case {incident.ref}" in first
    assert reply_text(post(client, form)) == first  # not "no open request": the first reply again
    assert session.scalar(select(Match.status)) is MatchStatus.accepted
    accepted = select(func.count()).select_from(TimelineEntry).where(TimelineEntry.kind == "accepted")
    assert session.scalar(accepted) == 1
    told = select(func.count()).select_from(Notification).where(Notification.template == "match_accepted")
    once_told = session.scalar(told)
    post(client, form)
    assert session.scalar(told) == once_told


def test_a_different_sid_with_the_same_text_is_a_new_message(client, session, network):
    for _ in range(2):
        assert reply_text(post(client, params(REPORTER_PHONE, "RAID"))).startswith("Report received: case ")
    assert count(session, Incident) == 2


@pytest.mark.parametrize("round_", range(5))
def test_two_simultaneous_deliveries_of_one_sid_act_once_and_answer_alike(app, session, network, round_):
    form = params(REPORTER_PHONE, "RAID")
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def deliver(slot: int) -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        answers[slot] = post(client, form)
    threads = [threading.Thread(target=deliver, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert [a.status_code for a in answers] == [200, 200]
    replies = [reply_text(a) for a in answers]
    assert replies[0] == replies[1] and replies[0].startswith("Report received: case ")
    assert count(session, Incident) == 1
    assert count(session, InboundSms) == 1


def test_a_command_that_fails_withdraws_its_claim_so_the_retry_runs_it(app, session, now):
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("database went away mid-command")
    with pytest.raises(RuntimeError):
        once.answer_once(session, "SMfail", broken, now=now)
    assert once.answer_once(session, "SMfail", lambda: "done", now=now) == "done"
    assert once.answer_once(session, "SMfail", lambda: "again", now=now) == "done"
    assert len(calls) == 1


def test_a_repeat_whose_first_delivery_never_finished_does_nothing(app, session, now):
    session.add(InboundSms(message_sid="SMstuck", received_at=now))  # its process died mid-command
    session.commit()
    assert once.answer_once(session, "SMstuck", lambda: pytest.fail("run twice"), now=now, wait=0) is None


def test_records_are_forgotten_with_their_keys_after_the_keep_hours(app, session, now):
    assert once.answer_once(session, "SMold", lambda: "filed K7Q2MX", now=now - timedelta(hours=49)) == "filed K7Q2MX"
    assert once.answer_once(session, "SMnew", lambda: "filed K7Q2MY", now=now - timedelta(hours=47)) == "filed K7Q2MY"
    keys = count(session, DataKey)
    assert once.erase_expired(session, now=now) == 1  # INBOUND_SMS_KEEP_HOURS = 48
    assert [row.message_sid for row in session.scalars(select(InboundSms))] == ["SMnew"]
    assert count(session, DataKey) == keys - 1


def test_a_status_callback_reporting_21610_is_remembered_as_a_stop(client, session, make, network, now):
    from solidarity.notify import outbox
    from solidarity.notify.models import Channel, Delivery

    _, responder_org = network
    admin = make.admin_of(responder_org)
    sms = next(row for row in outbox.enqueue(session, admin, "checkin_due", now=now, ref="K7QFH")
               if row.channel is Channel.sms)
    sms.status, sms.provider_id = Delivery.sent, "SMlate"
    session.commit()
    for code, opted_out in (("30003", False), ("21610", True)):
        response = signed_post(client, f"/webhooks/twilio/status?n={sms.id}", {
            "MessageSid": "SMlate", "MessageStatus": "undelivered", "ErrorCode": code, "AccountSid": ACCOUNT_SID})
        assert response.status_code == 204
        session.expire_all()
        assert (admin.sms_opted_out_at is not None) is opted_out


def test_an_overlong_message_sid_is_refused_naming_the_field(client, session, network):
    response = post(client, params(REPORTER_PHONE, "RAID", sid="SM" + "x" * 80))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "MessageSid"
    assert count(session, Incident) == 0
