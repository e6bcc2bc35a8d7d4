"""Heartbeats and the scheduler's lease: one row per role in `heartbeats`, written by that role.

The worker writes `beat_at` on the "worker" row while it runs (any worker: the newest beat counts);
the active scheduler holds the "scheduler" row's lease and beats with each renewal. /readyz reads
the ages. A lease row rather than a PostgreSQL advisory lock, so that SQLite works the same way.
Times are the processes' own clocks: keep the machines on NTP (a skew shortens or lengthens leases).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import String, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from solidarity.extensions import db
from solidarity.fields import UTCDateTime

WORKER = "worker"
SCHEDULER = "scheduler"


class Heartbeat(db.Model):
    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)  # worker | scheduler
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    holder: Mapped[str | None] = mapped_column(String(80))  # the lease holder (host:pid:nonce)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


_TABLE = Heartbeat.__table__


def _insert(session: Session, name: str, **values) -> bool:
    """Create the row; False if another process created it first (then nothing is written)."""
    try:
        with session.begin_nested():
            session.add(Heartbeat(name=name, **values))
    except IntegrityError:
        return False
    return True


def beat(session: Session, name: str, *, now: datetime) -> None:
    """Record that `name` is alive now; commits."""
    done = session.execute(update(_TABLE).where(_TABLE.c.name == name).values(beat_at=now)).rowcount
    if not done and not _insert(session, name, beat_at=now):
        session.execute(update(_TABLE).where(_TABLE.c.name == name).values(beat_at=now))
    session.commit()


def hold_lease(session: Session, name: str, holder: str, *, now: datetime, lease: timedelta) -> bool:
    """Take the lease if it is free or ran out, or renew it if `holder` has it; commits. One
    conditional update decides, so of two processes asking at once exactly one holds it."""
    taken = session.execute(update(_TABLE)
                            .where(_TABLE.c.name == name,
                                   or_(_TABLE.c.holder == holder, _TABLE.c.holder.is_(None),
                                       _TABLE.c.lease_until < now))
                            .values(holder=holder, lease_until=now + lease, beat_at=now)).rowcount == 1
    if not taken and session.get(Heartbeat, name) is None:
        taken = _insert(session, name, holder=holder, lease_until=now + lease, beat_at=now)
    session.commit()
    return taken


def holder_of(session: Session, name: str) -> str | None:
    row = session.get(Heartbeat, name, populate_existing=True)
    return row.holder if row is not None else None


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease up (a clean stop), so a standby takes over at its next look, not after the lease."""
    session.execute(update(_TABLE).where(_TABLE.c.name == name, _TABLE.c.holder == holder)
                    .values(holder=None, lease_until=None))
    session.commit()


class OutageLog:
    """Log a database outage once when it starts, then at most once per `every` seconds while it
    lasts, and once when it ends: a worker retrying every second must not write a line each time."""

    def __init__(self, logger: logging.Logger, what: str, every: float = 60.0):
        self.logger, self.what, self.every = logger, what, every
        self.since: float | None = None
        self.last_logged = 0.0
        self.failures = 0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self.failures += 1
        if self.since is None:
            self.since, self.last_logged = now, now
            self.logger.error("%s: the database is unreachable (%s); retrying until it is back", self.what,
                              _first_line(exc))
        elif now - self.last_logged >= self.every:
            self.last_logged = now
            self.logger.error("%s: the database is still unreachable after %.0fs (%d failed attempts): %s",
                              self.what, now - self.since, self.failures, _first_line(exc))

    def succeeded(self) -> None:
        if self.since is not None:
            self.logger.warning("%s: the database is back after %.0fs; carrying on", self.what,
                                time.monotonic() - self.since)
            self.since, self.failures = None, 0


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
