"""The Twilio channel: the real SDK against a local fake of Twilio's API, and how faults are classified."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.notify import dispatcher, outbox
from solidarity.notify.channels import AmbiguousError, OptedOutError, OutgoingMessage, PermanentError, TransientError
from solidarity.notify.channels.twilio_sms import TwilioSender
from solidarity.notify.models import Channel, Delivery, Failure, Notification
from tests.notify.conftest import PUBLIC_URL, Recorder, free_port
from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, twilio_error

MESSAGE = OutgoingMessage(notification_id="9b2f0c56-7a51-4a4e-9d0e-0d3c5c1b6a11", to="+254712345601",
                          body="legal help needed, case K7QFH. Reply YES K7QFH to accept or NO K7QFH to decline.",
                          urgent=True)


def test_sends_with_the_official_sdk(fake_twilio, twilio_sender):
    receipt = twilio_sender.send(MESSAGE)
    (sent,) = fake_twilio.sent
    assert (sent.to, sent.from_, sent.body) == (MESSAGE.to, FROM, MESSAGE.body)
    assert sent.status_callback == f"{PUBLIC_URL}/webhooks/twilio/status?n={MESSAGE.notification_id}"
    assert sent.validity_period == "600"
    assert receipt.provider_id == sent.sid and receipt.provider_status == "queued"


def test_routine_messages_have_no_validity_period(fake_twilio, twilio_sender):
    twilio_sender.send(OutgoingMessage(notification_id="n", to="+254712345601", body="Case K7QFH is now resolved."))
    assert fake_twilio.sent[0].validity_period is None


def slow(form):
    time.sleep(1.2)  # longer than the sender's 0.5 s timeout


@pytest.mark.parametrize("fault, error, code", [
    (lambda form: twilio_error(429, 20429, "Too Many Requests"), TransientError, 20429),
    (lambda form: twilio_error(500, 20500, "Internal Server Error"), TransientError, 20500),
    (lambda form: twilio_error(503, 20503, "Service Unavailable"), TransientError, 20503),
    (lambda form: twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), OptedOutError, 21610),
    (lambda form: twilio_error(400, 21211, "The 'To' number +254712345601 is not a valid phone number."),
     PermanentError, 21211),
    (lambda form: twilio_error(400, 21614, "'To' number is not a valid mobile number"), PermanentError, 21614),
    (lambda form: twilio_error(400, 21602, "Message body is required."), PermanentError, 21602),
    (slow, AmbiguousError, "timeout"),
])
def test_faults_are_classified(fake_twilio, twilio_sender, fault, error, code):
    fake_twilio.fault = fault
    with pytest.raises(error) as raised:
        twilio_sender.send(MESSAGE)
    assert raised.type is error and raised.value.code == code
    assert "254712345601" not in str(raised.value)  # Twilio quotes numbers; we keep them out of last_error


def test_throttling_asks_for_a_pause(fake_twilio, twilio_sender):
    fake_twilio.fault = lambda form: twilio_error(429, 20429, "Too Many Requests")
    with pytest.raises(TransientError) as raised:
        twilio_sender.send(MESSAGE)
    assert raised.value.retry_after >= 1


def test_nothing_listening_is_transient():
    sender = TwilioSender(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_=FROM,
                          api_base=f"http://127.0.0.1:{free_port()}", timeout=0.5, public_url=PUBLIC_URL,
                          urgent_validity=600)
    with pytest.raises(TransientError):
        sender.send(MESSAGE)


@pytest.fixture
def responder(make, session):
    org = make.org()
    user = make.user(org, phone="+254712345602")
    user.notify_email = False
    session.commit()
    return user


def dispatch(session, now, twilio_sender, email):
    return dispatcher.run_once(session, now=now, channels={Channel.sms: twilio_sender, Channel.email: email})


def test_dispatch_retries_after_429_and_500_then_sends(session, responder, now, fake_twilio, twilio_sender):
    outbox.enqueue(session, responder, "match_request", now=now, ref="K7QFH", help_type="legal")
    session.commit()
    answers = [twilio_error(429, 20429, "Too Many Requests"), twilio_error(500, 20500, "Internal Server Error")]
    fake_twilio.fault = lambda form: answers.pop(0) if answers else None
    at = now
    for _ in range(2):
        assert dispatch(session, at, twilio_sender, Recorder())["retry"] == 1
        row = session.scalar(select(Notification))
        at = row.next_attempt_at
    assert dispatch(session, at + timedelta(seconds=1), twilio_sender, Recorder())["sent"] == 1
    session.expire_all()
    row = session.scalar(select(Notification))
    (sent,) = fake_twilio.sent
    assert (row.status, row.attempts, row.provider_id) == (Delivery.sent, 3, sent.sid)
    assert sent.to == "+254712345602" and "K7QFH" in sent.body


def test_dispatch_of_an_opted_out_number_falls_back_to_email(session, responder, now, fake_twilio, twilio_sender):
    outbox.enqueue(session, responder, "match_request", now=now, ref="K7QFH", help_type="legal")
    session.commit()
    fake_twilio.fault = lambda form: twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    email = Recorder()
    dispatch(session, now, twilio_sender, email)
    dispatch(session, now, twilio_sender, email)
    session.expire_all()
    sms_row, email_row = sorted(session.scalars(select(Notification)), key=lambda r: r.fallback_of_id is not None)
    assert (sms_row.status, sms_row.failure, sms_row.attempts) == (Delivery.failed, Failure.opted_out, 1)
    assert email_row.status is Delivery.sent and email.sent[0].to == responder.email


def test_an_opt_out_at_twilio_is_remembered_until_start(session, make, client, responder, now, fake_twilio,
                                                        twilio_sender, twilio_settings):
    """21610: the number texted STOP to our number (perhaps before it was registered here). It is
    recorded as a STOP, for every account with that number, so later messages go straight to email
    instead of failing at Twilio one by one; the account page says so; START clears it."""
    from tests.factories import sign_in
    from tests.notify.sms import text_message

    # One number belongs to one active person; a disabled account may still hold it from before.
    same_phone = make.user(make.org())
    same_phone.active = False
    same_phone.phone = "+254712345602"
    outbox.enqueue(session, responder, "match_request", now=now, ref="K7QFH", help_type="legal")
    session.commit()
    fake_twilio.fault = lambda form: twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    email = Recorder()
    dispatch(session, now, twilio_sender, email)
    session.expire_all()
    assert responder.sms_opted_out_at == now and same_phone.sms_opted_out_at == now
    requests = fake_twilio.requests
    responder.notify_sms = True
    session.commit()
    outbox.enqueue(session, responder, "match_request", now=now, ref="K7QFJ", help_type="legal")
    session.commit()
    assert [row.channel for row in session.scalars(select(Notification).where(
        Notification.params["ref"].as_string() == "K7QFJ"))] == [Channel.email]  # straight to email
    dispatch(session, now, twilio_sender, email)
    assert fake_twilio.requests == requests and len(email.sent) == 2

    assert sign_in(client, responder).status_code == 302
    assert "Text messages to your phone are stopped" in client.get("/account").get_data(as_text=True)
    text_message(client, "+254712345602", "START")
    session.expire_all()
    assert responder.sms_opted_out_at is None
    assert "Text messages to your phone are stopped" not in client.get("/account").get_data(as_text=True)


def test_dispatch_timeout_is_not_resent_by_sms(session, responder, now, fake_twilio, twilio_sender):
    outbox.enqueue(session, responder, "match_request", now=now, ref="K7QFH", help_type="legal")
    session.commit()
    fake_twilio.fault = slow
    email = Recorder()
    dispatch(session, now, twilio_sender, email)
    fake_twilio.fault = None
    dispatch(session, now + timedelta(hours=1), twilio_sender, email)
    assert fake_twilio.requests == 1 and len(email.sent) == 1
    failed = session.scalar(select(Notification).where(Notification.channel == Channel.sms))
    assert failed.failure is Failure.ambiguous
