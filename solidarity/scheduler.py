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
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import DBAPIError

from solidarity import liveness
from solidarity.clock import utcnow
from solidarity.escalation.freshness import check_directory
from solidarity.escalation.tick import tick
from solidarity.extensions import db
from solidarity.incidents.retention import erase_expired
from solidarity.notify import once as inbound_sms

logger = logging.getLogger("solidarity.scheduler")

DAILY = timedelta(days=1)
_JOBS_OUTAGE = liveness.OutageLog(logger, "scheduled jobs")


def run_job(app: Flask, name: str, job: Callable[..., object]) -> object:
    """Run `job(session, now=...)` once in a fresh app context; log its outcome, never raise."""
    with app.app_context():
        try:
            result = job(db.session, now=utcnow())
        except DBAPIError as exc:
            _JOBS_OUTAGE.failed(exc)  # once a minute, not a traceback per tick
            return None
        except Exception:
            logger.exception("%s failed; it runs again at its next time", name)
            db.session.rollback()
            return None
        finally:
            db.session.remove()
    _JOBS_OUTAGE.succeeded()
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


def run(app: Flask, stop_event: threading.Event, *, holder: str | None = None) -> None:
    """`flask --app wsgi scheduler` (and `serve`'s scheduler thread): run the jobs while this process
    holds the scheduler lease, until `stop_event`.

    One scheduler performs steps at a time: the others stand by and look at the lease every third
    of a tick, so one takes over within one tick interval (ESCALATION_TICK_SECONDS) of the active
    one dying. The active one renews at that pace and beats the "scheduler" heartbeat as it does.
    On taking over it first catches up with one tick. A job in progress when the stop comes is
    finished first (its transaction commits or rolls back as a whole either way); a clean stop
    gives the lease up, so a standby takes over at its next look.
    """
    seconds = float(app.config["ESCALATION_TICK_SECONDS"])
    period = seconds / 3
    lease = timedelta(seconds=2 * period)  # taken over within lease + one look = one tick
    holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    outage = liveness.OutageLog(logger, "scheduler")
    logger.info("scheduler %s starting: tick every %ss", holder, seconds)
    while not stop_event.is_set():
        if _stand_by(app, holder, lease, period, stop_event, outage):
            _lead(app, holder, lease, period, stop_event, outage)
    logger.info("scheduler %s stopped", holder)


def _hold(app: Flask, holder: str, lease: timedelta, outage: liveness.OutageLog) -> bool | None:
    """Take or renew the lease: True if held, False if another scheduler has it, None if the
    database cannot be reached."""
    with app.app_context():
        try:
            held = liveness.hold_lease(db.session, liveness.SCHEDULER, holder, now=utcnow(), lease=lease)
        except DBAPIError as exc:
            outage.failed(exc)
            return None
        finally:
            db.session.remove()
    outage.succeeded()
    return held


def _stand_by(app: Flask, holder: str, lease: timedelta, period: float, stop_event: threading.Event,
              outage: liveness.OutageLog) -> bool:
    """Wait until this process holds the lease (True) or is told to stop (False)."""
    said = False
    while not stop_event.is_set():
        if _hold(app, holder, lease, outage):
            logger.info("scheduler %s is active: performing steps; catching up", holder)
            return True
        if not said:
            with app.app_context():
                try:
                    other = liveness.holder_of(db.session, liveness.SCHEDULER)
                except DBAPIError:
                    other = None
                finally:
                    db.session.remove()
            logger.info("scheduler %s standing by: %s holds the scheduler lease; taking over within %.1fs of "
                        "it stopping", holder, other or "another process", period * 3)
            said = True
        stop_event.wait(period)
    return False


def _lead(app: Flask, holder: str, lease: timedelta, period: float, stop_event: threading.Event,
          outage: liveness.OutageLog) -> None:
    """Run the jobs while the lease is renewed; stop them when it is lost or on `stop_event`."""
    held_until = time.monotonic() + lease.total_seconds()
    run_job(app, "escalation.tick", tick)
    scheduler = build(app, first_tick_at=utcnow() + timedelta(seconds=period * 3))
    scheduler.start()
    try:
        while not stop_event.wait(period):
            held = _hold(app, holder, lease, outage)
            if held:
                held_until = time.monotonic() + lease.total_seconds()
            elif held is False or time.monotonic() > held_until:
                # Another scheduler has it, or we could not renew in time and it may: stop at once.
                logger.warning("scheduler %s lost the lease; standing by", holder)
                return
    finally:
        scheduler.shutdown(wait=True)
        if stop_event.is_set():
            with app.app_context():
                try:
                    liveness.release_lease(db.session, liveness.SCHEDULER, holder)
                except DBAPIError:
                    pass  # it runs out by itself
                finally:
                    db.session.remove()
