"""APScheduler wiring, and nothing else: which domain function runs how often.

Deadlines live in database rows (incident_needs.next_wave_at, checkins.next_step_at, offers'
confirmed_at, incidents' closed_at); the jobs only look at the clock and call the domain
functions, each in a fresh app context with its own session. Jobs take no arguments, so nothing
sensitive passes through the scheduler, and the in-memory job store holds nothing worth keeping:
a scheduler that restarts rebuilds its three jobs and its first tick catches up from the rows.
This is the only module that imports apscheduler (3.x).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from solidarity.clock import utcnow
from solidarity.escalation.freshness import check_directory
from solidarity.escalation.tick import tick
from solidarity.extensions import db
from solidarity.incidents.retention import erase_expired
from solidarity.notify import once as inbound_sms

logger = logging.getLogger("solidarity.scheduler")

DAILY = timedelta(days=1)


def run_job(app: Flask, name: str, job: Callable[..., object]) -> object:
    """Run `job(session, now=...)` once in a fresh app context; log its outcome, never raise."""
    with app.app_context():
        try:
            result = job(db.session, now=utcnow())
        except Exception:
            logger.exception("%s failed; it runs again at its next time", name)
            db.session.rollback()
            return None
        finally:
            db.session.remove()
    if result:
        logger.info("%s: %s", name, _describe(result))
    return result


def _describe(result: object) -> str:
    if isinstance(result, dict):
        return " ".join(f"{key}={value}" for key, value in sorted(result.items()) if value)
    return str(result)


JOBS: dict[str, Callable[..., object]] = {"escalation.tick": tick, "directory.freshness": check_directory,
                                          "incidents.retention": erase_expired,
                                          "inbound_sms.retention": inbound_sms.erase_expired}


def build(app: Flask, *, first_tick_at: datetime | None = None) -> BackgroundScheduler:
    """A scheduler with the tick every ESCALATION_TICK_SECONDS and the two daily jobs (not started).

    Daily jobs first run one minute after start: a process restarted in a loop by its supervisor
    does not run them on every start, and a long-stopped one still catches up within the minute.
    """
    scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={
        # A late or overlapping run is skipped, not queued: each run already does all that is due.
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    start = utcnow()
    seconds = float(app.config["ESCALATION_TICK_SECONDS"])
    for name, job in JOBS.items():
        every = timedelta(seconds=seconds) if name == "escalation.tick" else DAILY
        first = (first_tick_at or start) if name == "escalation.tick" else start + timedelta(minutes=1)
        scheduler.add_job(_bound(app, name, job), "interval", seconds=every.total_seconds(), id=name, name=name,
                          next_run_time=first)
    return scheduler


def _bound(app: Flask, name: str, job: Callable[..., object]) -> Callable[[], object]:
    def run() -> object:
        return run_job(app, name, job)
    run.__name__ = name.replace(".", "_")
    return run


def start_background(app: Flask) -> BackgroundScheduler:
    """Start the jobs in threads of this process (the all-in-one development server); the first
    tick runs at once. Call `.shutdown()` on the result to stop."""
    scheduler = build(app)
    scheduler.start()
    logger.info("scheduler started in the background: tick every %ss", app.config["ESCALATION_TICK_SECONDS"])
    return scheduler


def run(app: Flask, stop_event: threading.Event) -> None:
    """`flask --app wsgi scheduler`: catch up with one tick, then run the jobs until `stop_event`.

    A job in progress when the stop comes is finished first (its transaction commits or rolls back
    as a whole either way).
    """
    seconds = float(app.config["ESCALATION_TICK_SECONDS"])
    logger.info("scheduler starting: tick every %ss; catching up", seconds)
    run_job(app, "escalation.tick", tick)
    scheduler = build(app, first_tick_at=utcnow() + timedelta(seconds=seconds))
    scheduler.start()
    stop_event.wait()
    scheduler.shutdown(wait=True)
    logger.info("scheduler stopped")
