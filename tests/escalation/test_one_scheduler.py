"""Two real `flask --app wsgi scheduler` processes: one performs steps, the other stands by and
takes over when the first is killed with SIGKILL; no step is performed twice."""
from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import func, select

from solidarity.clock import utcnow
from solidarity.escalation import checkins
from solidarity.escalation.models import CheckIn
from solidarity.notify import outbox
from solidarity.notify.models import Notification
from tests import processes

TICK = 0.6  # seconds: the standby looks every 0.2 s, the lease lasts 0.4 s


def _env(database_url, tmp_path):
    return {**os.environ, "SOLIDARITY_ENV": "testing", "SOLIDARITY_DATABASE_URL": database_url,
            "SOLIDARITY_INSTANCE_PATH": str(tmp_path), "SOLIDARITY_ESCALATION_TICK_SECONDS": str(TICK)}


def _due_checkin(session, make) -> tuple[CheckIn, object]:
    """A check-in whose reminder fell due an hour ago: the next tick reminds the organisation, once."""
    admin = make.admin_of(make.org())
    checkin = checkins.request_checkins(session, admin, interval_hours=1, now=utcnow() - timedelta(hours=2))
    session.commit()
    return checkin, admin


def _reminded(session, checkin_id) -> bool:
    session.rollback()
    return session.get(CheckIn, checkin_id, populate_existing=True).reminded_at is not None


def _reminders(session, user) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.template == "checkin_due"))


def test_a_second_scheduler_stands_by_and_takes_over_after_a_kill(app, session, make, database_url, tmp_path):
    env = _env(database_url, tmp_path)
    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    first = processes.start(env, logs[0], "scheduler")
    second = None
    try:
        processes.wait_for_line(logs[0], "is active: performing steps", process=first)
        second = processes.start(env, logs[1], "scheduler")
        processes.wait_for_line(logs[1], "standing by", process=second)

        before, admin_before = _due_checkin(session, make)
        processes.wait_until(lambda: _reminded(session, before.id), 60, "the first scheduler's reminder")
        assert "escalation.tick:" in logs[0].read_text()
        assert "escalation.tick" not in logs[1].read_text() and "is active" not in logs[1].read_text()

        first.kill()  # SIGKILL: no chance to give the lease up
        first.wait(timeout=30)
        processes.wait_for_line(logs[1], "is active: performing steps", process=second)
        after, admin_after = _due_checkin(session, make)
        processes.wait_until(lambda: _reminded(session, after.id), 60, "the second scheduler's reminder")
    finally:
        processes.kill(*(p for p in (first, second) if p is not None))
    session.expire_all()
    for admin in (admin_before, admin_after):  # each step once: one reminder per channel of the person
        assert _reminders(session, admin) == len(outbox.channels_for(admin))
