"""scheduler.py: three argument-free jobs over the domain functions, each in its own app context."""
from __future__ import annotations

import threading
from datetime import timedelta

from solidarity import liveness, scheduler
from solidarity.escalation import checkins
from solidarity.escalation.models import CheckIn
from solidarity.escalation.tick import tick
from tests.processes import wait_until


def test_jobs_carry_no_arguments_and_run_on_their_intervals(app):
    built = scheduler.build(app)
    jobs = {job.id: job for job in built.get_jobs()}
    assert set(jobs) == {"escalation.tick", "directory.freshness", "incidents.retention", "inbound_sms.retention"}
    assert all(job.args == () and job.kwargs == {} for job in jobs.values())
    assert jobs["escalation.tick"].trigger.interval == timedelta(seconds=app.config["ESCALATION_TICK_SECONDS"])
    assert {jobs[name].trigger.interval for name in scheduler.JOBS if name != "escalation.tick"} == {timedelta(days=1)}


def test_a_failing_job_is_logged_and_the_scheduler_goes_on(app, caplog):
    def broken(session, *, now):
        raise RuntimeError("database gone")

    assert scheduler.run_job(app, "broken", broken) is None
    assert "broken failed" in caplog.text
    assert scheduler.run_job(app, "escalation.tick", tick) == {}  # the next run works


def test_run_catches_up_with_a_first_tick_and_stops(app, make, session, now):
    org = make.org()
    checkin = checkins.request_checkins(session, make.admin_of(org), interval_hours=1, now=now - timedelta(hours=2))
    session.commit()
    stop = threading.Event()
    running = threading.Thread(target=scheduler.run, args=(app, stop))
    running.start()
    try:
        # Started long after the due time, the first tick reminds the organisation (one step, no alarm yet).
        wait_until(lambda: _reminded(session, checkin.id), 60, "the catch-up tick")
    finally:
        stop.set()
        running.join(timeout=60)
    assert not running.is_alive()
    assert liveness.holder_of(session, liveness.SCHEDULER) is None  # a clean stop gives the lease up


def _reminded(session, checkin_id) -> bool:
    session.rollback()
    return session.get(CheckIn, checkin_id, populate_existing=True).reminded_at is not None


def test_scheduler_once_command_runs_every_job(app):
    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == list(scheduler.JOBS)
