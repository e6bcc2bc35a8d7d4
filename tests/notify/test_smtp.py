"""The email channel: real smtplib against a local aiosmtpd server, and how refusals are classified."""
from __future__ import annotations

from email import message_from_bytes

import pytest
from sqlalchemy import select

from solidarity.notify import dispatcher, outbox
from solidarity.notify.channels import OutgoingMessage, PermanentError, TransientError
from solidarity.notify.channels.smtp_email import SmtpSender
from solidarity.notify.models import Channel, Delivery, Failure, Notification
from tests.notify.conftest import Recorder, free_port

MESSAGE = OutgoingMessage(notification_id="n1", to="person@org.example", subject="Help requested: legal help",
                          body="A member organisation asks for legal help.\n", html="<p>A member organisation</p>",
                          language="fr")


def test_sends_plain_text_and_html(smtp_server, smtp_sender):
    _, mailbox = smtp_server
    receipt = smtp_sender.send(MESSAGE)
    (envelope,) = mailbox.messages
    assert envelope.rcpt_tos == ["person@org.example"] and envelope.mail_from == "alerts@solidarity.example"
    mail = message_from_bytes(envelope.original_content)
    assert mail["Subject"] == MESSAGE.subject and mail["Content-Language"] == "fr"
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.get_payload()
    assert plain.get_content_type() == "text/plain" and "legal help" in plain.get_payload(decode=True).decode()
    assert html.get_content_type() == "text/html"
    assert receipt.provider_id and receipt.provider_id in mail["Message-ID"]


@pytest.mark.parametrize("reply, error", [
    ("550 5.1.1 No such user", PermanentError),
    ("553 5.7.1 Relaying denied", PermanentError),
    ("450 4.2.1 Mailbox busy, try later", TransientError),
    ("451 4.7.1 Greylisted", TransientError),
])
def test_refusals_are_classified(smtp_server, smtp_sender, reply, error):
    _, mailbox = smtp_server
    mailbox.refuse_with = reply
    with pytest.raises(error) as raised:
        smtp_sender.send(MESSAGE)
    assert raised.value.code == int(reply[:3])
    assert not mailbox.messages


def test_no_server_is_transient():
    sender = SmtpSender(host="127.0.0.1", port=free_port(), username=None, password=None, starttls=False,
                        from_="alerts@solidarity.example", timeout=1)
    with pytest.raises(TransientError):
        sender.send(MESSAGE)


def test_dispatch_of_a_refused_address_falls_back_to_sms(session, make, now, smtp_server, smtp_sender):
    _, mailbox = smtp_server
    mailbox.refuse_with = "550 5.1.1 No such user"
    org = make.org()
    user = make.user(org, phone="+254712345603")
    user.notify_sms = False
    session.commit()
    outbox.enqueue(session, user, "incident_status", now=now, ref="K7QFH", status="resolved")
    session.commit()
    sms = Recorder()
    for _ in range(2):
        dispatcher.run_once(session, now=now, channels={Channel.sms: sms, Channel.email: smtp_sender})
    session.expire_all()
    email_row, sms_row = sorted(session.scalars(select(Notification)), key=lambda r: r.fallback_of_id is not None)
    assert (email_row.status, email_row.failure, email_row.last_error) == (
        Delivery.failed, Failure.permanent, "550: recipient refused by the mail server: 5.1.1 No such user")
    assert sms_row.status is Delivery.sent and sms.sent[0].body == "Case K7QFH is now resolved."


def test_dispatch_sends_email_end_to_end(session, make, now, smtp_server, smtp_sender):
    _, mailbox = smtp_server
    org = make.org()
    user = make.admin_of(org)
    outbox.enqueue(session, user, "match_request", now=now, ref="K7QFH", help_type="digital_security")
    session.commit()
    dispatcher.run_once(session, now=now, channels={Channel.email: smtp_sender})
    mail = message_from_bytes(mailbox.messages[0].original_content)
    assert mail["Subject"] == "Help requested: digital security help, case K7QFH"
