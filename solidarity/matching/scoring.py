"""How good a candidate is, in points and in words. Pure: plain values in, plain values out.

A score is a sum of whole points, so the candidate query can compute exactly the same number in SQL
(candidates.py renders these tables as SQL expressions) and rank there; `score()` is the reference
the query is tested against, and it writes the reasons a coordinator reads.

    coverage     country 40, region 25, worldwide 10 (offers that know the place come first)
    languages    first shared language 20, a second one 5 more (being understood matters more than
                 the exact coverage level: a region-wide responder who speaks the reporter's language
                 outranks a national one who does not)
    capacity     up to 10, by the share of the offer's cases still free (rounded down)
    reliability  penalties only, 0 without history: requests not accepted over the history window,
                 smoothed with two phantom acceptances so that one or two refusals weigh little
                 (down to almost -20); median time to answer: 0 within an hour, -2 within 6 hours,
                 -4 within a day, -7 slower; reporters' after-action ratings (1 to 5): the shortfall
                 of their average from 5, smoothed with one phantom 5, as up to 10 points taken away
                 (one rating of 1 costs 5, many cost nearly 10).

Reliability only ever takes points away, on purpose: a newcomer ranks level with an organisation
whose record is perfect, so requests spread over the network instead of always landing on the same
few, and an unreliable record still pushes an organisation down. It also makes coverage, languages
and a fully free offer an upper bound of the score (`bound()`), which is what lets the query look
at only the best few covering offers instead of every one (see candidates.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from solidarity.geo import region_name

COUNTRY, REGION, WORLD = "country", "region", "world"
COVERAGE_POINTS = {COUNTRY: 40, REGION: 25, WORLD: 10}
LANGUAGE_POINTS = (0, 20, 25)  # by number of shared languages; more than two count as two
CAPACITY_POINTS = 10
REFUSAL_POINTS = 20  # the most that requests not accepted can take away
# (median answer within this many seconds, points), fastest first; slower than the last: SLOW_POINTS.
SPEED_POINTS = ((3600, 0), (6 * 3600, -2), (24 * 3600, -4))
SLOW_POINTS = -7
RATING_POINTS = 10  # the most that poor after-action ratings can take away
BEST_RATING, WORST_RATING = 5, 1


@dataclass(frozen=True)
class History:
    """An organisation's requests over the history window that are no longer pending."""

    asked: int = 0  # accepted, completed, declined or expired
    accepted: int = 0  # accepted or completed
    answered: int = 0  # accepted, completed or declined: those with an answer time
    within: tuple[int, ...] = (0,) * len(SPEED_POINTS)  # answered within each SPEED_POINTS limit, in order
    rated: int = 0  # after-action ratings by reporters whose incidents it helped with
    rating_total: int = 0  # their sum


@dataclass(frozen=True)
class Facts:
    coverage: str  # COUNTRY, REGION or WORLD: the best level at which the offer covers the place
    area: str  # the code covered: a country, an M49 region or "world"
    shared_languages: tuple[str, ...]
    capacity: int
    busy: int  # accepted cases of this help type still open
    history: History = History()


@dataclass(frozen=True)
class Score:
    points: int
    reasons: tuple[str, ...]


def coverage_points(coverage: str) -> int:
    return COVERAGE_POINTS[coverage]


def language_points(shared: int) -> int:
    return LANGUAGE_POINTS[min(shared, len(LANGUAGE_POINTS) - 1)]


def capacity_points(capacity: int, busy: int) -> int:
    free = max(0, capacity - busy)
    return CAPACITY_POINTS * free // capacity if capacity > 0 else 0


def accept_points(history: History) -> int:
    # Share of requests not accepted, with two phantom acceptances, as whole points taken away.
    return -(REFUSAL_POINTS * (history.asked - history.accepted) // (history.asked + 2))


def rating_points(history: History) -> int:
    # The ratings' total shortfall from the best, over the most it could be with one phantom best
    # rating added (so that a single harsh review weighs half), as whole points taken away.
    shortfall = BEST_RATING * history.rated - history.rating_total
    return -(RATING_POINTS * shortfall // ((BEST_RATING - WORST_RATING) * (history.rated + 1)))


def bound(coverage: str, shared: int) -> int:
    """The most any offer with this coverage and number of shared languages can score."""
    return coverage_points(coverage) + language_points(shared) + CAPACITY_POINTS


def median_limit(history: History) -> int | None:
    """The first SPEED_POINTS limit within which the (lower) median answer came; None if slower or no answers.

    The lower median of n answer times is within a limit exactly when at least half of them are, so
    the counts in History decide it without the times themselves.
    """
    if not history.answered:
        return None
    for (limit, _points), count in zip(SPEED_POINTS, history.within, strict=True):
        if 2 * count >= history.answered:
            return limit
    return None


def speed_points(history: History) -> int:
    if not history.answered:
        return 0
    limit = median_limit(history)
    return SLOW_POINTS if limit is None else dict(SPEED_POINTS)[limit]


def _duration(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"


def _coverage_reason(coverage: str, area: str) -> str:
    if coverage == COUNTRY:
        return f"covers {area}"
    if coverage == REGION:
        return f"covers {region_name(area)}"
    return "covers the whole world"


def _history_reasons(history: History) -> tuple[str, ...]:
    if not history.asked:
        return ("no past requests",)
    reasons = [f"accepted {history.accepted} of {history.asked} requests"]
    if history.answered:
        limit = median_limit(history)
        reasons.append(f"median answer within {_duration(limit)}" if limit is not None
                       else f"median answer over {_duration(SPEED_POINTS[-1][0])}")
    return tuple(reasons)


# How the rating reason begins: ratings reach matching and coordinators only (incidents/access.py
# sees_ratings), so whoever else reads a match's reasons gets them without this one.
RATING_REASON = "rated "


def is_rating_reason(reason: str) -> bool:
    return reason.startswith(RATING_REASON)


def _rating_reasons(history: History) -> tuple[str, ...]:
    if not history.rated:
        return ()
    average = history.rating_total / history.rated
    reviews = "review" if history.rated == 1 else "reviews"
    return (f"{RATING_REASON}{average:.1f} of {BEST_RATING} by reporters ({history.rated} {reviews})",)


def score(facts: Facts) -> Score:
    points = (coverage_points(facts.coverage) + language_points(len(facts.shared_languages))
              + capacity_points(facts.capacity, facts.busy) + accept_points(facts.history)
              + speed_points(facts.history) + rating_points(facts.history))
    languages = (f"speaks {', '.join(facts.shared_languages)}" if facts.shared_languages
                 else "no shared language")
    free = max(0, facts.capacity - facts.busy)
    reasons = (_coverage_reason(facts.coverage, facts.area), languages,
               f"{free} of {facts.capacity} {'case' if facts.capacity == 1 else 'cases'} free",
               *_history_reasons(facts.history), *_rating_reasons(facts.history))
    return Score(points, reasons)
