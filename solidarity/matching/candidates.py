"""The one query that finds and ranks the offers fitting a need.

Eligible: an offer of the help type, active, confirmed within OFFER_CONFIRM_DAYS, covering the
incident's country, its region or the world, of a vetted organisation that is neither the reporter
nor already asked, with a case free (accepted matches of that organisation and help type below the
offer's capacity: capacity is what one team can carry for one kind of help, so a legal case does not
use up communications capacity; completed and declined matches do not count).

Ranking happens in SQL, with scoring's points computed from the same tables (whole numbers and
integer division, so SQL and Python agree exactly), best offer per organisation, ties to the smaller
offer id, and LIMIT. A popular place is covered by thousands of offers, so the query does not
score them all:

1. From the index ix_offer_areas_lookup alone (plus the primary key of offer_languages) it takes
   the covering offers in order of scoring.bound(): coverage and shared languages, the most an offer
   can score, since capacity adds at most CAPACITY_POINTS and reliability only takes away. It keeps
   the first `prefix` of them. A level (region, world) is not read at all when the levels above it
   already hold `prefix` offers bounded higher than anything it can reach, which for most places
   leaves the country's offers only.
2. Only those are checked against offers, organisations and matches, scored exactly, and ranked.
3. The result is exact when the last candidate kept scores at least the bound of the last offer
   looked at (an offer not looked at can do no better), or when every covering offer was looked
   at. Otherwise find() asks again with a prefix eight times longer. The first prefix holds
   PREFIX_PER_CANDIDATE offers per candidate asked for, which is nearly always enough.
"""
from __future__ import annotations

import operator
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, reduce

from sqlalchemy import Select, String, bindparam, case, func, literal_column, select, true, union_all
from sqlalchemy.orm import Session

from solidarity.extensions import settings
from solidarity.matching import reliability, scoring
from solidarity.matching.reliability import sql_int
from solidarity.matching.scoring import COUNTRY, REGION, WORLD, Facts
from solidarity.members.models import Organisation, Vetting
from solidarity.offers.models import Offer, OfferArea, OfferLanguage

PREFIX_PER_CANDIDATE = 8
PREFIX_GROWTH = 8


@dataclass(frozen=True)
class Found:
    organisation_id: uuid.UUID
    offer_id: uuid.UUID
    points: int  # as computed by the query; equal to scoring.score(facts).points
    facts: Facts


def _sql_text(value: str):
    # Only for the level names and "world", fixed words of this module, never for input.
    return literal_column(f"'{value}'", String())


def _tier(kind: str, code, *, needed=None):
    """The offers covering the place at one level, each with its bound, from the index alone.

    `needed`, when given, is a condition on the levels above: if they already hold `prefix` offers
    bounded above anything this level can reach, the level is not read at all.
    """
    shared = (select(_language_points(func.count()))
              .where(OfferLanguage.offer_id == OfferArea.offer_id,
                     OfferLanguage.language.in_(bindparam("languages", expanding=True)))
              .scalar_subquery())
    bound = (sql_int(scoring.COVERAGE_POINTS[kind]) + shared + sql_int(scoring.CAPACITY_POINTS)).label("bound")
    rows = (select(OfferArea.offer_id, _sql_text(kind).label("coverage"), code.label("area"), bound)
            .where(OfferArea.help_type == bindparam("help_type"), OfferArea.kind == _sql_text(kind),
                   OfferArea.code == code))
    return (rows if needed is None else rows.where(needed)).cte(kind)


def _beating(tiers, kind: str):
    """How many offers of `tiers` are bounded above the best that level `kind` can score."""
    best = scoring.bound(kind, len(scoring.LANGUAGE_POINTS))
    return reduce(operator.add, (select(func.count()).where(t.c.bound > sql_int(best)).scalar_subquery()
                                 for t in tiers))


def _prefix():
    # Each level is one equality range on ix_offer_areas_lookup (help_type, kind, code, offer_id),
    # which covers it; the language probe is one primary-key lookup in offer_languages per offer.
    country = _tier(COUNTRY, bindparam("country", type_=String()))
    region = _tier(REGION, bindparam("region", type_=String()),
                   needed=_beating([country], REGION) < bindparam("prefix"))
    world = _tier(WORLD, _sql_text(WORLD), needed=_beating([country, region], WORLD) < bindparam("prefix"))
    covering = union_all(*(select(t) for t in (country, region, world))).subquery("covering")
    return (select(covering).order_by(covering.c.bound.desc(), covering.c.offer_id)
            .limit(bindparam("prefix")).cte("prefix"))


def _language_points(shared):
    points = scoring.LANGUAGE_POINTS
    return case(*((shared >= sql_int(n), sql_int(points[n])) for n in range(len(points) - 1, 0, -1)),
                else_=sql_int(points[0]))


def _speed_points(answered, within):
    return case((answered == sql_int(0), sql_int(0)),
                *((sql_int(2) * count >= answered, sql_int(points))
                  for count, (_limit, points) in zip(within, scoring.SPEED_POINTS, strict=True)),
                else_=sql_int(scoring.SLOW_POINTS))


@cache
def statement() -> Select:
    """The query, built once; parameters: help_type, country, region, languages, reporter, exclude,
    cutoff (oldest confirmation accepted), since (start of the history window), prefix, limit.

    Its first row carries `seen`, `last_bound` and `last_offer` (how many covering offers were looked
    at, and the bound and id of the last); candidate columns are NULL when none was found.
    """
    prefix = _prefix()
    stats = (select(func.count().over().label("seen"), prefix.c.bound.label("last_bound"),
                    prefix.c.offer_id.label("last_offer"))
             .order_by(prefix.c.bound, prefix.c.offer_id.desc()).limit(1).subquery("stats"))

    # The offers and organisations of the prefix are read through correlated subqueries, not joins:
    # with table statistics SQLite would otherwise build a Bloom filter for the join by scanning the
    # whole offers table on every call, which costs more than everything else together.
    offer = (select(Offer.organisation_id)
             .where(Offer.id == prefix.c.offer_id, Offer.help_type == bindparam("help_type"),
                    Offer.active.is_(True), Offer.confirmed_at >= bindparam("cutoff"))
             .scalar_subquery())
    capacity = select(Offer.capacity).where(Offer.id == prefix.c.offer_id).scalar_subquery()
    looked_up = select(prefix, offer.label("organisation_id"), capacity.label("capacity")).subquery("looked_up")
    vetted = (select(Organisation.id)
              .where(Organisation.id == looked_up.c.organisation_id, Organisation.vetting_status == Vetting.vetted,
                     Organisation.locked_at.is_(None))  # a locked-down organisation is asked nothing
              .exists())
    fitting = (select(looked_up)
               .where(looked_up.c.organisation_id.is_not(None), vetted,
                      looked_up.c.organisation_id != bindparam("reporter"),
                      looked_up.c.organisation_id.not_in(bindparam("exclude", expanding=True)))
               .cte("fitting"))
    load = reliability.load(select(fitting.c.organisation_id), help_type=bindparam("help_type"),
                            since=bindparam("since"))
    rated = reliability.ratings(select(fitting.c.organisation_id), since=bindparam("since"))
    history = {name: func.coalesce(load.c[name], sql_int(0)).label(name) for name in reliability.COLUMNS}
    history.update({name: func.coalesce(rated.c[name], sql_int(0)).label(name)
                    for name in ("rated", "rating_total")})
    within = [history[f"within_{i}"] for i in range(len(scoring.SPEED_POINTS))]
    busy, asked, accepted, answered = (history[n] for n in ("busy", "asked", "accepted", "answered"))
    points = (fitting.c.bound - sql_int(scoring.CAPACITY_POINTS)
              + sql_int(scoring.CAPACITY_POINTS) * (fitting.c.capacity - busy) // fitting.c.capacity
              - sql_int(scoring.REFUSAL_POINTS) * (asked - accepted) // (asked + sql_int(2))
              + _speed_points(answered, within)
              - sql_int(scoring.RATING_POINTS) * (sql_int(scoring.BEST_RATING) * history["rated"]
                                                  - history["rating_total"])
              // (sql_int(scoring.BEST_RATING - scoring.WORST_RATING) * (history["rated"] + sql_int(1))))
    scored = (select(fitting.c.offer_id, fitting.c.organisation_id, fitting.c.coverage, fitting.c.area,
                     fitting.c.capacity, *history.values(), points.label("points"))
              .select_from(fitting.outerjoin(load, load.c.organisation_id == fitting.c.organisation_id)
                           .outerjoin(rated, rated.c.organisation_id == fitting.c.organisation_id))
              .where(fitting.c.capacity > busy)
              .subquery("scored"))
    ranked = select(scored, func.row_number().over(partition_by=scored.c.organisation_id,
                                                   order_by=(scored.c.points.desc(), scored.c.offer_id))
                    .label("nth")).subquery("ranked")
    best = (select(ranked).where(ranked.c.nth == sql_int(1)).order_by(ranked.c.points.desc(), ranked.c.offer_id)
            .limit(bindparam("limit")).subquery("best"))
    # Which languages are shared is only needed for the reasons: worked out for the few rows kept.
    spoken = (select(func.aggregate_strings(OfferLanguage.language, " "))
              .where(OfferLanguage.offer_id == best.c.offer_id,
                     OfferLanguage.language.in_(bindparam("languages", expanding=True)))
              .scalar_subquery())
    return (select(stats, best, spoken.label("spoken")).select_from(stats.outerjoin(best, true()))
            .order_by(best.c.points.desc(), best.c.offer_id))


def _complete(stats, found: list, *, prefix: int, limit: int) -> bool:
    if stats.seen < prefix:
        return True  # every covering offer was looked at
    if len(found) < limit:
        return False
    last = found[-1]
    # Order: points descending, then offer id ascending. Any offer not looked at comes after the
    # last one looked at in (bound, id) order, and scores at most its bound.
    return (last.points, -last.offer_id.int) >= (stats.last_bound, -stats.last_offer.int)


def find(session: Session, *, help_type: str, country: str, region: str, languages: Iterable[str],
         reporter_id: uuid.UUID, exclude: Iterable[uuid.UUID], limit: int, now: datetime) -> list[Found]:
    """The best `limit` fitting offers, at most one per organisation, best first."""
    if limit <= 0:
        return []
    languages = list(dict.fromkeys(languages))
    params = {"help_type": help_type, "country": country, "region": region, "languages": languages,
              "reporter": reporter_id, "exclude": list(exclude), "limit": limit,
              "cutoff": now - timedelta(days=int(settings()["OFFER_CONFIRM_DAYS"])),
              "since": reliability.history_since(now)}
    prefix = PREFIX_PER_CANDIDATE * limit
    while True:
        rows = session.execute(statement(), {**params, "prefix": prefix}).all()
        if not rows:
            return []  # no offer of this help type covers the place
        found = [row for row in rows if row.offer_id is not None]
        if _complete(rows[0], found, prefix=prefix, limit=limit):
            break
        prefix *= PREFIX_GROWTH
    return [Found(row.organisation_id, row.offer_id, row.points, _facts(row, languages)) for row in found]


def _facts(row, languages: list[str]) -> Facts:
    spoken = set((row.spoken or "").split())
    return Facts(coverage=row.coverage, area=row.area,
                 shared_languages=tuple(lang for lang in languages if lang in spoken), capacity=row.capacity,
                 busy=row.busy, history=reliability.history_of(row))
