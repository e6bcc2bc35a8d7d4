"""Reference codes: unambiguous, unguessable, unique."""
from __future__ import annotations

from solidarity.incidents import refs
from tests.incidents.scenario import build

AMBIGUOUS = set("0O1IL5S2Z8B")


def test_codes_avoid_ambiguous_characters():
    assert not AMBIGUOUS & set(refs.ALPHABET)
    codes = {refs.generate() for _ in range(2000)}
    assert all(len(code) == refs.LENGTH and set(code) <= set(refs.ALPHABET) for code in codes)
    assert len(codes) > 1990  # drawn from ~10 million: repeats in 2,000 are rare


def test_a_taken_code_is_drawn_again(make, session, now, monkeypatch):
    taken = build(make, now=now).incident.ref
    draws = iter([taken, taken, "K7QFH"])
    monkeypatch.setattr(refs, "generate", lambda length=refs.LENGTH: next(draws))
    assert refs.new_ref(session) == "K7QFH"


def test_crowded_space_grows_the_code(make, session, now, monkeypatch):
    taken = build(make, now=now).incident.ref
    lengths = []

    def generate(length=refs.LENGTH):
        lengths.append(length)
        return taken if length == refs.LENGTH else "K7QFHX"

    monkeypatch.setattr(refs, "generate", generate)
    assert refs.new_ref(session) == "K7QFHX"
    assert lengths[-1] == refs.MAX_LENGTH


def test_normalise():
    assert refs.normalise(" k7-qf h ") == "K7QFH"
    assert refs.is_well_formed("K7QFH") and not refs.is_well_formed("K7QF") and not refs.is_well_formed("K0QFH")
