"""Start real `flask --app wsgi worker` processes against the test database and the fake Twilio."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
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


@dataclass
class Tally:
    """How a batch of SMS ended, against what the fake Twilio received, for the delivery guarantees:
    lost (reached by neither channel), duplicated (the same message by SMS more than once),
    uncertain (outcome unknown, failed as ambiguous, then sent by email) and of those, how many had
    in fact gone by SMS too (the person got it twice, once per channel)."""

    total: int = 0
    sent_once: int = 0
    lost: int = 0
    duplicated: int = 0
    uncertain_fallen_back: int = 0
    uncertain_also_by_sms: int = 0
    unfinished: int = 0

    def __str__(self) -> str:
        return (f"{self.total} SMS: {self.sent_once} sent once, {self.lost} lost, {self.duplicated} duplicated, "
                f"{self.uncertain_fallen_back} uncertain then sent by email ({self.uncertain_also_by_sms} of them "
                f"had gone by SMS too), {self.unfinished} unfinished")


def tally(session, sms_by_row: dict[str, list]) -> Tally:
    """`sms_by_row`: FakeTwilio.by_notification()."""
    from sqlalchemy import select

    from solidarity.notify.models import Channel, Delivery, Failure, Notification

    session.expire_all()
    rows = list(session.scalars(select(Notification)))
    fallbacks = {r.fallback_of_id: r for r in rows if r.fallback_of_id is not None}
    result = Tally()
    for row in (r for r in rows if r.fallback_of_id is None and r.channel is Channel.sms):
        result.total += 1
        by_sms = len(sms_by_row.get(str(row.id), []))
        result.duplicated += max(by_sms - 1, 0)
        fallback = fallbacks.get(row.id)
        if row.status in (Delivery.queued, Delivery.sending):
            result.unfinished += 1
        if row.status in (Delivery.sent, Delivery.delivered) and by_sms:
            result.sent_once += by_sms == 1
        elif row.status is Delivery.failed and row.failure is Failure.ambiguous and fallback is not None \
                and fallback.status is Delivery.sent:
            result.uncertain_fallen_back += 1
            result.uncertain_also_by_sms += by_sms > 0
        elif not by_sms and not (fallback is not None and fallback.status is Delivery.sent):
            result.lost += 1
    return result
