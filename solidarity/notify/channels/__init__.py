"""Channel adapters: one small interface, a registry keyed by the SMS_BACKEND / EMAIL_BACKEND settings.

Every adapter turns a rendered OutgoingMessage into a Receipt or raises one of three errors, and
the dispatcher's retry policy is decided by that class alone:

- TransientError: nothing was delivered and trying again later may work (throttling, 5xx, a
  refused connection). Retried with backoff, then the other channel.
- PermanentError: the provider refused this message for good (bad number, opted out). Not
  retried; the other channel is tried at once.
- OptedOutError, a PermanentError: the recipient unsubscribed at the provider (Twilio 21610,
  they texted STOP to our number). Remembered on the account as a STOP is, so later messages
  go straight to the other channel.
- AmbiguousError: the message may or may not have gone out (a read timeout after the request
  was sent). Never resent on the same channel; the other channel is tried.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from solidarity.notify.models import Channel


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: str
    to: str  # E.164 phone number or email address
    body: str  # SMS text, or the plain-text part of an email
    subject: str | None = None
    html: str | None = None
    urgent: bool = False  # an alert that is useless late (Twilio validity period)
    language: str = "en"


@dataclass(frozen=True)
class Receipt:
    provider_id: str | None
    provider_status: str = "sent"


class DeliveryError(Exception):
    """Raised by an adapter; `detail` is safe to store and show (no message body, no full address)."""

    def __init__(self, detail: str, *, code: str | int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.code is not None else self.detail


class TransientError(DeliveryError):
    def __init__(self, detail: str, *, code: str | int | None = None, retry_after: float | None = None):
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    pass


class OptedOutError(PermanentError):
    pass


class AmbiguousError(DeliveryError):
    pass


class Sender(Protocol):
    """What the dispatcher needs of a channel adapter."""

    def send(self, message: OutgoingMessage) -> Receipt: ...


# Adapters are imported by name only when chosen, so `log` never loads twilio or opens sockets.
SMS_BACKENDS = {"log": "solidarity.notify.channels.log:LogSender",
                "twilio": "solidarity.notify.channels.twilio_sms:TwilioSender"}
EMAIL_BACKENDS = {"log": "solidarity.notify.channels.log:LogSender",
                  "smtp": "solidarity.notify.channels.smtp_email:SmtpSender"}


class BackendConfigError(RuntimeError):
    """A channel setting names an unknown backend or misses a value the backend needs."""


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def build_senders(config: Mapping[str, Any], instance_path: str) -> dict[Channel, Sender]:
    """One adapter per channel, as the settings choose. Called once per worker process."""
    senders: dict[Channel, Sender] = {}
    for channel, setting, table in ((Channel.sms, "SMS_BACKEND", SMS_BACKENDS),
                                    (Channel.email, "EMAIL_BACKEND", EMAIL_BACKENDS)):
        name = str(config.get(setting) or "log").lower()
        if name not in table:
            raise BackendConfigError(f"SOLIDARITY_{setting} must be one of {', '.join(table)}, not {name!r}")
        senders[channel] = _load(table[name]).from_config(config, channel=channel, instance_path=instance_path)
    return senders
