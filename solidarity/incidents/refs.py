"""Reference codes that a person can read aloud and type into a cheap phone: `YES K7QFH`.

The alphabet leaves out every character that is easily misread or mistyped for another
(0/O, 1/I/L, 5/S, 2/Z, 8/B), so a reply typed from a poor screen still matches.
Codes come from `secrets`, so knowing one code says nothing about the next.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from solidarity.errors import Conflict
from solidarity.incidents.models import Incident

ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 5
# 25**5 is about ten million codes; after a few collisions in a row the space is crowded enough
# that a sixth character is worth its keystroke.
_TRIES_PER_LENGTH = 4
MAX_LENGTH = 6


def generate(length: int = LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise(text: str) -> str:
    """What a person typed (any case, stray spaces or dashes) as a code to look up."""
    return "".join(ch for ch in str(text or "").upper() if ch.isalnum())


def is_well_formed(code: str) -> bool:
    return LENGTH <= len(code) <= MAX_LENGTH and all(ch in ALPHABET for ch in code)


def new_ref(session: Session) -> str:
    """A code no incident has yet. The unique constraint on incidents.ref backs this check up."""
    for length in range(LENGTH, MAX_LENGTH + 1):
        for _ in range(_TRIES_PER_LENGTH):
            code = generate(length)
            if session.scalar(select(Incident.id).where(Incident.ref == code)) is None:
                return code
    raise Conflict("could not find a free reference code; try again", field="ref")
