"""The one place that reads the wall clock, so services can take `now` and tests can pass their own."""
import math
from datetime import datetime, timedelta, timezone

from babel.dates import format_timedelta


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def wait_in_words(seconds: float, locale: str = "en") -> str:
    """A wait as people say it ("12 minutes", "2 hours"), rounded up to whole minutes so nobody is
    told to come back before the wait is over. Babel words it, so every interface language has it."""
    minutes = max(1, math.ceil(seconds / 60))
    return format_timedelta(timedelta(minutes=minutes), threshold=1, locale=locale)
