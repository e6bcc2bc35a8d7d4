"""Fixtures for notification tests: a fake Twilio API, a local SMTP server, scripted channels."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from solidarity.notify.channels import Receipt
from solidarity.notify.channels.smtp_email import SmtpSender
from solidarity.notify.channels.twilio_sms import TwilioSender
from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio

PUBLIC_URL = "https://solidarity.example"


class Recorder:
    """A channel twin that records messages and, when given errors, raises them in turn."""

    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.sent = []

    def send(self, message):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)
        return Receipt(provider_id=f"rec-{len(self.sent)}")


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def twilio_sender(fake_twilio):
    return TwilioSender(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_=FROM, api_base=fake_twilio.base_url,
                        timeout=0.5, public_url=PUBLIC_URL, urgent_validity=600)


@pytest.fixture
def twilio_settings(app, monkeypatch):
    """The app as it runs with Twilio: signatures are checked against this token and public URL."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    return app.config


class Mailbox:
    def __init__(self):
        self.messages = []
        self.refuse_with: str | None = None  # e.g. "550 5.1.1 no such user"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def smtp_sender(smtp_server):
    controller, _ = smtp_server
    return SmtpSender(host="127.0.0.1", port=controller.port, username=None, password=None, starttls=False,
                      from_="Solidarity <alerts@solidarity.example>", timeout=5)
