"""matching.scoring on plain values: points per fact and the reasons a coordinator reads."""
from __future__ import annotations

import pytest

from solidarity.matching.scoring import (
    COUNTRY,
    REGION,
    WORLD,
    Facts,
    History,
    accept_points,
    bound,
    capacity_points,
    language_points,
    median_limit,
    rating_points,
    score,
    speed_points,
)


def facts(**overrides) -> Facts:
    values = {"coverage": COUNTRY, "area": "KE", "shared_languages": ("sw", "en"), "capacity": 3, "busy": 1,
              "history": History()}
    return Facts(**{**values, **overrides})


def test_the_reasons_say_why_in_words():
    history = History(asked=5, accepted=4, answered=5, within=(3, 5, 5))
    assert score(facts(history=history)).reasons == (
        "covers KE", "speaks sw, en", "2 of 3 cases free", "accepted 4 of 5 requests", "median answer within 1 h")


def test_a_newcomer_ranks_level_with_a_perfect_record():
    newcomer = score(facts(history=History()))
    perfect = score(facts(history=History(asked=6, accepted=6, answered=6, within=(6, 6, 6))))
    assert newcomer.reasons[-1] == "no past requests"
    assert newcomer.points == perfect.points == 40 + 25 + 6


@pytest.mark.parametrize(("coverage", "area", "reason"), [
    (COUNTRY, "KE", "covers KE"), (REGION, "014", "covers Eastern Africa"), (WORLD, "world", "covers the whole world")])
def test_coverage_reason_names_the_place(coverage, area, reason):
    assert score(facts(coverage=coverage, area=area)).reasons[0] == reason


def test_country_beats_region_beats_worldwide():
    points = [score(facts(coverage=c)).points for c in (COUNTRY, REGION, WORLD)]
    assert points == sorted(points, reverse=True) and len(set(points)) == 3


def test_a_shared_language_outweighs_the_coverage_level():
    understood = score(facts(coverage=REGION, area="014", shared_languages=("sw",)))
    not_understood = score(facts(coverage=COUNTRY, shared_languages=()))
    assert understood.points > not_understood.points
    assert not_understood.reasons[1] == "no shared language"


@pytest.mark.parametrize(("shared", "points"), [(0, 0), (1, 20), (2, 25), (3, 25)])
def test_language_points(shared, points):
    assert language_points(shared) == points


@pytest.mark.parametrize(("capacity", "busy", "points"), [(1, 0, 10), (3, 1, 6), (3, 2, 3), (10, 9, 1), (2, 2, 0)])
def test_capacity_points_follow_the_free_share(capacity, busy, points):
    assert capacity_points(capacity, busy) == points


def test_capacity_reason_counts_cases():
    assert score(facts(capacity=1, busy=0)).reasons[2] == "1 of 1 case free"


@pytest.mark.parametrize(("asked", "accepted", "points"), [(0, 0, 0), (1, 1, 0), (1, 0, -6), (5, 4, -2), (5, 0, -14),
                                                           (50, 0, -19)])
def test_refusals_cost_points_smoothed_so_one_weighs_little(asked, accepted, points):
    assert accept_points(History(asked=asked, accepted=accepted, answered=asked)) == points


@pytest.mark.parametrize(("answered", "within", "limit", "points"), [
    (0, (0, 0, 0), None, 0),  # no answer yet: neutral
    (4, (2, 4, 4), 3600, 0),  # half within an hour: the lower median is within an hour
    (5, (2, 3, 5), 6 * 3600, -2),
    (3, (0, 1, 2), 24 * 3600, -4),
    (3, (0, 0, 1), None, -7),
])
def test_speed_follows_the_median_answer_time(answered, within, limit, points):
    history = History(asked=answered, accepted=0, answered=answered, within=within)
    assert (median_limit(history), speed_points(history)) == (limit, points)


def test_slow_answers_are_named():
    history = History(asked=4, accepted=0, answered=4, within=(0, 0, 1))
    assert score(facts(history=history)).reasons[-2:] == ("accepted 0 of 4 requests", "median answer over 24 h")


def test_requests_never_answered_show_no_answer_time():
    history = History(asked=2, accepted=0, answered=0, within=(0, 0, 0))
    assert score(facts(history=history)).reasons[-1] == "accepted 0 of 2 requests"


def test_score_is_the_sum_of_its_parts():
    history = History(asked=4, accepted=3, answered=4, within=(1, 3, 4))
    scored = score(facts(coverage=REGION, area="014", shared_languages=("en",), capacity=4, busy=1, history=history))
    assert scored.points == 25 + 20 + 7 - (20 * 1 // 6) - 2


@pytest.mark.parametrize("history", [History(), History(asked=3, accepted=1, answered=2, within=(0, 1, 2)),
                                     History(rated=2, rating_total=3)])
@pytest.mark.parametrize(("capacity", "busy"), [(1, 0), (3, 1), (5, 4)])
def test_the_bound_is_never_exceeded_and_reached_by_a_free_newcomer(history, capacity, busy):
    scored = score(facts(capacity=capacity, busy=busy, history=history))
    assert scored.points <= bound(COUNTRY, 2)
    assert score(facts(capacity=capacity, busy=0)).points == bound(COUNTRY, 2)


@pytest.mark.parametrize(("rated", "total", "points"), [
    (0, 0, 0),  # no reviews: nothing taken away
    (3, 15, 0),  # all fives
    (1, 1, -5),  # one rating of 1 weighs half of the most
    (1, 3, -2),  # 10 * 2 // 8
    (9, 9, -9),  # many ones: nearly the whole 10
    (4, 14, -3),  # 10 * 6 // 20
])
def test_poor_ratings_cost_points_smoothed_by_a_phantom_five(rated, total, points):
    assert rating_points(History(rated=rated, rating_total=total)) == points


def test_ratings_are_explained_and_counted_in_the_score():
    history = History(asked=2, accepted=2, answered=2, within=(2, 2, 2), rated=2, rating_total=5)
    scored = score(facts(history=history))
    assert scored.reasons[-1] == "rated 2.5 of 5 by reporters (2 reviews)"
    assert scored.points == score(facts(history=History(asked=2, accepted=2, answered=2, within=(2, 2, 2)))).points \
        - 10 * 5 // 12
    assert score(facts(history=History(rated=1, rating_total=5))).reasons[-1] == \
        "rated 5.0 of 5 by reporters (1 review)"
    assert not any("rated" in r for r in score(facts()).reasons)  # no reviews, no words about them
