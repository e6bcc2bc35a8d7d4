"""From an incident to the reporter being told help is coming: the real twilio SDK against a fake
Twilio API, real smtplib against a local SMTP server, and a signed SMS reply in between."""
from __future__ import annotations

from email import message_from_bytes

from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.matching.models import Match, MatchStatus
from solidarity.notify import dispatcher
from solidarity.notify.models import Channel, Delivery, Notification
from tests.notify.fake_twilio import FROM
from tests.notify.sms import reply_text, signed_post, text_message

REPORTER_PHONE = "+254712345641"
RESPONDER_PHONE = "+254712345642"
SECRETS = {"summary": "Canary summary: police took the server at 4 Moi Avenue",
           "details": "Canary details: three staff held at Central station",
           "org": "Canary Haki Watch Trust"}


def mail_texts(mailbox) -> list[str]:
    out = []
    for envelope in mailbox.messages:
        mail = message_from_bytes(envelope.original_content)
        out.append(str(mail["Subject"]))
        out += [part.get_payload(decode=True).decode() for part in mail.walk() if not part.is_multipart()]
    return out


def test_match_sms_yes_accepted_and_reporter_told(client, session, make, now, fake_twilio, twilio_sender,
                                                  smtp_server, smtp_sender, twilio_settings):
    _, mailbox = smtp_server
    reporter_org = make.org(SECRETS["org"], country="KE", phone=REPORTER_PHONE)
    responder_org = make.org(country="KE", phone=RESPONDER_PHONE)
    make.offer(responder_org, "legal")
    incident = make.incident(make.admin_of(reporter_org), now=now, summary=SECRETS["summary"],
                             details=SECRETS["details"])
    senders = {Channel.sms: twilio_sender, Channel.email: smtp_sender}

    assert dispatcher.run_once(session, now=now, channels=senders)["sent"] == 2  # SMS and email to the responder
    (request_sms,) = fake_twilio.sent
    assert (request_sms.to, request_sms.from_) == (RESPONDER_PHONE, FROM)
    assert request_sms.body == (f"legal help needed, case {incident.ref}. Reply YES {incident.ref} to accept "
                                f"or NO {incident.ref} to decline.")
    row = session.scalar(select(Notification).where(Notification.provider_id == request_sms.sid))
    assert request_sms.status_callback == f"https://solidarity.example/webhooks/twilio/status?n={row.id}"
    assert request_sms.validity_period == "600"

    assert signed_post(client, f"/webhooks/twilio/status?n={row.id}",
                       {"MessageSid": request_sms.sid, "MessageStatus": "delivered"}).status_code == 204
    reply = reply_text(text_message(client, RESPONDER_PHONE, f"YES {incident.ref}"))
    assert reply == f"Thank you: you accepted case {incident.ref}. Sign in to see the details."
    assert session.scalar(select(Match.status)) is MatchStatus.accepted

    # The webhook stamps the answer with the wall clock, so the reporter's messages are due from then.
    assert dispatcher.run_once(session, now=utcnow(), channels=senders)["sent"] == 2  # SMS and email to the reporter
    told = [s for s in fake_twilio.sent if s.to == REPORTER_PHONE]
    assert [s.body for s in told] == [f"Case {incident.ref}: a member accepted to give legal help. Sign in to see who."]
    session.expire_all()
    assert session.get(Notification, row.id).status is Delivery.delivered

    bodies = [s.body for s in fake_twilio.sent] + mail_texts(mailbox)
    assert len(mailbox.messages) == 2 and any(incident.ref in text for text in mail_texts(mailbox))
    secrets = [*SECRETS.values(), "Kenya", "Nairobi", "Moi Avenue"]
    for text in bodies:
        for secret in secrets:
            assert secret.lower() not in text.lower(), (secret, text)
