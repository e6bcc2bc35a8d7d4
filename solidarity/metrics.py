"""Prometheus metrics: every series the service exports, defined here once.

Labels come from closed sets in our own code (an endpoint name from the URL map, a channel, an
outcome code), never from a request's path or body: no label can carry a person, a phone number,
an email address or incident text, and the number of series stays bounded.

Exposition: the web app serves them at /metrics behind METRICS_TOKEN (off while unset); the worker
and the scheduler on WORKER_METRICS_PORT / SCHEDULER_METRICS_PORT (off while 0). Under gunicorn with
several workers set PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode; README), so a
scrape sums every worker instead of seeing whichever one answered.
"""
from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import event
from sqlalchemy.orm import Session

CONTENT_TYPE = CONTENT_TYPE_LATEST
logger = logging.getLogger("solidarity.metrics")

HTTP_REQUESTS = Counter("solidarity_http_requests", "HTTP requests by route (endpoint name) and status",
                        ["endpoint", "method", "status"])
HTTP_DURATION = Histogram("solidarity_http_request_duration_seconds", "Time to answer an HTTP request, by route",
                          ["endpoint"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
INTAKE = Counter("solidarity_incidents_filed", "Incidents filed, by channel (web, api, sms)", ["channel"])
SENDS = Counter("solidarity_sends", "Notification send attempts by channel and outcome "
                "(sent, retry, failed, lost; unsendable: failed before any provider call)", ["channel", "outcome"])
PROVIDER_LATENCY = Histogram("solidarity_provider_latency_seconds", "Time of one provider call (Twilio, SMTP)",
                             ["channel"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30))
ESCALATION_STEPS = Counter("solidarity_escalation_steps", "Escalation and check-in steps performed, by outcome",
                           ["outcome"])
COORDINATOR_ALERTS = Counter("solidarity_coordinator_alerts", "Coordinator alerts raised, by reason", ["reason"])
CHECKIN_ALARMS = Counter("solidarity_checkin_alarms", "Check-ins missed: responders and coordinators alerted")
LOGIN_FAILURES = Counter("solidarity_login_failures", "Failed sign-ins, by step (password, second_factor)",
                         ["step"])
RATE_LIMIT_REFUSALS = Counter("solidarity_rate_limit_refusals", "Requests refused by a rate limit: by route (a 429), "
                              "or sms_fanout (an SMS report over the fan-out cap, answered 'not filed')", ["limit"])
WEBHOOK_REFUSALS = Counter("solidarity_webhook_signature_refusals",
                           "Webhook requests refused for a missing or wrong signature, by source", ["source"])

# Series that exist from the start at 0, so a dashboard or an alert rule sees them before the first event.
for _channel in ("web", "api", "sms"):
    INTAKE.labels(_channel)
for _channel in ("sms", "email"):
    PROVIDER_LATENCY.labels(_channel)
    for _outcome in ("sent", "retry", "failed", "lost", "unsendable"):
        SENDS.labels(_channel, _outcome)
for _step in ("password", "second_factor"):
    LOGIN_FAILURES.labels(_step)
WEBHOOK_REFUSALS.labels("twilio")
for _outcome in ("waves", "exhausted", "no_candidates", "held", "closed", "checkins_reminded", "checkins_missed",
                 "checkins_stopped", "errors"):
    ESCALATION_STEPS.labels(_outcome)
for _reason in ("exhausted", "no_candidates", "checkin_missed", "checkin_confirmed"):
    COORDINATOR_ALERTS.labels(_reason)


def webhook_refused(source: str) -> None:
    """A webhook request refused for its signature; `source` is the sender's fixed name ("twilio")."""
    WEBHOOK_REFUSALS.labels(source).inc()


# -- Counting only what was committed ------------------------------------------------------------------

_PENDING = "solidarity.metrics.pending"


def on_commit(session: Session, count: Callable[[], None]) -> None:
    """Run `count` (an increment) when the session's transaction commits; drop it on rollback, so a
    step that was rolled back and retried is counted once."""
    session.info.setdefault(_PENDING, []).append(count)


@event.listens_for(Session, "after_commit")
def _apply_pending(session: Session) -> None:
    for count in session.info.pop(_PENDING, []):
        count()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


# -- The outbox, read at scrape time ------------------------------------------------------------------

OutboxRow = tuple[str, int, int, datetime | None]  # channel, queued, due now, oldest due (next_attempt_at)


class OutboxCollector:
    """Outbox depth and lateness, computed when scraped with one query (`read(now)`)."""

    def __init__(self, read: Callable[[], tuple[datetime, Iterable[OutboxRow]]]):
        self.read = read

    def collect(self):
        queued = GaugeMetricFamily("solidarity_outbox_queued", "Notifications waiting to be sent (due or backing off)",
                                   labels=["channel"])
        due = GaugeMetricFamily("solidarity_outbox_due", "Notifications due now and not yet sent", labels=["channel"])
        oldest = GaugeMetricFamily("solidarity_outbox_oldest_due_age_seconds",
                                   "How long the oldest due notification has been waiting (0 when none)",
                                   labels=["channel"])
        try:
            now, rows = self.read()
        except Exception:  # noqa: BLE001 - the database is down: the rest of the scrape still answers
            logger.exception("outbox metrics unavailable for this scrape")
            return
        seen = {row[0]: row for row in rows}
        for channel in ("sms", "email"):
            _, total, due_now, oldest_at = seen.get(channel, (channel, 0, 0, None))
            queued.add_metric([channel], total)
            due.add_metric([channel], due_now)
            oldest.add_metric([channel], max((now - oldest_at).total_seconds(), 0.0) if oldest_at else 0.0)
        yield from (queued, due, oldest)


class _Default:
    """This process's own metrics (the default registry), for a scrape registry built per request."""

    def collect(self):
        return REGISTRY.collect()


def scrape_registry(*collectors) -> CollectorRegistry:
    """What one scrape exposes: this process's metrics, or in multiprocess mode every gunicorn
    worker's (summed from PROMETHEUS_MULTIPROC_DIR), plus collectors computed now."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Default())
    for collector in collectors:
        registry.register(collector)
    return registry


def render(*collectors) -> bytes:
    return generate_latest(scrape_registry(*collectors))


def token_matches(expected: str | None, authorization: str | None) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; never true while unset."""
    if not expected or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def serve(port: int, address: str, *collectors):
    """Expose this process's metrics on http://address:port/metrics (worker, scheduler) in a
    daemon thread. Returns (server, thread); `server.shutdown()` stops it."""
    from prometheus_client import start_http_server

    return start_http_server(port, addr=address, registry=scrape_registry(*collectors))
