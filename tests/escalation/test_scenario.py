"""The real processes: `flask --app wsgi scheduler` and `flask --app wsgi worker` against the test
database and a fake Twilio, with a wave interval of a few seconds.

An unanswered severity-4 incident reaches its second wave, the scheduler is killed with SIGKILL,
the third deadline passes while it is down, and the restarted scheduler alerts the coordinators:
no step is lost and none is done twice. Waits poll the database with a bound; nothing asserts time.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.incidents.models import NeedState, TimelineEntry
from solidarity.notify.models import Channel, Delivery, Notification
from tests.escalation.network import matches, need_of
from tests.notify.fake_twilio import FakeTwilio
from tests.notify.workers import ROOT, start_worker, worker_env

INTERVAL = 3  # seconds between waves
POLICY = {str(severity): {"wave_size": 1, "interval": INTERVAL, "max_waves": 2} for severity in (1, 2, 3, 4)}
PHONES = {"a": "+254711000001", "b": "+254711000002", "coordinator": "+254711000009"}


def wait_until(session, condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        session.expire_all()
        done = condition()
        session.rollback()  # never hold a snapshot (or a SQLite read lock) between polls
        if done:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def coordinator_alerts(session) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.template == "coordinator_alert")))


def start_scheduler(env: dict[str, str], log) -> subprocess.Popen:
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


def test_unanswered_incident_reaches_the_coordinators_across_a_scheduler_kill(app, make, session, database_url,
                                                                              tmp_path, fake_twilio, monkeypatch):
    monkeypatch.setitem(app.config, "ESCALATION_POLICY", POLICY)  # this process files the incident and wave 1
    reporter = make.admin_of(make.org(country="KE"))
    for key in ("a", "b"):
        make.offer(make.org(country="KE", phone=PHONES[key]), "legal", countries=["KE"])
    coordinator = make.coordinator()
    coordinator.phone = PHONES["coordinator"]
    session.commit()
    env = worker_env(database_url, tmp_path, fake_twilio.base_url, ESCALATION_POLICY=json.dumps(POLICY),
                     ESCALATION_TICK_SECONDS="0.5")

    processes = [start_worker(env, tmp_path / "worker.log", "--poll", "0.1"),
                 start_scheduler(env, tmp_path / "scheduler-1.log")]
    try:
        incident = make.incident(reporter, now=utcnow(), severity=4, needs=["legal"])
        need = need_of(incident)
        wait_until(session, lambda: need.wave == 2, "the second wave")
        processes[1].send_signal(signal.SIGKILL)
        processes[1].wait(timeout=10)

        # The last deadline passes while no scheduler runs: nothing may happen, nothing may be lost.
        wait_until(session, lambda: utcnow() > need.next_wave_at, "the last deadline")
        assert need.state is NeedState.seeking
        processes[1] = start_scheduler(env, tmp_path / "scheduler-2.log")

        wait_until(session, lambda: need.state is NeedState.exhausted, "the coordinators' alert")
        wait_until(session, lambda: all(n.status is Delivery.sent for n in coordinator_alerts(session)),
                   "the alert to be sent")
        wait_until(session, lambda: len(fake_twilio.sent) == 3, "three SMS (two waves, one alert)")

        processes[1].send_signal(signal.SIGTERM)
        assert processes[1].wait(timeout=20) == 0
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)

    session.expire_all()
    asked = matches(session, incident)
    assert sorted(m.wave for m in asked) == [1, 2]
    kinds = list(session.scalars(select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)))
    assert (kinds.count("wave"), kinds.count("exhausted"), kinds.count("coordinators_alerted")) == (1, 1, 1)
    assert {(n.channel, n.user_id) for n in coordinator_alerts(session)} == {(Channel.sms, coordinator.id),
                                                         (Channel.email, coordinator.id)}
    by_phone = {sent.to: sent.body for sent in fake_twilio.sent}
    assert sorted(by_phone) == sorted(PHONES.values())  # each reached exactly once
    assert incident.ref in by_phone[PHONES["a"]] and incident.ref in by_phone[PHONES["b"]]
    assert by_phone[PHONES["coordinator"]].startswith(f"Case {incident.ref} needs a coordinator")
