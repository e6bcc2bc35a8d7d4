"""`serve`, `worker` and `scheduler` stop on SIGINT and SIGTERM, even started with SIGINT ignored
(as under a pytest-xdist worker), and even with a provider call hanging (SHUTDOWN_GRACE_SECONDS)."""
from __future__ import annotations

import os
import signal
import socket
import threading

import pytest
from sqlalchemy import select

from solidarity.notify import outbox
from solidarity.notify.models import Delivery, Notification
from tests import processes
from tests.notify.fake_twilio import FakeTwilio
from tests.notify.workers import worker_env

# Generous: a loaded CI machine starts Python slowly. A command that ignores the signal never exits.
EXIT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database_url, tmp_path, **settings):
    env = {**os.environ, "SOLIDARITY_ENV": "testing", "SOLIDARITY_DATABASE_URL": database_url,
           "SOLIDARITY_INSTANCE_PATH": str(tmp_path), "SOLIDARITY_SMS_BACKEND": "log",
           "SOLIDARITY_EMAIL_BACKEND": "log"}
    env.update({f"SOLIDARITY_{key}": str(value) for key, value in settings.items()})
    return env


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command, ready", [(("worker", "--poll", "0.1"), "worker started"),
                                            (("scheduler",), "is active: performing steps"),
                                            (("serve",), "Running on")],
                         ids=["worker", "scheduler", "serve"])
def test_a_command_started_with_sigint_ignored_stops_on_the_signal(app, database_url, tmp_path, command, ready,
                                                                  signum):
    log = tmp_path / "process.log"
    if command[0] == "serve":
        command = (*command, "--port", str(free_port()))
    process = processes.start(_env(database_url, tmp_path), log, *command)
    try:
        processes.wait_for_line(log, ready, process=process)
        process.send_signal(signum)
        assert process.wait(timeout=EXIT) == 0, log.read_text()
    finally:
        processes.kill(process)
    assert "received: stopping" in log.read_text()


def test_a_send_hanging_at_the_provider_does_not_hold_the_worker(session, make, now, database_url, tmp_path):
    """The provider takes the message and never answers (TWILIO_TIMEOUT far away): the worker leaves
    after SHUTDOWN_GRACE_SECONDS, and the row in hand stays "sending" for its lease to recover as
    ambiguous (then email), as the delivery guarantees say."""
    user = make.user(make.org(), phone="+254712300001")
    user.notify_email = False
    outbox.enqueue(session, user, "match_request", now=now, ref="K7Q2MX", help_type="legal")
    session.commit()
    reached, release = threading.Event(), threading.Event()

    def hang(form):
        reached.set()
        release.wait(timeout=300)
    fake = FakeTwilio().start()
    fake.fault = hang
    log = tmp_path / "worker.log"
    env = worker_env(database_url, tmp_path, fake.base_url, TWILIO_TIMEOUT=600, SHUTDOWN_GRACE_SECONDS=1)
    worker = processes.start(env, log, "worker", "--poll", "0.1")
    try:
        assert reached.wait(timeout=EXIT), log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=EXIT) == 1, log.read_text()
    finally:
        release.set()
        processes.kill(worker)
        fake.stop()
    assert "not stopped within 1.0s; leaving now" in log.read_text()
    session.expire_all()
    assert session.scalar(select(Notification.status)) is Delivery.sending  # its lease decides, not a resend
