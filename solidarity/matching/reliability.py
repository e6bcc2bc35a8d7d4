"""Each organisation's record from its match rows, aggregated in SQL: open cases and past answers.

One grouped pass over the matches of the organisations asked about gives both the load (accepted
cases still open, whatever their age) and the history over the window (settings
MATCH_HISTORY_DAYS): how many requests were settled, accepted and answered, and how many answers
came within each limit of scoring.SPEED_POINTS, from which scoring derives the median band.
A second grouped pass (`ratings`) reads the reporters' after-action ratings over the same window.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from solidarity.extensions import settings
from solidarity.matching.models import Match, MatchStatus, Review, ReviewRole
from solidarity.matching.scoring import SPEED_POINTS, History

SETTLED = (MatchStatus.accepted, MatchStatus.completed, MatchStatus.declined, MatchStatus.expired)
ACCEPTED = (MatchStatus.accepted, MatchStatus.completed)
ANSWERED = (MatchStatus.accepted, MatchStatus.completed, MatchStatus.declined)
COLUMNS = ("busy", "asked", "accepted", "answered", *(f"within_{i}" for i in range(len(SPEED_POINTS))))


class elapsed_seconds(FunctionElement):  # noqa: N801 (named like the SQL functions it stands for)
    """Seconds from the first timestamp to the second; no portable SQL spelling exists."""

    type = Float()
    inherit_cache = True


@compiles(elapsed_seconds, "postgresql")
def _elapsed_postgresql(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(elapsed_seconds, "sqlite")
def _elapsed_sqlite(element, compiler, **kw):
    # julianday() keeps milliseconds; rounding to them removes the floating-point noise of the subtraction.
    start, end = list(element.clauses)
    return (f"(ROUND((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
            f" * 86400000) / 1000.0)")


def history_since(now: datetime) -> datetime:
    return now - timedelta(days=int(settings()["MATCH_HISTORY_DAYS"]))


def sql_int(value: int) -> ColumnElement[int]:
    """A whole-number constant written into the SQL text rather than bound: the ranking query has
    dozens of them, and as parameters they would cost a driver conversion each on every call."""
    return literal_column(str(int(value)), Integer())


def _count(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, sql_int(1)), else_=sql_int(0))), sql_int(0))


def _busy(help_type: str | BindParameter) -> ColumnElement[bool]:
    """A case that takes one unit of an offer's capacity: accepted and still open, of `help_type`.
    Matching asks only organisations below capacity, and accepting is refused at it, by this one rule."""
    return and_(Match.status == MatchStatus.accepted, Match.help_type == help_type)


def open_cases(session: Session, organisation_id: uuid.UUID, help_type: str) -> int:
    """How many cases of `help_type` the organisation carries now (`load`'s busy, for one)."""
    return session.scalar(select(func.count()).select_from(Match)
                          .where(Match.organisation_id == organisation_id, _busy(help_type)))


def load(organisations: Select, *, help_type: str | BindParameter, since: datetime | BindParameter) -> Subquery:
    """Per organisation among `organisations` (a one-column select of ids) that has any match row:
    busy (accepted, still open, of `help_type`), asked, accepted, answered, within_0..within_n
    (COLUMNS). `help_type` and `since` are values or bind parameters of the enclosing statement.

    Organisations without a row get no line: callers outer-join and read missing values as 0.
    """
    recent = Match.created_at >= since
    answered = and_(recent, Match.status.in_(ANSWERED), Match.answered_at.is_not(None))
    took = elapsed_seconds(Match.created_at, Match.answered_at)
    return (
        select(Match.organisation_id,
               _count(_busy(help_type)).label("busy"),
               _count(and_(recent, Match.status.in_(SETTLED))).label("asked"),
               _count(and_(recent, Match.status.in_(ACCEPTED))).label("accepted"),
               _count(answered).label("answered"),
               *(_count(and_(answered, took <= sql_int(limit))).label(f"within_{i}")
                 for i, (limit, _points) in enumerate(SPEED_POINTS)))
        .where(Match.organisation_id.in_(organisations), or_(Match.status == MatchStatus.accepted, recent))
        .group_by(Match.organisation_id)
        .subquery("load"))


def ratings(organisations: Select, *, since: datetime | BindParameter) -> Subquery:
    """Per organisation among `organisations` rated by reporters since `since`: rated (how many
    ratings) and rating_total (their sum). Organisations without a rating get no line."""
    return (
        select(Review.subject_organisation_id.label("organisation_id"), func.count().label("rated"),
               func.sum(Review.rating).label("rating_total"))
        .where(Review.subject_organisation_id.in_(organisations), Review.role == ReviewRole.reporter,
               Review.created_at >= since)
        .group_by(Review.subject_organisation_id)
        .subquery("ratings"))


def history_of(row) -> History:
    """A History from a row carrying load()'s and ratings()' columns (missing ones, from an outer
    join, are 0)."""
    return History(asked=row.asked or 0, accepted=row.accepted or 0, answered=row.answered or 0,
                   within=tuple(getattr(row, f"within_{i}") or 0 for i in range(len(SPEED_POINTS))),
                   rated=row.rated or 0, rating_total=row.rating_total or 0)

