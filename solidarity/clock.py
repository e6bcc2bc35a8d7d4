"""The one place that reads the wall clock, so services can take `now` and tests can pass their own."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
