"""`GET /healthz` and `GET /readyz`, for load balancers, orchestrators and monitoring.

/healthz: the process answers HTTP (no database access, so a database outage does not get every web
process restarted). /readyz: the database answers, its schema is at the migrations' head, the
outbox is being worked (age of the oldest due message) and the worker and the scheduler beat
(liveness.py). Both JSON, 200 or 503, without authentication: they say only ages, counts of
seconds and yes or no, never a name, a number or an error text. Thresholds: READY_* settings.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, g, jsonify, request
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from solidarity import liveness
from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.notify.models import Delivery, Notification

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and serving. Never touches the database."""
    return jsonify(status="alive")


@bp.get("/readyz")
def readyz():
    checks = readiness(db.session, now=utcnow(), config=current_app.config)
    failing = [name for name, check in checks.items() if not check["ok"]]
    response = jsonify(status="not ready" if failing else "ready", checks=checks,
                       errors=[{"field": name, "message": checks[name]["problem"]} for name in failing])
    response.status_code = 503 if failing else 200
    return response


def _heads() -> set[str]:
    """The migrations' head revision(s), read once per process (the files do not change while it runs)."""
    cached = current_app.extensions.get("solidarity.migration_heads")
    if cached is None:
        script = ScriptDirectory(current_app.extensions["migrate"].directory)
        cached = current_app.extensions["solidarity.migration_heads"] = set(script.get_heads())
    return cached


def _age(then: datetime | None, now: datetime) -> float | None:
    return None if then is None else round(max((now - then).total_seconds(), 0.0), 1)


def _limit(config, name: str) -> float | None:
    value = config.get(name)
    return float(value) if value else None  # 0 or None: that check is off


def readiness(session: Session, *, now: datetime, config) -> dict[str, dict[str, Any]]:
    """Each check: ok, a measurement and, when failing, the problem in plain words."""
    try:
        session.execute(text("SELECT 1"))
        current = set(MigrationContext.configure(session.connection()).get_current_heads())
        oldest_due = session.scalar(select(func.min(Notification.next_attempt_at))
                                    .where(Notification.status == Delivery.queued, Notification.next_attempt_at <= now))
        beats = dict(session.execute(select(liveness.Heartbeat.name, liveness.Heartbeat.beat_at)).all())
    except DBAPIError:
        session.rollback()
        down = {"ok": False, "problem": "the database cannot be reached"}
        return {"database": down, "migrations": down, "outbox": down, "worker": down, "scheduler": down}
    finally:
        session.rollback()  # read only; end the transaction
    checks: dict[str, dict[str, Any]] = {"database": {"ok": True}}
    at_head = current == _heads()
    checks["migrations"] = {"ok": at_head} if at_head else {
        "ok": False, "problem": "the database schema is not at the latest migration: run `flask --app wsgi db upgrade`"}
    checks["outbox"] = _within(_age(oldest_due, now), _limit(config, "READY_OUTBOX_MAX_AGE_SECONDS"),
                               "oldest_due_seconds", "messages wait longer than {limit:.0f}s to be sent", missing=None)
    for role, setting in ((liveness.WORKER, "READY_WORKER_HEARTBEAT_MAX_SECONDS"),
                          (liveness.SCHEDULER, "READY_SCHEDULER_HEARTBEAT_MAX_SECONDS")):
        checks[role] = _within(_age(beats.get(role), now), _limit(config, setting), "seconds_since_heartbeat",
                               f"no {role} heartbeat for more than {{limit:.0f}}s",
                               missing=f"no {role} has ever run against this database")
    return checks


def _within(age: float | None, limit: float | None, key: str, problem: str, *, missing: str | None) -> dict[str, Any]:
    """`age` against `limit`; no age at all is fine when `missing` is None (an empty outbox)."""
    check: dict[str, Any] = {key: age, "limit_seconds": limit, "ok": True}
    if limit is None:
        return check  # switched off
    if age is None and missing is not None:
        check.update(ok=False, problem=missing)
    elif age is not None and age > limit:
        check.update(ok=False, problem=problem.format(limit=limit))
    return check


def _as_anonymous() -> None:
    # Registered before every other hook, so a browser's session cookie on these paths is never
    # looked up (the sign-in checks, the security headers): /healthz must answer with the
    # database gone, and neither says anything that depends on who asks.
    if request.blueprint == bp.name:
        g._login_user = current_app.login_manager.anonymous_user()


@bp.after_request
def _never_cached(response):
    response.headers["Cache-Control"] = "no-store"  # a cached answer about health is a wrong one
    return response


def init_app(app: Flask) -> None:
    """Call before the web and API blueprints are registered (their hooks must come after ours)."""
    app.before_request(_as_anonymous)
    app.register_blueprint(bp)
