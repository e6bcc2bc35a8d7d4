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

import contextlib
import logging
import threading
import time

from flask import Blueprint, Response, current_app, g, request
from flask_limiter.util import get_remote_address

from solidarity import metrics
from solidarity.api import sms_commands
from solidarity.clock import utcnow
from solidarity.errors import DomainError, RateLimited, ValidationError
from solidarity.extensions import db, keyring
from solidarity.http import Allowance, check_allowances, spend_allowances
from solidarity.notify import messages
from solidarity.notify import once as notify_once
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
    """Every refused webhook passes here once, before anything else happens: counted (no label but
    the provider's name) and logged now and then."""
    metrics.webhook_refused("twilio")
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


def _commands() -> list[Allowance]:
    return [Allowance("SMS_RATE_LIMIT_PHONE", _sender_key(), "messages from this number")]


def _replies_only() -> list[Allowance]:
    return [Allowance("SMS_UNREAD_RATE_LIMIT_PHONE", "unread-" + _sender_key(), "messages from this number")]


def _may_reply() -> bool:
    """Whatever only earns a reply (junk, HELP, the "too many" answer itself) is paid from the
    looser allowance, so past both a flood costs us nothing."""
    try:
        spend_allowances(_replies_only())
    except RateLimited:
        return False
    return True


@bp.post("/sms")
def inbound_sms():
    """An SMS to our number: a reply to a request, STOP/START/HELP, a check-in or a report.

    The signature comes first, so a forged request spends nobody's allowance. Acted on once per
    MessageSid: Twilio's retry of it gets the first reply again and spends nothing (notify/once.py).
    Past the allowance the answer is still 200 with a TwiML reply (Twilio sends no reply to an
    error status): nothing was done, when to send again, and the network's emergency number.
    """
    _require_signature()
    now = utcnow()
    body = request.form.get("Body", "")
    sid = request.form.get("MessageSid")
    if sid and len(sid) > notify_once.SID_LENGTH:
        raise ValidationError("MessageSid", f"is longer than {notify_once.SID_LENGTH} characters")

    def command() -> str | None:
        spends = sms_commands.spends_allowance(body)
        allowances = _commands() if spends else _replies_only()
        try:
            check_allowances(allowances)
        except RateLimited as exc:
            if not spends or not _may_reply():
                return None  # a flood: silence, rather than paying for a reply to each message
            return messages.reply("limited", wait_seconds=exc.retry_after,
                                  contact=current_app.config["EMERGENCY_CONTACT"])
        reply = sms_commands.handle(db.session, request.form.get("From", ""), body, now=now)
        # Spent once done, so a message our own failure (a 500) left undone costs the sender nothing.
        # Simultaneous messages from one number can pass the limit by their number: only a real
        # phone, through Twilio, can send those, and each is still acted on once.
        with contextlib.suppress(RateLimited):
            spend_allowances(allowances)
        return reply
    # Twilio always sends a MessageSid; a signed request without one cannot be told from its repeats.
    return _twiml(notify_once.answer_once(db.session, sid, command, now=now) if sid else command())


@bp.post("/status")
def delivery_status():
    """Twilio's report on a message we sent (queued, sent, delivered, failed, undelivered)."""
    _require_signature()
    error_code = request.form.get("ErrorCode")
    notify.apply_status(db.session, provider_id=request.form.get("MessageSid") or None,
                        status=request.form.get("MessageStatus", ""), error_code=error_code,
                        notification_id=request.args.get("n"), now=utcnow(),
                        opted_out=(error_code or "").strip() == str(twilio_sms.OPTED_OUT_CODE))
    return Response(status=204)
