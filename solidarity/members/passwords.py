"""Argon2id password hashing; parameters come from config so tests can use cheap ones."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from solidarity.errors import ValidationError
from solidarity.extensions import settings

MIN_LENGTH = 12
# A real hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY: dict[tuple, str] = {}


def _hasher() -> PasswordHasher:
    cfg = settings()
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"],
                          parallelism=cfg["ARGON2_PARALLELISM"])


def check_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationError(field, f"use at least {MIN_LENGTH} characters")
    if len(password) > 1024:
        raise ValidationError(field, "use at most 1024 characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher().hash(password)


def hash_pin(pin: str) -> str:
    """Hash a short PIN with the same Argon2 costs; the caller checks its format."""
    return _hasher().hash(pin)


def verify_password(stored: str | None, password: str) -> bool:
    hasher = _hasher()
    if stored is None:
        params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if params not in _DUMMY:
            _DUMMY[params] = hasher.hash("not a real password")
        stored = _DUMMY[params]
        password = password + "\0"  # never matches the dummy
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
