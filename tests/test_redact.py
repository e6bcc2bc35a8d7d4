"""Logs never hold phone numbers in full, tokens, signed links or email addresses (solidarity/redact.py)."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from solidarity import scheduler
from solidarity.notify import dispatcher
from solidarity.notify.models import Failure, Notification
from solidarity.redact import redact

PHONE = "+254712345678"
EMAIL = "awa.ndiaye@baobab.example"
TOKEN = "sol_" + "Zq3" * 14
LINK = "/answer/eyJtIjoiNDJhYmMifQ.Z2F0Zw.0123456789abcdefABCDEF_-xyz"


@pytest.mark.parametrize(("text", "hidden"), [
    (f"sms from {PHONE}", PHONE),
    ("sms from +254 712 345 678", "712 345"),
    ("call 00254712345678", "254712345678"),
    ("number 0712345678 refused", "0712345678"),
    (f"Authorization: Bearer {TOKEN}", TOKEN),
    (f"token={TOKEN}", TOKEN),
    ("Authorization: bearer abc.def-ghi", "abc.def-ghi"),
    (f'"GET {LINK}?x=1 HTTP/1.1" 200', LINK[8:]),
    ("signed eyJtIjoiNDJhYmMifQ.Z2F0Zw.0123456789abcdefABCDEF in text", "eyJtIjoiNDJhYmMifQ"),
    (f"mail to {EMAIL}", "awa.ndiaye"),
])
def test_redact_hides_what_it_must(text, hidden):
    assert hidden not in redact(text)


def test_redact_keeps_what_helps_debugging():
    text = ("at 2026-11-30 00:09:31.123 incident K7QF id 123e4567-e89b-12d3-a456-426614174000 "
            "from 127.0.0.1 port 5000 took 1234 ms; to +2547•••••678")
    assert redact(text) == text
    assert redact(f"to {PHONE}").endswith("…78]") and redact(EMAIL) == "[email]@baobab.example"


def test_every_logger_is_redacted_through_arguments_and_tracebacks(app, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("werkzeug").info('127.0.0.1 - - "GET %s HTTP/1.1" 200 -', LINK)
    logging.getLogger("gunicorn.error").warning("bad header Authorization: Bearer %s", TOKEN)
    try:
        raise ValueError(f"could not reach {PHONE} or {EMAIL}")
    except ValueError:
        logging.getLogger("some.library").exception("send failed")
    for secret in (LINK[8:], TOKEN, PHONE, EMAIL):
        assert secret not in caplog.text
    assert "ValueError: could not reach [phone …78]" in caplog.text  # the traceback is kept, redacted


def test_a_failed_notification_logs_the_providers_error_without_the_number(app, make, caplog):
    reporter = make.org(country="KE")
    make.offer(make.org(country="KE", phone=PHONE), "legal")
    make.incident(make.admin_of(reporter))
    row = make.session.scalars(select(Notification)).first()
    caplog.set_level(logging.WARNING, logger="solidarity.notify.dispatcher")
    dispatcher.fail(make.session, row, Failure.permanent,
                    f"Twilio 21610: Attempt to send to unsubscribed recipient {PHONE}", now=row.created_at)
    assert "unsubscribed recipient [phone …78]" in caplog.text and PHONE not in caplog.text


def test_a_failing_scheduled_job_logs_its_traceback_without_contacts(app, caplog):
    def broken(session, *, now):
        raise RuntimeError(f"SMTP refused {EMAIL}; SMS to {PHONE} failed")

    scheduler.run_job(app, "broken", broken)
    assert "broken failed" in caplog.text and "RuntimeError" in caplog.text
    assert PHONE not in caplog.text and EMAIL not in caplog.text
