"""Intake benchmark (issue 17): `POST /api/v1/incidents` with two needs, the real app against a
floor (bench/floor_app.py: validate JSON, one INSERT, commit), each under gunicorn with 2 sync
workers on the same database, driven by wrk with the same load, rounds interleaved.

    .venv/bin/python bench/intake_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/solidarity_bench_intake
    # options: --rounds 3 --duration 15 --connections 8

The database in the URL is dropped and recreated and loaded with the demo network; the reporter is
a member's bearer token. The app runs with SOLIDARITY_ENV=testing (throwaway keys) and with the
abuse limits and the fan-out cap lifted, as the load is one organisation filing hundreds a second.
Prints req/s, p50, p99, non-2xx and peak worker RSS (VmHWM) per service and round, the medians and
the ratio of Solidarity to the floor; then checks that every notified request has its outbox rows.
Needs wrk (Debian: apt-get install wrk).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solidarity import create_app  # noqa: E402
from solidarity.clock import utcnow  # noqa: E402
from solidarity.demo import load  # noqa: E402
from solidarity.extensions import db  # noqa: E402
from solidarity.matching.models import Match, MatchStatus  # noqa: E402
from solidarity.members import auth  # noqa: E402
from solidarity.members.models import Role, User  # noqa: E402
from solidarity.notify.models import Notification  # noqa: E402
from tests.databases import recreate_postgres  # noqa: E402

LIFTED = {"RATELIMIT_ENABLED": "false", "FANOUT_MAX_MESSAGES": "1000000000"}
LUA = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str, instance: Path) -> tuple[str, str]:
    """The demo network and a member's token; returns (token, body)."""
    os.environ.update({"SOLIDARITY_ENV": "testing", "SOLIDARITY_DATABASE_URL": url,
                       "SOLIDARITY_INSTANCE_PATH": str(instance)})
    app = create_app()
    with app.app_context():
        db.create_all()
        load(db.session, now=utcnow())
        db.session.commit()
        member = db.session.scalars(select(User).where(User.role == Role.org_admin).order_by(User.created_at)).first()
        token = auth.create_token(db.session, member, name="bench", now=utcnow())
        db.session.commit()
        body = json.dumps({"threat_type": "raid", "severity": 3, "country": member.organisation.country,
                           "needs": ["legal", "communications"], "summary": "Office raided; two staff held"})
    return token, body


def start(target: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level",
                                "warning", target], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nowhere", timeout=1)
        except urllib.error.HTTPError:
            return process  # it answers (404 or 405)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{target} did not start; see {log}")


def workers_of(master: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def peak_rss_mib(pids: list[int]) -> float:
    peaks = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return max(peaks)


def ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def drive(port: int, script: Path, *, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}/api/v1/incidents"], capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": ms(re.search(r"\s50%\s+(\S+)", out).group(1)), "p99": ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    url = recreate_postgres(args.database_url) if args.database_url.startswith("postgresql") else args.database_url
    tmp = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    token, body = prepare(url, tmp)
    script = tmp / "post.lua"
    script.write_text(LUA.format(body=body, token=token))
    env = dict(os.environ, **{f"SOLIDARITY_{k}": v for k, v in LIFTED.items()})
    services = {"floor": start("bench.floor_app:app", free_port(), env, tmp / "floor.log"),
                "solidarity": start("wsgi:app", free_port(), env, tmp / "solidarity.log")}
    ports = {name: int(proc.args[proc.args.index("-b") + 1].rsplit(":", 1)[1]) for name, proc in services.items()}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in services}
    try:
        for round_ in range(1, args.rounds + 1):
            for name in services:  # interleaved: the floor, then Solidarity, in each round
                figures = drive(ports[name], script, duration=args.duration, connections=args.connections)
                figures["rss"] = peak_rss_mib(workers_of(services[name]))
                results[name].append(figures)
                print(f"round {round_} {name:10} {figures['rps']:8.1f} req/s  p50 {figures['p50']:7.1f} ms  "
                      f"p99 {figures['p99']:7.1f} ms  non-2xx {figures['non_2xx']}  peak RSS {figures['rss']:.0f} MiB",
                      flush=True)
    finally:
        for process in services.values():
            process.terminate()
            process.wait(timeout=30)
    print("\n| service | req/s median [min-max] | p50 | p99 | non-2xx | peak RSS per worker |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, rows in results.items():
        rps = [r["rps"] for r in rows]
        print(f"| {name} | {statistics.median(rps):,.0f} [{min(rps):,.0f}-{max(rps):,.0f}] | "
              f"{statistics.median(r['p50'] for r in rows):.1f} ms | "
              f"{statistics.median(r['p99'] for r in rows):.0f} ms | "
              f"{sum(r['non_2xx'] for r in rows)} | {max(r['rss'] for r in rows):.0f} MiB |")
    ratio = statistics.median(r["rps"] for r in results["solidarity"]) / statistics.median(
        r["rps"] for r in results["floor"])
    print(f"\nSolidarity / floor: {ratio:.2f}")
    app = create_app()
    with app.app_context():
        notified = db.session.scalar(select(func.count()).select_from(Match)
                                     .where(Match.status == MatchStatus.notified))
        silent = db.session.scalar(select(func.count()).select_from(Match).where(
            Match.status == MatchStatus.notified, ~select(Notification.id).where(Notification.match_id == Match.id)
            .exists()))
        print(f"outbox: {notified} notified requests, {silent} without a queued message")


if __name__ == "__main__":
    main()
