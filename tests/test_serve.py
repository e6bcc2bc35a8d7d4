"""`flask --app wsgi serve`, the quick start's server: pages, API and the notification worker in one process."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

from solidarity.crypto import generate_master_key, generate_secret
from solidarity.notify import outbox
from tests import processes

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _get(url: str):
    try:
        with urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except OSError:
        return None


def test_serve_answers_pages_and_sends_queued_messages(session, make, now, database_url, tmp_path):
    user = make.admin_of(make.org())
    outbox.enqueue(session, user, "incident_status", now=now, ref="K7Q2MX", status="resolved")
    session.commit()
    port = _free_port()
    env = {**os.environ, "SOLIDARITY_ENV": "testing", "SOLIDARITY_DATABASE_URL": database_url,
           "SOLIDARITY_INSTANCE_PATH": str(tmp_path), "SOLIDARITY_SMS_BACKEND": "log",
           "SOLIDARITY_EMAIL_BACKEND": "log"}
    # Started with SIGINT ignored, as a pytest-xdist worker starts it: Ctrl-C must still stop it.
    server = processes.start(env, tmp_path / "serve.log", "serve", "--port", str(port))
    try:
        status, body = _wait_for(lambda: _get(f"http://127.0.0.1:{port}/login"), "the login page")
        assert status == 200 and "csrf_token" in body
        sent = tmp_path / "outbox.log"
        log = _wait_for(lambda: sent.exists() and "K7Q2MX" in sent.read_text() and sent.read_text(),
                        "the queued message in the outbox log")
        assert log.count("K7Q2MX") == 2  # one SMS and one email: the user has both channels
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0
    finally:
        processes.kill(server)


def test_serve_refuses_production(tmp_path):
    env = {**os.environ, "SOLIDARITY_ENV": "production", "SOLIDARITY_INSTANCE_PATH": str(tmp_path),
           "SOLIDARITY_SECRET_KEY": "x" * 40, "SOLIDARITY_PUBLIC_URL": "https://solidarity.example",
           "SOLIDARITY_ENCRYPTION_KEYS": generate_master_key(), "SOLIDARITY_BLIND_INDEX_KEY": generate_secret()}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "serve"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "development server" in done.stderr and "gunicorn" in done.stderr
