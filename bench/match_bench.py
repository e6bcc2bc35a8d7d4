"""Matching benchmark: how long matching.service.rank takes to pick the first wave for one need.

Builds networks of N organisations (three offers each, countries skewed the way real memberships
are, some regional and worldwide offers, one to three languages, a history of past matches so that
capacity and reliability are really computed), then times rank() for random incidents and prints a
markdown table of the median and p99.

    .venv/bin/python -m bench.match_bench --db sqlite --sizes 1000,10000,100000
    .venv/bin/python -m bench.match_bench --db postgres --sizes 1000,10000,100000

Rows are written with SQLAlchemy core inserts (the services would take hours at this size); they are
the rows the services write. The database is recreated for every size: a temporary file on SQLite;
on PostgreSQL the database named by --database-url is dropped and created again.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, or_, select

from solidarity import create_app
from solidarity.extensions import db, keyring
from solidarity.fields import DataKey
from solidarity.geo import REGION_OF
from solidarity.incidents.models import Incident
from solidarity.matching.models import Match
from solidarity.matching.service import NeedProfile, rank
from solidarity.members.models import Organisation
from solidarity.offers.models import Offer, OfferArea, OfferLanguage
from tests.databases import recreate_postgres

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/solidarity_bench_match"
HELP_TYPES = ("legal", "communications", "diplomatic", "digital_security", "emergency_funds", "relocation")
LANGUAGES = {"en": 40, "fr": 15, "es": 12, "ar": 10, "ru": 6, "pt": 5, "sw": 4, "fa": 2, "tr": 2, "hi": 2, "zh": 2}
MATCH_STATUSES = {"accepted": 10, "completed": 35, "declined": 30, "expired": 15, "notified": 10}
CHUNK = 5000  # organisations generated and inserted at a time, to keep memory flat


class Network:
    """Random but reproducible: countries follow a Zipf-like law (a few countries hold many members)."""

    def __init__(self, seed: int, now: datetime):
        self.rng = random.Random(seed)
        self.now = now
        self.countries = sorted(REGION_OF)
        self.rng.shuffle(self.countries)
        self.country_weights = [1 / (rank + 1) ** 0.9 for rank in range(len(self.countries))]
        self.by_region: dict[str, list[str]] = {}
        for country in self.countries:
            self.by_region.setdefault(REGION_OF[country], []).append(country)

    def languages(self) -> list[str]:
        count = self.rng.choices((1, 2, 3), weights=(4, 4, 2))[0]
        chosen: list[str] = []
        while len(chosen) < count:
            lang = self.rng.choices(list(LANGUAGES), weights=list(LANGUAGES.values()))[0]
            if lang not in chosen:
                chosen.append(lang)
        return chosen

    def areas(self, country: str) -> set[tuple[str, str]]:
        rng, areas = self.rng, set()
        if rng.random() < 0.9:
            areas.add(("country", country))
        if rng.random() < 0.3:
            areas.update(("country", c) for c in rng.sample(self.by_region[REGION_OF[country]],
                                                            min(2, len(self.by_region[REGION_OF[country]]))))
        if rng.random() < 0.25:
            areas.add(("region", REGION_OF[country]))
        if rng.random() < 0.08 or not areas:
            areas.add(("world", "world"))
        return areas

    def confirmed_at(self) -> datetime:
        # Most offers are current; about one in five is past the 90-day confirmation period.
        days = self.rng.uniform(0, 90) if self.rng.random() < 0.8 else self.rng.uniform(90, 400)
        return self.now - timedelta(days=days)

    def organisations(self, count: int):
        """Yield (organisation rows, offer rows, area rows, language rows) chunk by chunk."""
        rng, now = self.rng, self.now
        for start in range(0, count, CHUNK):
            orgs, offers, areas, langs = [], [], [], []
            for n in range(start, min(count, start + CHUNK)):
                country = rng.choices(self.countries, weights=self.country_weights)[0]
                org_id, spoken = uuid.uuid4(), self.languages()
                vetting = rng.choices(("vetted", "applied", "suspended"), weights=(92, 5, 3))[0]
                orgs.append({"id": org_id, "name": f"Organisation {n}", "country": country,
                             "region": REGION_OF[country], "languages": spoken, "vetting_status": vetting,
                             "consent_share_contacts": False, "created_at": now, "updated_at": now})
                for help_type in rng.sample(HELP_TYPES, 3):
                    offer_id = uuid.uuid4()
                    offers.append({"id": offer_id, "organisation_id": org_id, "help_type": help_type,
                                   "capacity": rng.randint(1, 5), "active": rng.random() < 0.95,
                                   "confirmed_at": self.confirmed_at(), "created_at": now, "updated_at": now})
                    areas.extend({"offer_id": offer_id, "kind": kind, "code": code, "help_type": help_type}
                                 for kind, code in self.areas(country))
                    langs.extend({"offer_id": offer_id, "language": lang} for lang in spoken)
            yield orgs, offers, areas, langs

    def history(self, org_ids: list[uuid.UUID], incidents: int):
        """Past incidents, each with three asked organisations in various states."""
        rng, now = self.rng, self.now
        rows_incidents, rows_matches = [], []
        for n in range(incidents):
            reporter, *asked = rng.sample(org_ids, 4)
            created = now - timedelta(days=rng.uniform(1, 500))
            incident_id = uuid.uuid4()
            rows_incidents.append({"id": incident_id, "ref": f"B{n:07d}", "organisation_id": reporter,
                                   "channel": "web", "threat_type": "raid", "severity": rng.randint(1, 4),
                                   "country": "KE", "region": "014", "status": "responding", "disclosure": [],
                                   "created_at": created, "updated_at": created})
            help_type = rng.choice(HELP_TYPES)
            for org_id in asked:
                status = rng.choices(list(MATCH_STATUSES), weights=list(MATCH_STATUSES.values()))[0]
                answered = (created + timedelta(minutes=rng.lognormvariate(4, 1.5))
                            if status in ("accepted", "completed", "declined") else None)
                rows_matches.append({"id": uuid.uuid4(), "incident_id": incident_id, "help_type": help_type,
                                     "organisation_id": org_id, "wave": 1, "score": 0.0, "reasons": [],
                                     "status": status, "created_at": created, "answered_at": answered})
        return rows_incidents, rows_matches


def seal_name(org: dict) -> dict:
    """Encrypt an organisation row's name with a data key of its own, as Encrypted does; the key's row."""
    ring, key_id = keyring(), uuid.uuid4()
    wrapped = ring.new_data_key(key_id)
    org["data_key_id"] = key_id
    org["name_ct"] = ring.encrypt(ring.unwrap(key_id, wrapped), key_id, org.pop("name"),
                                  f"organisations.name:{org['id']}")
    return {"id": key_id, "master_kid": wrapped.master_kid, "wrapped": wrapped.wrapped, "created_at": org["created_at"]}


def build(session, network: Network, size: int) -> tuple[list[uuid.UUID], float]:
    started = time.perf_counter()
    org_ids: list[uuid.UUID] = []
    for orgs, offers, areas, langs in network.organisations(size):
        session.execute(insert(DataKey), [seal_name(org) for org in orgs])
        session.execute(insert(Organisation), orgs)
        session.execute(insert(Offer), offers)
        session.execute(insert(OfferArea), areas)
        session.execute(insert(OfferLanguage), langs)
        org_ids.extend(o["id"] for o in orgs)
    incidents, matches = network.history(org_ids, size // 20)
    session.execute(insert(Incident), incidents)
    session.execute(insert(Match), matches)
    session.commit()
    # Statistics for the planners; on PostgreSQL also the visibility map that index-only scans need,
    # as autovacuum would have set it on a database that grew over time rather than in one load.
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
    return org_ids, time.perf_counter() - started


def profiles(session, network: Network, org_ids: list[uuid.UUID], count: int) -> list[NeedProfile]:
    """Incidents filed by random organisations, in their own country, asking for one random kind of help."""
    chosen = [network.rng.choice(org_ids) for _ in range(count)]
    orgs = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(set(chosen))))}
    return [NeedProfile(help_type=network.rng.choice(HELP_TYPES), country=orgs[i].country,
                        region=orgs[i].region, languages=tuple(orgs[i].languages), reporter_id=i)
            for i in chosen]


def covering(session, profile: NeedProfile) -> int:
    """How many offer_areas rows cover the place: the rows the candidate query starts from."""
    return session.scalar(select(func.count()).select_from(OfferArea).where(
        OfferArea.help_type == profile.help_type,
        or_((OfferArea.kind == "country") & (OfferArea.code == profile.country),
            (OfferArea.kind == "region") & (OfferArea.code == profile.region),
            (OfferArea.kind == "world") & (OfferArea.code == "world"))))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_size(args, size: int, workdir: Path) -> dict:
    if args.db == "postgres":
        url = args.database_url or POSTGRES_URL
        recreate_postgres(url)
    else:
        url = f"sqlite:///{workdir / f'match_{size}.db'}"
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": str(workdir / "instance")})
    now = datetime.now(timezone.utc)
    network = Network(args.seed + size, now)
    with app.app_context():
        db.create_all()
        session = db.session
        org_ids, build_seconds = build(session, network, size)
        needs = profiles(session, network, org_ids, args.incidents)
        for profile in needs[:10]:  # warm the statement cache and the database's pages
            rank(session, profile, limit=args.limit, now=now)
            session.rollback()
        timings, found = [], []
        for profile in needs:
            started = time.perf_counter()
            ranked = rank(session, profile, limit=args.limit, now=now)
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
            found.append(len(ranked))
        rows = [covering(session, profile) for profile in needs]
        session.rollback()
        db.session.remove()
        db.engine.dispose()
    return {"size": size, "build": build_seconds, "median": statistics.median(timings),
            "p99": percentile(timings, 0.99), "max": max(timings), "covering": statistics.median(rows),
            "covering_max": max(rows), "short": sum(n < args.limit for n in found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database-url", help=f"PostgreSQL database to drop and recreate (default {POSTGRES_URL})")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--incidents", type=int, default=200, help="needs ranked per size")
    parser.add_argument("--limit", type=int, default=3, help="candidates per ranking (a first wave)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="match_bench_") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            result = run_size(args, size, Path(tmp))
            print(f"{args.db} {size}: built in {result['build']:.0f} s, median {result['median']:.2f} ms, "
                  f"p99 {result['p99']:.2f} ms", flush=True)
            results.append(result)
    print()
    print("| database | organisations | offers covering the place: median (max) | rank(): median | p99 | max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {args.db} | {r['size']:,} | {r['covering']:,.0f} ({r['covering_max']:,}) | {r['median']:.2f} ms "
              f"| {r['p99']:.2f} ms | {r['max']:.2f} ms |")
    if any(r["short"] for r in results):
        print("\n" + ", ".join(f"{r['size']:,}: {r['short']} of {args.incidents}" for r in results)
              + " rankings found fewer than --limit candidates")


if __name__ == "__main__":
    main()
