"""Indicators on a hand-built network whose every number is worked out below, plus the edge cases."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from solidarity.errors import ValidationError
from solidarity.incidents import indicators
from solidarity.incidents.indicators import Acceptance, FirstAcceptance, NeedsCovered, Window
from tests.incidents.known_indicators import WINDOW, answer, at, build


@pytest.fixture
def known(session, make, now):
    return build(session, make, now)

def test_indicators_on_a_known_data_set(session, known, now):
    found = indicators.compute(session, WINDOW, now=now)
    assert found.incidents_per_month == known.per_month
    assert found.first_acceptance == known.first
    assert found.acceptance == known.acceptance
    assert found.acceptance.rate == 0.75 and found.acceptance.response_rate == 0.5
    assert found.needs_covered == known.covered and found.needs_covered.share == 0.5
    assert sorted(found.offers, key=repr) == sorted(known.offers, key=repr)


def test_indicators_of_an_empty_network(session, now):
    found = indicators.compute(session, WINDOW, now=now)
    assert found.incidents_per_month == [] and found.offers == []
    assert found.first_acceptance == FirstAcceptance(0, 0, None, None)
    assert found.acceptance == Acceptance(0, 0, 0, 0, 0)
    assert found.acceptance.rate is None and found.acceptance.response_rate is None
    assert found.needs_covered == NeedsCovered(0, 0, 0, 0) and found.needs_covered.share is None


def test_one_acceptance_is_its_own_median_and_p90(session, make, now):
    reporter = make.admin_of(make.org(country="KE"))
    responder = make.org(country="KE")
    make.offer(responder, "legal")
    incident = make.incident(reporter, now=at("2026-03-01"))
    answer(session, make, incident, responder, True, timedelta(minutes=42))
    found = indicators.first_acceptance(session, WINDOW)
    assert found == FirstAcceptance(1, 1, 42 * 60, 42 * 60)


@pytest.mark.parametrize("values, median, p90", [
    ([], None, None),
    ([5], 5, 5),
    ([1, 2], 1.5, 2),
    ([3, 1, 2], 2, 3),
    (list(range(1, 11)), 5.5, 9),
    (list(range(1, 12)), 6, 10),
    ([7, 7, 7, 100], 7, 100),
])
def test_median_and_nearest_rank_p90(values, median, p90):
    assert indicators.median(values) == median
    assert indicators.nearest_rank(values, 90) == p90


def test_the_window_defaults_to_twelve_calendar_months_up_to_today(now):
    win = indicators.window(None, None, now=now)
    assert win == Window(date(2025, 12, 1), date(2026, 11, 22))
    assert win.months()[0] == "2025-12" and win.months()[-1] == "2026-11" and len(win.months()) == 12
    assert win.start == datetime(2025, 12, 1, tzinfo=timezone.utc)
    assert win.end == datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert indicators.window(None, date(2026, 1, 15), now=now).since == date(2025, 2, 1)


@pytest.mark.parametrize("since, until, field, message", [
    (date(2026, 2, 1), date(2026, 1, 1), "since", "must be on or before until"),
    (date(2020, 1, 1), date(2026, 1, 1), "since", "at most"),
])
def test_a_bad_window_names_the_field(now, since, until, field, message):
    with pytest.raises(ValidationError) as caught:
        indicators.window(since, until, now=now)
    assert caught.value.field == field and message in caught.value.message


def test_days_are_parsed_or_refused_by_name():
    assert indicators.parse_day("2026-03-04", "since") == date(2026, 3, 4)
    assert indicators.parse_day("", "since") is None and indicators.parse_day(None, "until") is None
    with pytest.raises(ValidationError) as caught:
        indicators.parse_day("garbage", "until")
    assert caught.value.field == "until" and "YYYY-MM-DD" in caught.value.message


def test_a_request_nobody_could_be_sent_is_not_counted_as_asked(session, make, now):
    reporter = make.admin_of(make.org(country="KE"))
    unreachable = make.org(country="KE")
    make.offer(unreachable, "legal")
    make.admin_of(unreachable).active = False  # nobody there to notify: the match stays proposed
    session.commit()
    make.incident(reporter, now=at("2026-03-01"))
    assert indicators.acceptance(session, WINDOW) == Acceptance(0, 0, 0, 0, 0)


def test_months_are_utc_months_whatever_the_database_time_zone(session, make, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite has no session time zone; it stores UTC text")
    make.incident(make.admin_of(make.org(country="KE")), now=at("2026-10-31", 20))  # 1 November in Auckland
    session.execute(text("SET LOCAL TIME ZONE 'Pacific/Auckland'"))  # this transaction only
    try:
        assert [(m.month, m.incidents) for m in indicators.incidents_per_month(session, WINDOW)] == [("2026-10", 1)]
    finally:
        session.rollback()
