"""SMS through Twilio's official SDK: the only module of ours that imports `twilio`.

Besides the sender it holds the two other things the webhooks need from the SDK (signature
checks and TwiML replies), so that no other module touches it.

Error classes (see channels/__init__.py for what each makes the dispatcher do):
  HTTP 429 / Twilio 20429 (too many requests), 5xx, a refused or timed-out *connection*: transient.
  21610 (the number texted STOP), 21211 (invalid "To"), 21614 (not a mobile number), other 4xx:
  permanent.
  A read timeout or a connection dropped after the request went out: ambiguous, since Twilio may
  have queued the message.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from solidarity.notify.channels import (
    AmbiguousError,
    BackendConfigError,
    OptedOutError,
    OutgoingMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from solidarity.notify.models import Channel

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
THROTTLED = 20429
OPTED_OUT_CODE = 21610
PERMANENT_CODES = {21610: "recipient opted out (STOP)", 21211: "invalid 'To' number",
                   21614: "'To' is not a mobile number", 21408: "region not enabled",
                   21612: "cannot route to this number"}
# The base of every backoff when Twilio throttles us: its documented guidance is to slow down, and
# a few seconds lets a burst drain without delaying an alert by much.
THROTTLE_MIN_DELAY = 2.0


class TwilioSender:
    def __init__(self, *, account_sid: str, auth_token: str, from_: str, api_base: str | None,
                 timeout: float, public_url: str, urgent_validity: int | None):
        if not (account_sid and auth_token and from_):
            raise BackendConfigError("SMS_BACKEND=twilio needs SOLIDARITY_TWILIO_ACCOUNT_SID, "
                                     "SOLIDARITY_TWILIO_AUTH_TOKEN and SOLIDARITY_TWILIO_FROM")
        # The SDK passes our timeout to requests for every call; without one a hung TCP connection
        # would hold the row in hand until its lease ran out.
        http_client = TwilioHttpClient(timeout=timeout, pool_connections=True)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        if api_base:
            # Each Twilio product is a Domain with its own base_url; the Messages API lives on the
            # `api` domain. Setting it here points the SDK at a fake or staging API without edge or
            # region rewriting (those only apply to *.twilio.com hosts).
            self.client.api.base_url = api_base.rstrip("/")
        self.from_ = from_
        self.status_callback = public_url.rstrip("/") + STATUS_CALLBACK_PATH
        self.urgent_validity = urgent_validity

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, channel: Channel, instance_path: str) -> TwilioSender:
        return cls(account_sid=config.get("TWILIO_ACCOUNT_SID") or "", auth_token=config.get("TWILIO_AUTH_TOKEN") or "",
                   from_=config.get("TWILIO_FROM") or "", api_base=config.get("TWILIO_API_BASE") or None,
                   timeout=float(config.get("TWILIO_TIMEOUT") or 10), public_url=config["PUBLIC_URL"],
                   urgent_validity=config.get("TWILIO_URGENT_VALIDITY") or None)

    def send(self, message: OutgoingMessage) -> Receipt:
        extra: dict[str, Any] = {}
        if message.urgent and self.urgent_validity:
            # An alert still queued at Twilio after this long is useless as an SMS; Twilio then
            # reports it failed (status callback) and the dispatcher falls back to email.
            extra["validity_period"] = int(self.urgent_validity)
        try:
            sent = self.client.messages.create(
                to=message.to, from_=self.from_, body=message.body,
                # The notification id lets a status callback find its row even when the worker
                # died before it could record Twilio's message SID.
                status_callback=f"{self.status_callback}?n={message.notification_id}", **extra)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify(exc.status, exc.code, _message(exc)) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientError("could not connect to Twilio in time", code="connect_timeout") from exc
        except requests.exceptions.Timeout as exc:
            raise AmbiguousError("Twilio did not answer in time; the message may have been queued",
                                 code="timeout") from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise TransientError("could not connect to Twilio", code="connect") from exc
            raise AmbiguousError("the connection to Twilio dropped mid-request", code="connection") from exc
        return Receipt(provider_id=sent.sid, provider_status=str(sent.status or "queued"))


def classify(status: int, code: int | None, text: str) -> Exception:
    if status == 429 or code == THROTTLED:
        return TransientError(f"throttled by Twilio: {text}", code=code or status, retry_after=THROTTLE_MIN_DELAY)
    if code == OPTED_OUT_CODE:
        return OptedOutError(PERMANENT_CODES[code], code=code)
    if code in PERMANENT_CODES:
        return PermanentError(PERMANENT_CODES[code], code=code)
    if status >= 500:
        return TransientError(f"Twilio error {status}: {text}", code=code or status)
    return PermanentError(f"Twilio refused the message ({status}): {text}", code=code or status)


_NUMBER = re.compile(r"\+?\d[\d ().-]{4,}\d")


def _message(exc: Exception) -> str:
    # Twilio's texts quote the 'To' number ("The 'To' number +2547... is not valid"); what we keep
    # ends up in last_error and on a coordinator's screen, so numbers are cut out.
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None) or ""
    first = str(text).splitlines()[0] if text else ""
    return _NUMBER.sub("•••", first)[:200]


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the TCP connection was refused or never opened, so nothing reached Twilio."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in ("NewConnectionError", "NameResolutionError", "ConnectionRefusedError"):
            return True
        reason = getattr(current, "reason", None)
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = reason if isinstance(reason, BaseException) else nested or current.__cause__ or current.__context__
    return False


# -- Inbound: signatures and replies ---------------------------------------------------------------

def signature_is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Check X-Twilio-Signature for a form POST to `url` (the public URL Twilio called)."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send: for tests, the fake Twilio and the benchmark."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def twiml_reply(text: str | None) -> str:
    """A TwiML document that answers the sender with `text`, or says nothing when it is None."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
