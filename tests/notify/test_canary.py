"""Canaries: distinct secret strings written into every sensitive field through the API and the SMS
webhook, then a whole incident run through matching, all three notification backends (log file,
the real Twilio SDK against a fake Twilio, real smtplib against a local SMTP server), escalation
waves, coordinator alerts, an answer by SMS, a reveal, notes and a lockdown. Afterwards no canary
may appear, plain or encoded (tests/rawdb.py), in the raw database (SQLite file and WAL, or a
pg_dump), in anything logged (as text or JSON), in any SMS or email sent, or in a metrics scrape.
"""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest

from solidarity.clock import utcnow
from solidarity.escalation.tick import tick
from solidarity.extensions import db
from solidarity.incidents import lockdown
from solidarity.logs import RedactingJsonFormatter
from solidarity.members import phones
from solidarity.members import service as members
from solidarity.members.models import User
from solidarity.notify import dispatcher
from solidarity.notify.channels.log import LogSender
from solidarity.notify.models import Channel
from tests.factories import bearer
from tests.notify.sms import reply_text, text_message
from tests.notify.test_end_to_end import mail_texts
from tests.rawdb import leaks, raw_dump

ADMIN = {"email": "canary-admin-q7x2@tumaini.example", "phone": "+254711830472"}
CONTACT = {"email": "canary-contact-w9k4@tumaini.example", "phone": "+254722610935"}
UNKNOWN_SENDER = "+254733519284"
SUMMARY = "CanarySummary: soldiers at the Tumaini office, gate 4417"
DETAILS = "CanaryDetails: director Wanjiku Mwangi held at Kilimani station cell 9"
NOTE = "CanaryNote: lawyer Otieno Achieng reachable through cousin 5530"
STATUS_NOTE = "CanaryStatusNote: moved the files to Amani's flat 2261"
SMS_WORD = "Xylophant83"  # typed in an SMS report: reports keep no free text
UNKNOWN_TEXT = "CanaryStranger Qorvath from the ministry"
ORG_NAME = "Tumaini Canary Rights Watch"
ADMIN_NAME = "Nyokabi Canarywanjiru"  # a person's name: in the timeline of everything they do below
CONTACT_NAME = "Baraka Canaryotieno"

NEEDLES = [ADMIN["email"], "canary-admin-q7x2", ADMIN["phone"], ADMIN["phone"][1:], "711830472",
           CONTACT["email"], "canary-contact-w9k4", CONTACT["phone"], CONTACT["phone"][1:], "722610935",
           UNKNOWN_SENDER, UNKNOWN_SENDER[1:], "733519284",
           SUMMARY, "gate 4417", DETAILS, "Wanjiku Mwangi", "Kilimani station", NOTE, "Otieno Achieng",
           STATUS_NOTE, "Amani's flat", SMS_WORD, SMS_WORD.upper(), SMS_WORD.lower(), UNKNOWN_TEXT, "Qorvath",
           ORG_NAME, "Tumaini Canary", ADMIN_NAME, "Canarywanjiru", CONTACT_NAME, "Canaryotieno"]


@pytest.fixture
def short_waves(app, monkeypatch):
    """One responder per wave, two waves, an hour apart: escalation and coordinator alerts happen."""
    monkeypatch.setitem(app.config, "ESCALATION_POLICY", {
        severity: {"wave_size": 1, "interval": timedelta(hours=1), "max_waves": 2} for severity in (1, 2, 3, 4)})


@pytest.mark.usefixtures("short_waves", "twilio_settings")
def test_no_canary_reaches_storage_logs_or_messages(app, client, session, make, caplog, tmp_path, fake_twilio,
                                                     twilio_sender, smtp_server, smtp_sender):
    caplog.set_level(logging.DEBUG)
    _, mailbox = smtp_server
    log_senders = {channel: LogSender(tmp_path / "outbox.log", channel) for channel in Channel}
    real_senders = {Channel.sms: twilio_sender, Channel.email: smtp_sender}
    coordinator = bearer(make.token(make.coordinator()))
    responders = [make.org(f"Responder {n}", country="KE", phone=f"+25471200{n:04d}") for n in (1, 2)]
    for org in responders:
        make.offer(org, "legal")

    # -- Written through the API: the organisation, its people and their contacts, an incident.
    org = client.post("/api/v1/organisations", headers=coordinator, json={
        "name": ORG_NAME, "country": "KE", "languages": ["sw", "en"],
        "admin": {"name": ADMIN_NAME, "email": ADMIN["email"], "phone": ADMIN["phone"]}})
    assert org.status_code == 201, org.json
    org_id = org.json["id"]
    assert client.patch(f"/api/v1/organisations/{org_id}", headers=coordinator,
                        json={"vetting_status": "vetted"}).status_code == 200
    contact = client.post(f"/api/v1/organisations/{org_id}/users", headers=coordinator, json={
        "name": CONTACT_NAME, "email": CONTACT["email"], "phone": CONTACT["phone"], "role": "member"})
    assert contact.status_code == 201, contact.json
    # The contact proves the number by replying with the code texted to it (members/phones.py).
    claim = phones.open_claim(session, session.get(User, uuid.UUID(contact.json["id"])), now=utcnow())
    confirmed = reply_text(text_message(client, CONTACT["phone"], phones.code_for(claim)))
    assert confirmed == "This number is confirmed. Thank you."
    reporter = bearer(make.token(members.find_user_by_email(session, ADMIN["email"])))
    filed = client.post("/api/v1/incidents", headers=reporter, json={
        "threat_type": "raid", "severity": 2, "country": "KE", "needs": ["legal"], "summary": SUMMARY,
        "details": DETAILS, "disclosure": ["summary", "details", "contact"],
        "contact_user_id": contact.json["id"]})
    assert filed.status_code == 201, filed.json
    incident = filed.json
    assert client.patch(f"/api/v1/incidents/{incident['id']}", headers=reporter,
                        json={"note": NOTE}).status_code == 200

    # -- Through the SMS webhook: a report from the contact's phone, and a stranger's text.
    assert reply_text(text_message(client, CONTACT["phone"], f"RAID {SMS_WORD} HELP LEGAL")).startswith(
        "Report received")
    assert reply_text(text_message(client, UNKNOWN_SENDER, UNKNOWN_TEXT)) == "Message received."

    # -- Wave 1 through the log backend; the escalation's wave 2 and the alerts through Twilio and SMTP.
    filed_at = utcnow()  # the API and the webhook stamp rows with the wall clock
    assert dispatcher.run_once(session, now=filed_at, channels=log_senders)["sent"] >= 2
    later = filed_at + timedelta(hours=1, minutes=1)
    assert tick(session, now=later)["waves"] == 2
    assert dispatcher.run_once(session, now=later, channels=real_senders)["sent"] >= 2
    asked = [s for s in fake_twilio.sent if incident["ref"] in s.body]
    assert asked, "the second wave was asked by SMS"
    answer = reply_text(text_message(client, asked[0].to, f"YES {incident['ref']}"))
    assert answer.startswith("Thank you"), answer
    helper = next(u for u in members.find_users_by_phone(session, asked[0].to))
    shown = client.get(f"/api/v1/incidents/{incident['id']}", headers=bearer(make.token(helper)))
    assert shown.json["details"] == DETAILS  # the canaries are really stored and readable, so their absence counts
    own = client.get(f"/api/v1/incidents/{incident['id']}", headers=reporter).json
    assert own["contact"]["name"] == CONTACT_NAME and own["organisation"]["name"] == ORG_NAME
    assert ADMIN_NAME in {entry["actor"] for entry in own["timeline"]}  # the timeline names who acted
    assert client.patch(f"/api/v1/incidents/{incident['id']}", headers=reporter,
                        json={"status": "resolved", "note": STATUS_NOTE}).status_code == 200
    tick(session, now=later + timedelta(hours=1, minutes=1))  # the SMS report's last wave: coordinators alerted
    # A lockdown tells the responder at work to wait (its message goes out below).
    lockdown.lock_down(session, make.coordinator(), members.find_user_by_email(session, ADMIN["email"]).organisation,
                       now=later)
    dispatcher.run_once(session, now=utcnow() + timedelta(hours=3), channels=real_senders)

    # -- Search everything that left the application or stays behind.
    sent = [s.body for s in fake_twilio.sent] + mail_texts(mailbox) + [m.original_content.decode("utf-8", "replace")
                                                                       for m in mailbox.messages]
    outbox_log = (tmp_path / "outbox.log").read_text()
    assert fake_twilio.sent and mailbox.messages and outbox_log
    db.session.remove()
    dump = raw_dump(db.engine)
    assert incident["ref"].encode() in dump  # the dump does see the incident's rows
    assert leaks(dump, NEEDLES) == []
    assert caplog.records  # the run logs (dispatches, escalation, SMS): the search below is not vacuous
    assert leaks(caplog.text.encode(), NEEDLES) == []
    assert leaks("\n".join(sent).encode(), NEEDLES) == []
    assert leaks(outbox_log.encode(), NEEDLES) == []

    # -- A metrics scrape after the whole run, and the run's log lines in JSON: no label, no field.
    app.config["METRICS_TOKEN"] = "canary-run-metrics-token-5f2e9a"
    try:
        scrape = client.get("/metrics", headers={"Authorization": "Bearer canary-run-metrics-token-5f2e9a"})
    finally:
        app.config["METRICS_TOKEN"] = None
    assert b'solidarity_incidents_filed_total{channel="sms"}' in scrape.data
    assert b'solidarity_sends_total{channel="sms",outcome="sent"}' in scrape.data
    assert leaks(scrape.data, NEEDLES) == []
    as_json = RedactingJsonFormatter()
    assert leaks("\n".join(as_json.format(record) for record in caplog.records).encode(), NEEDLES) == []
