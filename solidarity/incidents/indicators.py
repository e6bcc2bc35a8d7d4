"""How the network answers, in numbers coordinators can act on. Every figure is an SQL aggregate.

Definitions (the README's "Indicators" section repeats them):

- **Window**: incidents filed (created_at) from `since` 00:00 UTC up to the end of `until`
  (both whole UTC days). Match-based figures count the matches of those incidents.
- **Incidents per month by threat type**: incidents of the window by UTC calendar month of filing.
- **Time to first acceptance**: per incident, from filing to the first answer "yes" of any responder
  (a match accepted or later completed). Median (the middle value, or the mean of the two middle
  ones) and 90th percentile by the nearest-rank method (the smallest time that at least 90 % of
  those incidents did not exceed; with one value, that value). Incidents nobody accepted are not in
  these times; `accepted` of `incidents` says how many are.
- **Acceptance rate**: requests accepted / requests answered (accepted + declined). A request is a
  match whose organisation was notified; expired and still waiting requests are counted and shown,
  not hidden in the rate, and `answered / asked` is the response rate.
- **Needs covered**: of the window's incidents, leaving out withdrawn ones (withdrawal, not the
  network, ended them), how many had every need covered (a responder accepted each), some, or none.
- **Offers by help type and region**: offers that matching would use now (active, confirmed within
  OFFER_CONFIRM_DAYS, of a vetted organisation), counted once per UN M49 region they reach: an offer
  for countries counts in each of their regions, one for a region in that region, one for the world
  under "world".
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import String, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from solidarity.errors import ValidationError
from solidarity.extensions import settings
from solidarity.geo import REGION_OF
from solidarity.incidents.models import Incident, Need, NeedState, Status
from solidarity.matching.models import Match, MatchStatus
from solidarity.members.models import Organisation, Vetting
from solidarity.offers.models import Offer, OfferArea

DEFAULT_MONTHS = 12
MAX_DAYS = 5 * 366  # five years of months is as long as a chart stays readable
# No incident is older than the service; the bounds keep day arithmetic far from year 1 and 9999.
EARLIEST_DAY = date(1900, 1, 1)
ACCEPTED = (MatchStatus.accepted, MatchStatus.completed)  # completed work was accepted first


class month_of(FunctionElement):
    """'YYYY-MM' of a UTC timestamp column, in UTC whatever the database session's time zone."""

    type = String()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw):
    # SQLite holds our timestamps as naive UTC text (fields.UTCDateTime).
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


@dataclass(frozen=True)
class Window:
    since: date
    until: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time(), timezone.utc)

    def months(self) -> list[str]:
        out, year, month = [], self.since.year, self.since.month
        while (year, month) <= (self.until.year, self.until.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def parse_day(value: str | None, field: str) -> date | None:
    """A YYYY-MM-DD query parameter, None when absent; a ValidationError naming `field` otherwise."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a date; use YYYY-MM-DD") from None


def window(since: date | None, until: date | None, *, now: datetime) -> Window:
    """The window asked for; by default the last DEFAULT_MONTHS calendar months up to today."""
    today = now.astimezone(timezone.utc).date()
    for field, day in (("since", since), ("until", until)):
        if day is not None and not EARLIEST_DAY <= day <= today + timedelta(days=1):
            raise ValidationError(field, f"must be a day from {EARLIEST_DAY.isoformat()} to tomorrow")
    until = until or today
    if since is None:
        months_back = until.year * 12 + until.month - 1 - (DEFAULT_MONTHS - 1)
        since = date(months_back // 12, months_back % 12 + 1, 1)
    if since > until:
        raise ValidationError("since", "must be on or before until")
    if (until - since).days > MAX_DAYS:
        raise ValidationError("since", f"the window can span at most {MAX_DAYS} days")
    return Window(since, until)


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM
    threat_type: str
    incidents: int


@dataclass(frozen=True)
class FirstAcceptance:
    incidents: int  # filed in the window
    accepted: int  # of which some responder accepted
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Acceptance:
    asked: int
    accepted: int
    declined: int
    expired: int
    waiting: int

    @property
    def answered(self) -> int:
        return self.accepted + self.declined

    @property
    def rate(self) -> float | None:
        return self.accepted / self.answered if self.answered else None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass(frozen=True)
class NeedsCovered:
    incidents: int
    every: int
    some: int
    none: int

    @property
    def share(self) -> float | None:
        return self.every / self.incidents if self.incidents else None


@dataclass(frozen=True)
class OfferCount:
    help_type: str
    region: str  # UN M49 sub-region code, or "world"
    offers: int


@dataclass(frozen=True)
class Indicators:
    window: Window
    incidents_per_month: list[MonthCount]
    first_acceptance: FirstAcceptance
    acceptance: Acceptance
    needs_covered: NeedsCovered
    offers: list[OfferCount]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile: always one of the values, so "90 % waited at most this long" holds."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def _in_window(win: Window):
    return and_(Incident.created_at >= win.start, Incident.created_at < win.end)


def incidents_per_month(session: Session, win: Window) -> list[MonthCount]:
    month = month_of(Incident.created_at)
    rows = session.execute(select(month, Incident.threat_type, func.count())
                           .where(_in_window(win)).group_by(month, Incident.threat_type)
                           .order_by(month, Incident.threat_type))
    return [MonthCount(m, t, n) for m, t, n in rows]


def first_acceptance(session: Session, win: Window) -> FirstAcceptance:
    incidents = session.scalar(select(func.count()).select_from(Incident).where(_in_window(win)))
    # min() keeps the column's type (UTCDateTime), so both databases hand back aware datetimes.
    rows = session.execute(select(Incident.created_at, func.min(Match.answered_at))
                           .join(Match, Match.incident_id == Incident.id)
                           .where(_in_window(win), Match.status.in_(ACCEPTED), Match.answered_at.is_not(None))
                           .group_by(Incident.id, Incident.created_at)).all()
    waits = [(answered - filed).total_seconds() for filed, answered in rows]
    return FirstAcceptance(incidents, len(waits), median(waits), nearest_rank(waits, 90))


def acceptance(session: Session, win: Window) -> Acceptance:
    rows = dict(session.execute(select(Match.status, func.count())
                                .join(Incident, Incident.id == Match.incident_id)
                                .where(_in_window(win), Match.status != MatchStatus.proposed)
                                .group_by(Match.status)).all())
    return Acceptance(asked=sum(rows.values()), accepted=sum(rows.get(s, 0) for s in ACCEPTED),
                      declined=rows.get(MatchStatus.declined, 0), expired=rows.get(MatchStatus.expired, 0),
                      waiting=rows.get(MatchStatus.notified, 0))


def needs_covered(session: Session, win: Window) -> NeedsCovered:
    per_incident = (select(func.count(Need.id).label("needs"),
                           func.sum(case((Need.state == NeedState.covered, 1), else_=0)).label("covered"))
                    .join(Incident, Incident.id == Need.incident_id)
                    .where(_in_window(win), Incident.status != Status.withdrawn)
                    .group_by(Need.incident_id).subquery())
    total, every, none = session.execute(select(
        func.count(), func.sum(case((per_incident.c.covered == per_incident.c.needs, 1), else_=0)),
        func.sum(case((per_incident.c.covered == 0, 1), else_=0)))).one()
    every, none = every or 0, none or 0  # SUM over no rows is NULL
    return NeedsCovered(total, every, total - every - none, none)


def usable_offers(now: datetime):
    """The condition matching applies to an offer (matching.candidates), minus capacity and languages."""
    cutoff = now - timedelta(days=int(settings()["OFFER_CONFIRM_DAYS"]))
    return and_(Offer.active.is_(True), Offer.confirmed_at >= cutoff,
                Organisation.vetting_status == Vetting.vetted)


def offers_by_region(session: Session, *, now: datetime) -> list[OfferCount]:
    # A country area becomes its region; region codes and "world" map to themselves.
    region = case(REGION_OF, value=OfferArea.code, else_=OfferArea.code)
    areas = (select(Offer.id.label("offer_id"), Offer.help_type.label("help_type"), region.label("region"))
             .join(OfferArea, OfferArea.offer_id == Offer.id)
             .join(Organisation, Organisation.id == Offer.organisation_id)
             .where(usable_offers(now)).subquery())
    # Grouping the subquery's column: PostgreSQL would not see the CASE's bound parameters in
    # SELECT and GROUP BY as the same expression.
    rows = session.execute(select(areas.c.help_type, areas.c.region, func.count(func.distinct(areas.c.offer_id)))
                           .group_by(areas.c.help_type, areas.c.region)
                           .order_by(areas.c.region, areas.c.help_type))
    return [OfferCount(h, r, n) for h, r, n in rows]


def compute(session: Session, win: Window, *, now: datetime) -> Indicators:
    return Indicators(window=win, incidents_per_month=incidents_per_month(session, win),
                      first_acceptance=first_acceptance(session, win), acceptance=acceptance(session, win),
                      needs_covered=needs_covered(session, win), offers=offers_by_region(session, now=now))
