"""Canaries in the case conversation: distinct secrets written as messages (web, API, SMS), a private
line, a progress report and a hand back, then every notice sent through the real Twilio SDK (fake
Twilio) and real SMTP, and the log backend. No canary may appear, plain or encoded, in the raw
database (SQLite file and WAL, or a pg_dump), in anything logged, in any SMS or email sent, or in
the acknowledgement of the SMS that carried one.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.incidents import messages, service
from solidarity.incidents.models import Message
from solidarity.notify import dispatcher
from solidarity.notify.channels.log import LogSender
from solidarity.notify.models import Channel, Notification
from tests.factories import bearer
from tests.incidents import scenario
from tests.notify.sms import reply_text, text_message
from tests.notify.test_end_to_end import mail_texts
from tests.rawdb import leaks, raw_dump
from tests.web.pages import post, sign_in

RESPONDER_PHONE = "+254733118822"
WEB_TEXT = "CanaryThreadWeb: the safe house is above the Zebrano bakery"
PRIVATE_TEXT = "CanaryPrivate: judge Okonkwo-Brandt takes calls at 0630"
API_TEXT = "CanaryThreadApi: records moved to locker 8813"
SMS_TEXT = "CanarySms Vellamor at gate"
PROGRESS_TEXT = "CanaryProgress: habeas filed with clerk Tirzah Ombati"
HANDBACK_TEXT = "CanaryHandback: our lawyer Quillon was detained"
NEEDLES = [WEB_TEXT, "Zebrano", PRIVATE_TEXT, "Okonkwo-Brandt", API_TEXT, "locker 8813", SMS_TEXT, "Vellamor",
           PROGRESS_TEXT, "Tirzah Ombati", HANDBACK_TEXT, "Quillon"]


@pytest.mark.usefixtures("twilio_settings")
def test_no_message_canary_reaches_storage_logs_sms_or_email(app, client, session, make, caplog, tmp_path, fake_twilio,
                                                             twilio_sender, smtp_server, smtp_sender):
    caplog.set_level(logging.DEBUG)
    _, mailbox = smtp_server
    start = utcnow()
    net = scenario.build(make, now=start)
    a_person = make.user(net.a, phone=RESPONDER_PHONE)
    for org in (net.a, net.d):
        service.answer_match(session, make.admin_of(org), net.match_of(session, org), True, now=start)
    incident = net.incident
    page = f"/incidents/{incident.id}"

    sign_in(client, net.reporter)
    assert post(client, f"{page}/messages", {"body": WEB_TEXT}, page=page).status_code == 302
    assert post(client, f"{page}/messages", {"body": PRIVATE_TEXT, "private_to": str(net.a.id)},
                page=page).status_code == 302
    reporter = bearer(make.token(net.reporter))
    assert client.post(f"/api/v1/incidents/{incident.id}/messages", headers=reporter,
                       json={"body": API_TEXT}).status_code == 201
    ack = reply_text(text_message(client, RESPONDER_PHONE, f"{incident.ref} {SMS_TEXT}"))
    assert ack == f"Posted to case {incident.ref}."
    responder = bearer(make.token(make.admin_of(net.a)))
    assert client.post(f"/api/v1/incidents/{incident.id}/progress", headers=responder,
                       json={"state": "progress", "body": PROGRESS_TEXT}).status_code == 201
    assert client.post(f"/api/v1/incidents/{incident.id}/progress", headers=responder,
                       json={"state": "handed_back", "body": HANDBACK_TEXT}).status_code == 201

    # The canaries are stored and readable, so their absence below counts.
    bodies = [s.body for s in messages.thread(session, net.reporter, incident, now=utcnow())]
    assert {WEB_TEXT, PRIVATE_TEXT, API_TEXT, SMS_TEXT, PROGRESS_TEXT, HANDBACK_TEXT} <= set(bodies)
    assert a_person.id in {m.author_id for m in session.scalars(select(Message))}
    assert session.scalar(select(func.count(Notification.id)).where(Notification.template == messages.NOTICE)) >= 4

    # Every notice goes out: the first of each burst now, by the log backend; the rest after the window.
    log_senders = {channel: LogSender(tmp_path / "outbox.log", channel) for channel in Channel}
    assert dispatcher.run_once(session, now=utcnow(), channels=log_senders)["sent"] >= 2
    later = utcnow() + timedelta(seconds=app.config["MESSAGE_NOTIFY_BATCH_SECONDS"] + 1)
    assert dispatcher.run_once(session, now=later, channels={Channel.sms: twilio_sender,
                                                             Channel.email: smtp_sender})["sent"] >= 2

    sent = [s.body for s in fake_twilio.sent] + mail_texts(mailbox) + [m.original_content.decode("utf-8", "replace")
                                                                       for m in mailbox.messages]
    outbox_log = (tmp_path / "outbox.log").read_text()
    assert fake_twilio.sent and mailbox.messages and outbox_log
    assert any(f"New message on case {incident.ref}" in text for text in sent)
    assert any(f"/incidents/{incident.id}" in text for text in mail_texts(mailbox))  # a link to the case
    db.session.remove()
    dump = raw_dump(db.engine)
    assert leaks(dump, NEEDLES) == []
    assert caplog.records
    assert leaks(caplog.text.encode(), NEEDLES) == []
    assert leaks("\n".join([*sent, ack]).encode(), NEEDLES) == []
    assert leaks(outbox_log.encode(), NEEDLES) == []
