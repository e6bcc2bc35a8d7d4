"""Twilio webhooks: inbound SMS and delivery status callbacks. CSRF-exempt; signatures checked instead.

Twilio signs each request with our auth token over the full URL it called and the form fields.
We recompute it against SOLIDARITY_PUBLIC_URL (never the Host header, which a client controls), so
a request that did not come from Twilio is refused with 403 before anything is read or written.

A refusal writes nothing at all: not an audit row (forgeries cost the forger nothing to send, so one
row each would let anyone flood the audit trail and, under load, fail into 500s), and not a
rate-limit hit against the sender number it claims (that would let a forger use up a real member's
SMS allowance). Refusals are logged at most once per WEBHOOK_REFUSAL_LOG_SECONDS per source address.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Blueprint, Response, current_app, g, request
from flask_limiter.util import get_remote_address

from solidarity.api import sms_commands
from solidarity.clock import utcnow
from solidarity.errors import DomainError
from solidarity.extensions import db, keyring, limiter
from solidarity.notify import service as notify
from solidarity.notify.channels import twilio_sms

# Registered with csrf.exempt in api.init_app: Twilio cannot send a CSRF token; the signature replaces it.
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")

SIGNATURE_HEADER = "X-Twilio-Signature"

logger = logging.getLogger(__name__)


class WebhookRefused(DomainError):
    """403 without the audit row that the Forbidden handler writes (see the module's docstring)."""

    status = 403


class RefusalLog:
    """Log refused requests at most once per interval per source, with how many were held back.

    Per process and in memory: a lost count on restart is harmless, and a write per refusal is
    what this exists to avoid. Bounded: past MAX_SOURCES the oldest quiet sources are forgotten.
    """

    MAX_SOURCES = 10_000

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.sources: dict[str, tuple[float, int]] = {}  # source -> (last logged at, refused since)

    def refused(self, source: str, interval: float) -> None:
        now = self.clock()
        with self.lock:
            logged_at, held = self.sources.get(source, (None, 0))
            if logged_at is not None and now - logged_at < interval:
                self.sources[source] = (logged_at, held + 1)
                return
            if len(self.sources) >= self.MAX_SOURCES:
                self.sources = {k: v for k, v in self.sources.items() if now - v[0] < interval}
            self.sources[source] = (now, 0)
        logger.warning("refused a Twilio webhook without a valid signature from %s (%d more held back since "
                       "the last such line)", source, held)


def refused_webhook(source: str) -> None:
    """Every refused webhook passes here once, before anything else happens: hook a counter here."""
    log = current_app.extensions.setdefault("solidarity.webhook_refusals", RefusalLog())
    log.refused(source, current_app.config["WEBHOOK_REFUSAL_LOG_SECONDS"])


def _public_url() -> str:
    url = current_app.config["PUBLIC_URL"].rstrip("/") + request.path
    query = request.query_string.decode("utf-8", "replace")
    return f"{url}?{query}" if query else url


def _signed() -> bool:
    """Whether Twilio signed this request; checked once per request (the rate-limit key asks first)."""
    if "twilio_signed" not in g:
        g.twilio_signed = twilio_sms.signature_is_valid(
            current_app.config.get("TWILIO_AUTH_TOKEN") or "", _public_url(), request.form.to_dict(),
            request.headers.get(SIGNATURE_HEADER))
    return g.twilio_signed


def _require_signature() -> None:
    if not _signed():
        refused_webhook(f"{get_remote_address()} {request.path}")
        raise WebhookRefused("missing or invalid Twilio signature", field=SIGNATURE_HEADER)


def _twiml(text: str | None) -> Response:
    return Response(twilio_sms.twiml_reply(text), mimetype="application/xml")


def _sender_key() -> str:
    """The verified sender's allowance. An unsigned request's From proves nothing, so it is kept
    apart: never counted (see _accepted), it is neither limited by nor able to spend a member's.
    A keyed digest: the limiter's storage (Redis in production) never holds a phone number."""
    if not _signed():
        return "sms-sender:unverified"
    return "sms-sender:" + keyring().blind_index("rate-limit-sms", request.form.get("From", ""))


def _accepted(response: Response) -> bool:
    # Only an answered message spends the allowance: not a refused signature (403), a limit reached
    # (429) or our own failure (500), which the sender did nothing to cause. Counted once answered,
    # so simultaneous messages from one number can pass the limit by their number: only a real
    # phone, through Twilio, can send those.
    return response.status_code < 400


@bp.post("/sms")
@limiter.limit(lambda: current_app.config["SMS_RATE_LIMIT_PHONE"], key_func=_sender_key,
               error_message="too many messages from this number; try again later", deduct_when=_accepted)
def inbound_sms():
    """An SMS to our number: a reply to a request, STOP/START/HELP, a check-in or a report."""
    _require_signature()
    reply = sms_commands.handle(db.session, request.form.get("From", ""), request.form.get("Body", ""),
                                now=utcnow())
    return _twiml(reply)


@bp.post("/status")
def delivery_status():
    """Twilio's report on a message we sent (queued, sent, delivered, failed, undelivered)."""
    _require_signature()
    notify.apply_status(db.session, provider_id=request.form.get("MessageSid") or None,
                        status=request.form.get("MessageStatus", ""), error_code=request.form.get("ErrorCode"),
                        notification_id=request.args.get("n"), now=utcnow())
    return Response(status=204)
