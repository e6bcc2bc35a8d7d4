"""Chaos run: 1,000 SMS on PostgreSQL through two `flask --app wsgi worker` processes, each killed
with SIGKILL twenty times at random moments and started again; then count what was lost, sent
twice, and uncertain-then-sent-by-email, against what the fake Twilio received.

Half the kills land at a random moment of the worker's run (mid-claim, mid-commit, mid-request,
idle); the other half inside the fake Twilio's handler after it accepted a message and before it
answers, which is the narrowest window: the provider has the message, the worker never learns it.
Each worker has its own fake Twilio, so a handler knows whose worker to kill.

    .venv/bin/python bench/chaos.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/solidarity_bench_chaos

The database in the URL is dropped and recreated. Goal (README, "Delivery guarantees"): 0 lost,
0 sent twice by SMS, and at most one message per kill uncertain (then sent by email).
"""
from __future__ import annotations

import argparse
import logging
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.notify_bench import empty, network  # noqa: E402
from solidarity import create_app  # noqa: E402
from solidarity.clock import utcnow  # noqa: E402
from solidarity.extensions import db  # noqa: E402
from solidarity.members.models import User  # noqa: E402
from solidarity.notify import outbox  # noqa: E402
from solidarity.notify.models import Delivery, Notification  # noqa: E402
from tests.databases import recreate_postgres  # noqa: E402
from tests.notify.fake_twilio import FakeTwilio  # noqa: E402
from tests.notify.workers import start_worker, tally, worker_env  # noqa: E402


class Slot:
    """One worker position: its fake Twilio, its current process, and the kills done to it."""

    def __init__(self, name: str, url: str, tmp: Path, delay: float, rng: random.Random):
        self.name, self.rng = name, rng
        self.fake = FakeTwilio().start()
        self.fake.fault = lambda form: time.sleep(delay)  # a provider call takes a little while
        self.fake.on_sent = self._on_sent
        self.env = worker_env(url, tmp, self.fake.base_url, NOTIFY_BATCH_SIZE=20, NOTIFY_CLAIM_LEASE_SECONDS=3,
                              NOTIFY_SEND_LEASE_SECONDS=3, NOTIFY_POLL_INTERVAL=0.1)
        self.log = tmp / f"{name}.log"
        self.process = start_worker(self.env, self.log)
        self.kills = {"random": 0, "after the provider accepted": 0}
        self.armed = threading.Event()
        self.killed = threading.Event()

    def _on_sent(self, sent) -> None:
        if self.armed.is_set():
            self.armed.clear()
            self.process.send_signal(signal.SIGKILL)  # before the 201 leaves: the worker never hears it
            self.kills["after the provider accepted"] += 1
            self.killed.set()

    def sent(self) -> int:
        return len(self.fake.sent)

    def kill_once(self, max_wait: float) -> bool:
        """Kill the current process once (at random, or in the handler) and start a new one."""
        before = self.sent()
        deadline = time.monotonic() + 120
        while self.sent() == before:  # this incarnation is sending
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        if self.rng.random() < 0.5:
            time.sleep(self.rng.uniform(0, max_wait))
            self.process.send_signal(signal.SIGKILL)
            self.kills["random"] += 1
        else:
            self.killed.clear()
            self.armed.set()
            if not self.killed.wait(timeout=60):
                self.armed.clear()
                return False
        self.process.wait(timeout=30)
        self.process = start_worker(self.env, self.log)
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.fake.stop()


def ended(session) -> bool:
    left = session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.status.in_([Delivery.queued, Delivery.sending])))
    session.rollback()
    return left == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per worker")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds the fake Twilio takes per message")
    parser.add_argument("--max-wait", type=float, default=0.6, help="latest random kill after a worker's first send")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("two workers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    recreate_postgres(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="chaos-"))
    app = create_app({"ENV": "testing", "DATABASE_URL": args.database_url, "INSTANCE_PATH": str(tmp)})
    rng = random.Random(args.seed)
    with app.app_context():
        session = db.session
        db.create_all()
        empty(session)
        network(session, responders=20)
        recipients = list(session.scalars(select(User).where(User.phone_index.is_not(None))))
        for user in recipients:
            user.notify_email = False  # SMS only: email is the fallback, never a sibling
        session.commit()
        now = utcnow()
        for n in range(args.messages):
            outbox.enqueue(session, recipients[n % len(recipients)], "match_request", now=now,
                           ref=f"K{n:04d}".replace("0", "C"), help_type="legal")
        session.commit()
        started = time.monotonic()
        slots = [Slot(f"worker-{n}", args.database_url, tmp, args.delay, random.Random(rng.random()))
                 for n in (1, 2)]
        try:
            def chaos(slot: Slot) -> None:
                for _ in range(args.kills):
                    if not slot.kill_once(args.max_wait):
                        return  # nothing left to send
            threads = [threading.Thread(target=chaos, args=(slot,)) for slot in slots]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            deadline = time.monotonic() + 600
            while not ended(session):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"messages still queued or sending after 10 minutes; logs in {tmp}")
                time.sleep(0.2)
            elapsed = time.monotonic() - started
        finally:
            for slot in slots:
                slot.stop()
        sms_by_row: dict[str, list] = {}
        for slot in slots:
            for row_id, sent in slot.fake.by_notification().items():
                sms_by_row.setdefault(row_id, []).extend(sent)
        result = tally(session, sms_by_row)
    kills = sum(sum(slot.kills.values()) for slot in slots)
    by_kind = {kind: sum(slot.kills[kind] for slot in slots) for kind in slots[0].kills}
    print(f"{args.messages} SMS, 2 workers, {kills} SIGKILLs ({', '.join(f'{n} {k}' for k, n in by_kind.items())}), "
          f"{elapsed:.0f} s")
    print(f"lost {result.lost}, duplicated {result.duplicated}, uncertain then sent by email "
          f"{result.uncertain_fallen_back} (of which had also gone by SMS: {result.uncertain_also_by_sms}), "
          f"sent once {result.sent_once}, unfinished {result.unfinished}")
    ok = result.lost == 0 and result.unfinished == 0 and result.duplicated + result.uncertain_also_by_sms <= kills
    print("goal met: 0 lost, at most one duplicate per kill" if ok else "GOAL MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
