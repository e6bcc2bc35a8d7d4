"""Notification dispatch benchmark: real `flask --app wsgi worker` processes, the real twilio SDK, a
local fake Twilio API, PostgreSQL.

1. Throughput: queue N SMS notifications at once and time 1, 2 and 4 workers until all are sent.
2. Latency: file incidents at a steady rate through incidents.service.file_incident (matching and
   outbox included) with one worker on default poll settings, and measure the time from each
   incident's commit to the fake Twilio accepting its first SMS.

    .venv/bin/python bench/notify_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/solidarity_bench_notify

The database named in the URL is dropped and recreated. Workers run with SOLIDARITY_ENV=testing
(fixed throwaway keys, cheap password hashing) so that this process and the workers share keys.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solidarity import create_app  # noqa: E402
from solidarity.clock import utcnow  # noqa: E402
from solidarity.extensions import db  # noqa: E402
from solidarity.incidents.service import IncidentDraft, file_incident  # noqa: E402
from solidarity.members import service as members  # noqa: E402
from solidarity.members.models import Role, User, Vetting  # noqa: E402
from solidarity.notify import outbox  # noqa: E402
from solidarity.notify.models import Delivery, Notification  # noqa: E402
from solidarity.offers import service as offers  # noqa: E402
from tests.databases import recreate_postgres  # noqa: E402
from tests.notify.fake_twilio import FakeTwilio  # noqa: E402
from tests.notify.workers import start_worker, worker_env  # noqa: E402

PASSWORD = "correct horse battery staple"


def empty(session) -> None:
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    session.commit()


def network(session, *, responders: int):
    """A coordinator, one reporting organisation and `responders` organisations offering legal help in KE."""
    now = utcnow()
    coordinator = members.create_coordinator(session, email="coord@bench.example", name="Coordinator",
                                             password=PASSWORD, now=now)

    def org(n: int, phone: str):
        created = members.register_organisation(
            session, {"name": f"Bench org {n}", "country": "KE", "languages": ["en"]},
            {"name": f"Admin {n}", "email": f"admin{n}@bench.example", "password": PASSWORD, "phone": phone},
            actor=None, now=now, proven_phone=True)  # invented numbers: nobody could answer a code
        members.set_vetting(session, coordinator, created, Vetting.vetted.value, now=now)
        return created

    reporter = org(0, "+254711000000")
    for n in range(1, responders + 1):
        responder = org(n, f"+2547110{n:05d}")
        admin = next(u for u in responder.users if u.role is Role.org_admin)
        offers.create_offer(session, admin, responder, {"help_type": "legal", "countries": ["KE"],
                                                        "languages": ["en"], "capacity": 100}, now=now)
    return next(u for u in reporter.users if u.role is Role.org_admin)


def wait_for_workers(log: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("worker started") < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers did not start; see {log}")
        time.sleep(0.1)


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)


def throughput(app, url: str, fake: FakeTwilio, tmp: Path, *, workers: int, messages: int) -> float:
    with app.app_context():
        session = db.session
        empty(session)
        network(session, responders=50)
        recipients = list(session.scalars(select(User).where(User.phone_index.is_not(None))))
        for user in recipients:
            user.notify_email = False
        session.commit()
        fake.sent.clear()
        log = tmp / f"throughput-{workers}.log"
        log.write_text("")
        env = worker_env(url, tmp, fake.base_url)
        processes = [start_worker(env, log) for _ in range(workers)]
        try:
            wait_for_workers(log, workers)
            now = utcnow()
            for n in range(messages):
                outbox.enqueue(session, recipients[n % len(recipients)], "match_request", now=now, ref="K7QFH",
                               help_type="legal")
            session.commit()
            started = time.monotonic()
            while True:
                done = session.scalar(select(func.count()).select_from(Notification)
                                      .where(Notification.status == Delivery.sent))
                session.rollback()
                if done >= messages:
                    break
                time.sleep(0.02)
            elapsed = time.monotonic() - started
        finally:
            stop(processes)
        assert len(fake.sent) == messages, (len(fake.sent), messages)
        return messages / elapsed


def latency(app, url: str, fake: FakeTwilio, tmp: Path, *, rate: float, duration: float) -> list[float]:
    with app.app_context():
        session = db.session
        empty(session)
        reporter = network(session, responders=20)
        first_sms: dict[str, float] = {}
        lock = threading.Lock()

        def on_sent(sent) -> None:
            ref = sent.body.split("case ", 1)[1].split(".", 1)[0] if "case " in sent.body else ""
            with lock:
                first_sms.setdefault(ref, sent.at)
        fake.on_sent = on_sent
        log = tmp / "latency.log"
        log.write_text("")
        processes = [start_worker(worker_env(url, tmp, fake.base_url), log)]  # default poll and batch
        filed: dict[str, float] = {}
        try:
            wait_for_workers(log, 1)
            count = int(rate * duration)
            started = time.monotonic()
            for n in range(count):
                pause = started + n / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                incident = file_incident(session, reporter, IncidentDraft(threat_type="raid", severity=3,
                                                                          country="KE", needs=["legal"]),
                                         now=utcnow())
                filed[incident.ref] = time.monotonic()
            late = time.monotonic() - started - duration
            deadline = time.monotonic() + 30
            while len(set(filed) & set(first_sms)) < len(filed) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            fake.on_sent = None
            stop(processes)
        missing = set(filed) - set(first_sms)
        if missing:
            raise RuntimeError(f"{len(missing)} incidents never got an SMS")
        if late > 1:
            print(f"  note: filing ran {late:.1f} s behind the schedule", file=sys.stderr)
        return sorted(first_sms[ref] - at for ref, at in filed.items())


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rate", type=float, default=10.0, help="incidents filed per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of filing")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the benchmark runs on PostgreSQL (several workers need FOR UPDATE SKIP LOCKED)")

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's access log would cost more than it
    recreate_postgres(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    # One reporting organisation files 600 incidents here: lift the per-organisation fan-out cap,
    # an abuse limit that would otherwise refuse the run after 300 requests for help.
    app = create_app({"ENV": "testing", "DATABASE_URL": args.database_url, "INSTANCE_PATH": str(tmp),
                      "FANOUT_MAX_MESSAGES": 10**9})
    with app.app_context():
        db.create_all()
    fake = FakeTwilio().start()
    try:
        print(f"Throughput: {args.messages} SMS queued at once, sent through the twilio SDK to a local fake")
        for workers in (int(w) for w in args.workers.split(",")):
            rate = throughput(app, args.database_url, fake, tmp, workers=workers, messages=args.messages)
            print(f"  {workers} worker(s): {rate:,.0f} messages/s")
        print(f"Latency: {args.rate:g} incidents/s for {args.duration:g} s, one worker, default poll settings")
        latencies = latency(app, args.database_url, fake, tmp, rate=args.rate, duration=args.duration)
        print(f"  incidents {len(latencies)}; filed -> first SMS accepted: median "
              f"{statistics.median(latencies) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
