"""The Twilio webhooks: signatures, replies to requests, STOP/START, HELP, SMS reports, status callbacks."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from solidarity.escalation import checkins
from solidarity.escalation.models import CheckInState
from solidarity.incidents.models import Incident
from solidarity.matching.models import Match, MatchStatus
from solidarity.members import service as members
from solidarity.notify import outbox
from solidarity.notify.models import Channel, Delivery, Notification
from tests.notify.sms import reply_text, signed_post, text_message

NEUTRAL = "Message received."
RESPONDER_PHONE = "+254712345631"
REPORTER_PHONE = "+254712345632"


@pytest.fixture
def network(make, session, now, twilio_settings):
    reporter_org = make.org(country="KE", phone=REPORTER_PHONE)
    responder_org = make.org(country="KE", phone=RESPONDER_PHONE)
    make.offer(responder_org, "legal")
    make.offer(responder_org, "communications")
    return reporter_org, responder_org


def incident_for(make, reporter_org, now, **fields):
    return make.incident(make.admin_of(reporter_org), now=now, **fields)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# -- Signatures -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/webhooks/twilio/sms", "/webhooks/twilio/status"])
@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong-token"])
def test_unsigned_or_badly_signed_requests_are_refused(client, session, network, path, signature):
    params = {"From": RESPONDER_PHONE, "Body": "STOP", "MessageSid": "SM1", "MessageStatus": "failed"}
    kwargs = {"signature": "compute", "token": "someone-elses-token"} if signature == "wrong-token" \
        else {"signature": signature}
    response = signed_post(client, path, params, **kwargs)
    assert response.status_code == 403
    assert response.json["errors"][0]["field"] == "X-Twilio-Signature"
    assert members.find_users_by_phone(session, RESPONDER_PHONE)[0].sms_opted_out_at is None


def test_a_signature_for_other_fields_is_refused(client, network):
    from twilio.request_validator import RequestValidator

    from tests.notify.conftest import PUBLIC_URL
    from tests.notify.fake_twilio import AUTH_TOKEN
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/sms",
                                                              {"From": RESPONDER_PHONE, "Body": "NO"})
    response = client.post("/webhooks/twilio/sms", data={"From": RESPONDER_PHONE, "Body": "YES"},
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_without_a_configured_token_every_request_is_refused(client, network, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
    assert text_message(client, RESPONDER_PHONE, "HELP", token="").status_code == 403


# -- Answers ------------------------------------------------------------------------------------------------

def test_yes_with_the_reference_accepts(client, session, make, network, now):
    reporter_org, responder_org = network
    incident = incident_for(make, reporter_org, now)
    assert reply_text(text_message(client, RESPONDER_PHONE, f"yes {incident.ref.lower()}")) == \
        f"Thank you: you accepted case {incident.ref}. Sign in to see the details."
    match = session.scalar(select(Match).where(Match.organisation_id == responder_org.id))
    assert match.status is MatchStatus.accepted
    told = session.scalars(select(Notification).where(Notification.template == "match_accepted")).all()
    assert told and {n.user.organisation_id for n in told} == {reporter_org.id}


def test_no_with_the_reference_declines(client, session, make, network, now):
    reporter_org, responder_org = network
    incident = incident_for(make, reporter_org, now)
    assert reply_text(text_message(client, RESPONDER_PHONE, f"NO {incident.ref}")) == \
        f"Noted: you declined case {incident.ref}."
    assert session.scalar(select(Match.status)) is MatchStatus.declined


def test_bare_yes_answers_the_only_pending_request(client, session, make, network, now):
    reporter_org, _ = network
    incident = incident_for(make, reporter_org, now)
    assert reply_text(text_message(client, RESPONDER_PHONE, "Yes!")).endswith(
        f"accepted case {incident.ref}. Sign in to see the details.")


def test_bare_yes_with_several_pending_asks_which(client, session, make, network, now):
    reporter_org, _ = network
    first = incident_for(make, reporter_org, now)
    second = incident_for(make, reporter_org, now + timedelta(seconds=1), needs=["communications"])
    reply = reply_text(text_message(client, RESPONDER_PHONE, "YES"))
    assert reply == f"Several requests wait for you: {first.ref}, {second.ref}. Reply YES or NO with the code."
    assert {m.status for m in session.scalars(select(Match))} == {MatchStatus.notified}


def test_bare_yes_with_nothing_pending(client, network):
    assert reply_text(text_message(client, RESPONDER_PHONE, "yes")) == "No request is waiting for your answer."


def test_a_reference_not_asked_of_this_phone(client, session, make, network, now):
    reporter_org, _ = network
    incident = incident_for(make, reporter_org, now)
    # The reporter's phone was not asked about its own incident; an unknown code reads the same.
    for sender, ref in ((REPORTER_PHONE, incident.ref), (RESPONDER_PHONE, "XXXXX")):
        assert reply_text(text_message(client, sender, f"YES {ref}")) == \
            f"No open request {ref} for you. Check the code."
    assert session.scalar(select(Match.status)) is MatchStatus.notified


def test_answering_twice_says_it_is_closed(client, make, network, now):
    reporter_org, _ = network
    incident = incident_for(make, reporter_org, now)
    text_message(client, RESPONDER_PHONE, f"YES {incident.ref}")
    assert reply_text(text_message(client, RESPONDER_PHONE, f"NO {incident.ref}")) == \
        f"No open request {incident.ref} for you. Check the code."


def test_replies_come_in_the_senders_language(client, session, make, network, now):
    reporter_org, responder_org = network
    admin = make.admin_of(responder_org)
    admin.preferred_language = "sw"
    session.commit()
    incident = incident_for(make, reporter_org, now)
    assert reply_text(text_message(client, RESPONDER_PHONE, f"ndio {incident.ref}")) == \
        f"Asante: umekubali kesi {incident.ref}. Ingia kuona maelezo."


# -- Keywords -----------------------------------------------------------------------------------------------

def test_stop_and_start_record_the_opt_out(client, session, make, network, now):
    _, responder_org = network
    admin = make.admin_of(responder_org)
    assert reply_text(text_message(client, RESPONDER_PHONE, "STOP")).startswith("No more SMS from us")
    session.expire_all()
    assert admin.sms_opted_out_at is not None
    assert outbox.channels_for(admin) == [Channel.email]
    assert reply_text(text_message(client, RESPONDER_PHONE, "start")) == \
        "SMS alerts are on again. Reply STOP to end them."
    session.expire_all()
    assert admin.sms_opted_out_at is None


def test_stop_from_an_unknown_number_is_answered_with_nothing(client, network):
    assert reply_text(text_message(client, "+254712999999", "STOP")) is None


@pytest.mark.parametrize("body", ["HELP", "hello there", "K7QFH", ""])
def test_help_and_anything_else_get_the_usage(client, network, body):
    assert reply_text(text_message(client, RESPONDER_PHONE, body)) == \
        "Answer: YES code or NO code. Report: RAID, ARREST, FREEZE or HELP LEGAL."


# -- Check-ins by SMS -----------------------------------------------------------------------------------------

NO_CHECKIN = "No single check-in waits for you. Reply OK and its code."


def test_ok_with_the_code_confirms_the_senders_checkin(client, session, make, network, now):
    reporter_org, _ = network
    checkin = checkins.request_checkins(session, make.admin_of(reporter_org), interval_hours=6, now=now)
    assert reply_text(text_message(client, REPORTER_PHONE, f"ok {checkin.ref.lower()}")) == \
        f"Check-in {checkin.ref} confirmed. Thank you; stay safe."
    session.refresh(checkin)
    assert checkin.last_confirmed_at > now and checkin.state is CheckInState.active  # the webhook's own clock
    assert checkin.next_due_at == checkin.last_confirmed_at + timedelta(hours=6)


def test_bare_ok_confirms_the_only_open_checkin(client, session, make, network, now):
    reporter_org, _ = network
    checkin = checkins.request_checkins(session, make.admin_of(reporter_org), interval_hours=6, now=now)
    assert reply_text(text_message(client, REPORTER_PHONE, "OK")).startswith(f"Check-in {checkin.ref} confirmed")


@pytest.mark.parametrize("sender, body", [
    (RESPONDER_PHONE, "OK {ref}"),  # another organisation's check-in: it cannot call off the alarm
    (REPORTER_PHONE, "OK ZZ9ZZ"),   # a code that does not exist
    ("+254712345699", "OK {ref}"),  # an unknown number
])
def test_ok_that_matches_no_checkin_of_the_sender_changes_nothing(client, session, make, network, now, sender, body):
    reporter_org, _ = network
    checkin = checkins.request_checkins(session, make.admin_of(reporter_org), interval_hours=6, now=now)
    answer = reply_text(text_message(client, sender, body.format(ref=checkin.ref)))
    assert answer in (NO_CHECKIN, NEUTRAL)
    session.refresh(checkin)
    assert checkin.last_confirmed_at == now and checkin.next_due_at == now + timedelta(hours=6)


# -- Reports by SMS -----------------------------------------------------------------------------------------

def test_a_threat_word_opens_an_incident(client, session, network):
    reporter_org, responder_org = network
    reply = reply_text(text_message(client, REPORTER_PHONE, "we are being RAIDED"))
    incident = session.scalar(select(Incident))
    assert reply == f"Report received: case {incident.ref}. Members are being asked for help."
    assert (incident.channel, incident.threat_type, incident.severity, incident.country) == ("sms", "raid", 3, "KE")
    assert incident.organisation_id == reporter_org.id
    assert sorted(n.help_type for n in incident.needs) == ["digital_security", "legal"]
    assert session.scalar(select(Match.organisation_id)) == responder_org.id


def test_help_with_a_kind_opens_an_incident_for_that_need(client, session, network):
    reply_text(text_message(client, REPORTER_PHONE, "help comms"))
    incident = session.scalar(select(Incident))
    assert (incident.threat_type, [n.help_type for n in incident.needs]) == ("other", ["communications"])


def test_a_report_from_an_unknown_number_creates_nothing(client, session, network):
    assert reply_text(text_message(client, "+254712999999", "RAID")) == NEUTRAL
    assert count(session, Incident) == 0


def test_an_organisation_with_a_pin_needs_it_in_the_report(client, session, make, network, now):
    reporter_org, _ = network
    members.set_sms_pin(session, make.admin_of(reporter_org), reporter_org, "4821", now=now)
    for body in ("RAID", "RAID 1234", "RAID 48211"):
        assert reply_text(text_message(client, REPORTER_PHONE, body)) == NEUTRAL
    assert count(session, Incident) == 0
    assert reply_text(text_message(client, REPORTER_PHONE, "raid 4821")).startswith("Report received: case ")
    assert count(session, Incident) == 1


def test_an_unvetted_organisation_cannot_report(client, session, make, network):
    make.org(country="KE", vetted=False, phone="+254712345639")
    assert reply_text(text_message(client, "+254712345639", "RAID")) == NEUTRAL
    assert count(session, Incident) == 0


# -- Status callbacks ---------------------------------------------------------------------------------------

def test_status_callbacks_move_forward_only(client, session, make, network, now):
    _, responder_org = network
    (row, _) = outbox.enqueue(session, make.admin_of(responder_org), "checkin_due", now=now, ref="K7QFH")
    row.status, row.provider_id = Delivery.sent, "SMabc"
    session.commit()
    path = f"/webhooks/twilio/status?n={row.id}"
    for status in ("delivered", "sent", "delivered", "queued"):
        response = signed_post(client, path, {"MessageSid": "SMabc", "MessageStatus": status,
                                              "AccountSid": "AC1"})
        assert response.status_code == 204
    session.expire_all()
    assert row.status is Delivery.delivered


def test_a_status_callback_signed_without_its_query_is_refused(client, session, make, network, now):
    from twilio.request_validator import RequestValidator

    from tests.notify.conftest import PUBLIC_URL
    from tests.notify.fake_twilio import AUTH_TOKEN
    params = {"MessageSid": "SMabc", "MessageStatus": "failed"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/status", params)
    response = client.post("/webhooks/twilio/status?n=00000000-0000-0000-0000-000000000000", data=params,
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
