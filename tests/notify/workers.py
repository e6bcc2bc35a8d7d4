"""Start real `flask --app wsgi worker` processes against the test database and the fake Twilio."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.notify.conftest import PUBLIC_URL
from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM

ROOT = Path(__file__).resolve().parents[2]


def worker_env(database_url: str, instance: Path, twilio_base: str, **settings: object) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SOLIDARITY_ENV": "testing", "SOLIDARITY_DATABASE_URL": database_url,
        "SOLIDARITY_INSTANCE_PATH": str(instance), "SOLIDARITY_PUBLIC_URL": PUBLIC_URL,
        "SOLIDARITY_SMS_BACKEND": "twilio", "SOLIDARITY_EMAIL_BACKEND": "log",
        "SOLIDARITY_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "SOLIDARITY_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SOLIDARITY_TWILIO_FROM": FROM, "SOLIDARITY_TWILIO_API_BASE": twilio_base,
        "SOLIDARITY_TWILIO_TIMEOUT": "2",
    })
    env.update({f"SOLIDARITY_{key}": str(value) for key, value in settings.items()})
    return env


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT)
