"""Signed answer links: valid until they expire, and useless once altered."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from solidarity.notify import links

SECRET = "link-test-secret"
MAX_AGE = timedelta(days=3)


def test_round_trip(now):
    link = links.AnswerLink(uuid.uuid4(), uuid.uuid4(), True)
    token = links.make_token(SECRET, link, now=now)
    assert links.read_token(SECRET, token, now=now + MAX_AGE, max_age=MAX_AGE) == link


def test_expired(now):
    token = links.make_token(SECRET, links.AnswerLink(uuid.uuid4(), uuid.uuid4(), False), now=now)
    with pytest.raises(links.ExpiredLink):
        links.read_token(SECRET, token, now=now + MAX_AGE + timedelta(seconds=1), max_age=MAX_AGE)


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: "x" + t,
    lambda t: "",
])
def test_altered_or_foreign_tokens_are_refused(now, tamper):
    token = links.make_token(SECRET, links.AnswerLink(uuid.uuid4(), uuid.uuid4(), True), now=now)
    with pytest.raises(links.BadLink):
        links.read_token(SECRET, tamper(token), now=now, max_age=MAX_AGE)
    with pytest.raises(links.BadLink):
        links.read_token("another-secret", token, now=now, max_age=MAX_AGE)
