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
    # Percent-encoded, as access logs print query strings and paths; once or twice over.
    ("GET /search?phone=%2B254712345678 HTTP/1.1", "254712345678"),
    ("GET /search?phone=%252B254712345678 HTTP/1.1", "254712345678"),
    ("GET /search?phone=%2B254%20712%20345%20678 HTTP/1.1", "712"),
    ("GET /users/%2B254712345678/edit HTTP/1.1", "254712345678"),
    ("GET /apply?email=awa.ndiaye%40baobab.example HTTP/1.1", "awa.ndiaye"),
    ("GET /apply?email=awa%2Endiaye%2540baobab.example HTTP/1.1", "ndiaye"),
    (f"GET /x?token=sol%5F{TOKEN[4:]} HTTP/1.1", TOKEN[4:]),
    (f"GET {LINK.replace('/', '%2F')} HTTP/1.1", LINK[8:]),
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


def test_decoding_for_redaction_never_writes_a_control_character_into_the_log():
    # %0A decoded would let a request line forge a log line of its own.
    assert redact("GET /x?a=%0A127.0.0.1%20-%20admin HTTP/1.1") == "GET /x?a=%0A127.0.0.1 - admin HTTP/1.1"


def test_access_log_lines_are_redacted_in_werkzeug_and_gunicorn_formats(app, caplog):
    caplog.set_level(logging.INFO)
    request_line = "GET /apply?phone=%2B254712345678&email=awa.ndiaye%40baobab.example HTTP/1.1"
    # werkzeug's dev server: the message is formatted from the raw request line as an argument.
    logging.getLogger("werkzeug").info('127.0.0.1 - - [04/Dec/2026 18:00:00] "%s" %s %s', request_line, "200", "-")
    # gunicorn's access log: one mapping of atoms, formatted by access_log_format.
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s "%(f)s"',
                                              {"h": "10.0.0.1", "r": request_line, "s": "200",
                                               "f": "https://x.example/?next=%2F%2Fevil&p=00254712345678"})
    assert "254712345678" not in caplog.text and "ndiaye" not in caplog.text
    assert caplog.text.count("[phone …78]") == 3 and "[email]@baobab.example" in caplog.text


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
