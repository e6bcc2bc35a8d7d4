"""matching.service.rank on networks built through the real services: order, reasons, rules, capacity."""
from __future__ import annotations

from datetime import timedelta

import pytest

from solidarity.matching.models import MatchStatus, ReviewRole
from solidarity.matching.service import NeedProfile, rank
from solidarity.members.models import Vetting
from tests.matching.history import past_match, past_rating


def profile_for(reporter, help_type="legal", **overrides) -> NeedProfile:
    values = {"help_type": help_type, "country": "KE", "region": "014", "languages": ("sw", "en"),
              "reporter_id": reporter.id}
    return NeedProfile(**{**values, **overrides})


@pytest.fixture
def reporter(make):
    return make.org("Reporter", country="KE", languages=("sw", "en"))


def test_ranking_and_reasons(make, session, reporter, now):
    local = make.org("Local", country="KE", languages=("sw", "en"))
    make.offer(local, countries=["KE"], capacity=3)
    past_match(session, reporter, local, status=MatchStatus.accepted, created_at=now - timedelta(days=20),
               answered_after=timedelta(minutes=30))
    slow = make.org("Slow", country="KE", languages=("sw",))
    make.offer(slow, countries=["KE"])
    for days in (10, 20, 30):
        past_match(session, reporter, slow, status=MatchStatus.declined, created_at=now - timedelta(days=days),
                   answered_after=timedelta(hours=30))
    neighbour = make.org("Neighbour", country="UG", languages=("en",))
    make.offer(neighbour, countries=[], regions=["014"])
    foreign = make.org("Foreign-speaking", country="KE", languages=("fr",))
    make.offer(foreign, countries=["KE"])
    worldwide = make.org("Worldwide", country="FR", languages=("fr", "en"))
    make.offer(worldwide, countries=[], worldwide=True)
    session.commit()

    ranked = rank(session, profile_for(reporter), limit=10, now=now)

    assert [(c.organisation_id, c.score, c.reasons) for c in ranked] == [
        (local.id, 71.0, ("covers KE", "speaks sw, en", "2 of 3 cases free", "accepted 1 of 1 requests",
                          "median answer within 1 h")),
        (neighbour.id, 55.0, ("covers Eastern Africa", "speaks en", "1 of 1 case free", "no past requests")),
        (slow.id, 51.0, ("covers KE", "speaks sw", "1 of 1 case free", "accepted 0 of 3 requests",
                         "median answer over 24 h")),
        (foreign.id, 50.0, ("covers KE", "no shared language", "1 of 1 case free", "no past requests")),
        (worldwide.id, 40.0, ("covers the whole world", "speaks en", "1 of 1 case free", "no past requests")),
    ]


def test_limit_keeps_the_best_and_ties_go_to_the_smaller_offer_id(make, session, reporter, now):
    offers = [make.offer(make.org(country="KE", languages=("sw",)), countries=["KE"]) for _ in range(4)]
    ranked = rank(session, profile_for(reporter), limit=2, now=now)
    assert [c.offer_id for c in ranked] == sorted(offer.id for offer in offers)[:2]


def test_one_offer_per_organisation_its_best(make, session, reporter, now):
    org = make.org(country="FR", languages=("en",))
    make.offer(org, countries=[], worldwide=True)
    local = make.offer(org, countries=["KE"])
    [candidate] = rank(session, profile_for(reporter), limit=5, now=now)
    assert (candidate.offer_id, candidate.reasons[0]) == (local.id, "covers KE")


def test_an_offer_covering_the_country_and_the_world_counts_as_local(make, session, reporter, now):
    org = make.org(country="KE", languages=("en",))
    offer = make.offer(org, countries=["KE"], worldwide=True)
    [candidate] = rank(session, profile_for(reporter), limit=5, now=now)
    assert (candidate.offer_id, candidate.reasons[0]) == (offer.id, "covers KE")


# -- Who is never a candidate: each case next to one that fits, so an empty result proves nothing --

def _unvetted(make, now):
    make.offer(make.org(country="KE", vetted=False), countries=["KE"])


def _suspended(make, now):
    org = make.org(country="KE")
    make.offer(org, countries=["KE"])
    org.vetting_status = Vetting.suspended


def _inactive(make, now):
    make.offer(make.org(country="KE"), countries=["KE"]).active = False


def _stale(make, now):
    make.offer(make.org(country="KE"), countries=["KE"]).confirmed_at = now - timedelta(days=91)


def _wrong_help_type(make, now):
    make.offer(make.org(country="KE"), "relocation", countries=["KE"])


def _outside_coverage(make, now):
    make.offer(make.org(country="UG"), countries=["UG", "TZ"], regions=["155"])


SPOILERS = {"unvetted": _unvetted, "suspended": _suspended, "inactive offer": _inactive, "stale offer": _stale,
            "wrong help type": _wrong_help_type, "outside coverage": _outside_coverage}


@pytest.mark.parametrize("spoiler", SPOILERS.values(), ids=SPOILERS.keys())
def test_who_is_never_a_candidate(make, session, reporter, now, spoiler):
    fitting = make.org(country="KE")
    make.offer(fitting, countries=["KE"])
    spoiler(make, now)
    session.commit()
    assert [c.organisation_id for c in rank(session, profile_for(reporter), limit=10, now=now)] == [fitting.id]


def test_an_offer_confirmed_exactly_at_the_limit_still_counts(make, session, reporter, now):
    org = make.org(country="KE")
    offer = make.offer(org, countries=["KE"])
    offer.confirmed_at = now - timedelta(days=90)
    session.commit()
    assert [c.organisation_id for c in rank(session, profile_for(reporter), limit=10, now=now)] == [org.id]


def test_the_confirmation_period_is_a_setting(make, session, reporter, now, app, monkeypatch):
    org = make.org(country="KE")
    offer = make.offer(org, countries=["KE"])
    offer.confirmed_at = now - timedelta(days=20)
    session.commit()
    monkeypatch.setitem(app.config, "OFFER_CONFIRM_DAYS", 10)
    assert rank(session, profile_for(reporter), limit=10, now=now) == []


def test_the_reporter_never_helps_itself(make, session, reporter, now):
    make.offer(reporter, countries=["KE"])
    other = make.org(country="KE")
    make.offer(other, countries=["KE"])
    assert [c.organisation_id for c in rank(session, profile_for(reporter), limit=10, now=now)] == [other.id]


def test_organisations_already_asked_are_left_out(make, session, reporter, now):
    asked, fresh = make.org(country="KE"), make.org(country="KE")
    for org in (asked, fresh):
        make.offer(org, countries=["KE"])
    ranked = rank(session, profile_for(reporter, exclude=frozenset({asked.id})), limit=10, now=now)
    assert [c.organisation_id for c in ranked] == [fresh.id]


def test_nothing_asked_for_no_slot(make, session, reporter, now):
    make.offer(make.org(country="KE"), countries=["KE"])
    assert rank(session, profile_for(reporter), limit=0, now=now) == []


# -- Capacity ----------------------------------------------------------------------------------------

@pytest.fixture
def one_slot(make, reporter):
    org = make.org(country="KE")
    make.offer(org, countries=["KE"], capacity=1)
    return org


def _ids(session, reporter, now, help_type="legal"):
    return [c.organisation_id for c in rank(session, profile_for(reporter, help_type), limit=10, now=now)]


def test_a_full_organisation_is_not_asked(session, reporter, one_slot, now):
    past_match(session, reporter, one_slot, status=MatchStatus.accepted, created_at=now - timedelta(days=2))
    session.commit()
    assert _ids(session, reporter, now) == []


def test_a_slot_frees_up_when_the_case_is_completed(session, reporter, one_slot, now):
    match = past_match(session, reporter, one_slot, status=MatchStatus.accepted, created_at=now - timedelta(days=2))
    session.commit()
    match.status, match.completed_at = MatchStatus.completed, now
    session.commit()
    assert _ids(session, reporter, now) == [one_slot.id]


def test_an_old_accepted_case_still_takes_its_slot(session, reporter, one_slot, now):
    past_match(session, reporter, one_slot, status=MatchStatus.accepted, created_at=now - timedelta(days=800))
    session.commit()
    assert _ids(session, reporter, now) == []


@pytest.mark.parametrize("status", [MatchStatus.declined, MatchStatus.expired, MatchStatus.proposed,
                                    MatchStatus.notified])
def test_requests_not_accepted_take_no_slot(session, reporter, one_slot, now, status):
    past_match(session, reporter, one_slot, status=status, created_at=now - timedelta(days=2))
    session.commit()
    assert _ids(session, reporter, now) == [one_slot.id]


def test_capacity_is_per_help_type(make, session, reporter, one_slot, now):
    make.offer(one_slot, "communications", countries=["KE"], capacity=1)
    past_match(session, reporter, one_slot, help_type="communications", status=MatchStatus.accepted,
               created_at=now - timedelta(days=2))
    session.commit()
    assert (_ids(session, reporter, now), _ids(session, reporter, now, "communications")) == ([one_slot.id], [])


def test_history_older_than_the_window_is_forgotten(make, session, reporter, now):
    org = make.org(country="KE", languages=("sw",))
    make.offer(org, countries=["KE"])
    past_match(session, reporter, org, status=MatchStatus.declined, created_at=now - timedelta(days=400),
               answered_after=timedelta(days=3))
    session.commit()
    [candidate] = rank(session, profile_for(reporter), limit=1, now=now)
    assert candidate.reasons[-1] == "no past requests"


def test_reporters_ratings_rank_a_responder_down_and_say_so(make, session, reporter, now):
    rated, unrated = make.org("Rated", country="KE", languages=("sw",)), make.org("Unrated", country="KE",
                                                                               languages=("sw",))
    for org in (rated, unrated):
        make.offer(org, countries=["KE"])
    author = make.admin_of(reporter).id
    for rating in (1, 2):
        match = past_match(session, reporter, rated, status=MatchStatus.completed, created_at=now - timedelta(days=9),
                           answered_after=timedelta(minutes=5))
        session.flush()
        past_rating(session, match, rating, author_id=author, created_at=now - timedelta(days=2))
    # A responder's review of the case is about the reporter, and never counts for the responder.
    other = past_match(session, reporter, unrated, status=MatchStatus.completed, created_at=now - timedelta(days=9),
                       answered_after=timedelta(minutes=5))
    session.flush()
    past_rating(session, other, 1, author_id=author, role=ReviewRole.responder, created_at=now - timedelta(days=2))
    session.commit()
    first, second = rank(session, profile_for(reporter), limit=2, now=now)
    assert (first.organisation_id, second.organisation_id) == (unrated.id, rated.id)
    assert first.score - second.score == 10 * 7 // 12
    assert second.reasons[-1] == "rated 1.5 of 5 by reporters (2 reviews)"
    assert not any("rated" in reason for reason in first.reasons)
