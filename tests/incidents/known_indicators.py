"""A hand-built data set whose indicators are worked out by hand; shared by the domain, web and API tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from solidarity.incidents.indicators import Acceptance, FirstAcceptance, MonthCount, NeedsCovered, OfferCount, Window
from solidarity.incidents.service import answer_match, change_status
from solidarity.matching.models import Match
from solidarity.members import service as members
from solidarity.members.models import Vetting

WINDOW = Window(date(2026, 1, 1), date(2026, 11, 22))


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


@dataclass
class Known:
    """What the hand-built data set must give, worked out by hand."""

    per_month = [MonthCount("2026-09", "raid", 1), MonthCount("2026-10", "media_attack", 1),
                 MonthCount("2026-10", "raid", 1), MonthCount("2026-11", "deregistration", 1),
                 MonthCount("2026-11", "political_upheaval", 1)]
    # I1 2 h, I2 4 h (A declined after 1 h; B accepted after 4 h), I3 30 min; I4 and I6 nobody.
    first = FirstAcceptance(incidents=5, accepted=3, median_seconds=7200, p90_seconds=14400)
    # I1: A yes, B waiting. I2: A no, B yes, C waiting. I3: C yes. I4 withdrawn: A, B expired. I6: nobody asked.
    acceptance = Acceptance(asked=8, accepted=3, declined=1, expired=2, waiting=2)
    # I4 withdrawn is left out. I1, I3 every need; I2 legal yes, communications no; I6 relocation no.
    covered = NeedsCovered(incidents=4, every=2, some=1, none=1)
    # A legal KE+UG+FR counts once in 014 and once in 155; stale, inactive and suspended offers don't count.
    offers = [OfferCount("legal", "014", 2), OfferCount("communications", "014", 1),
              OfferCount("legal", "155", 1), OfferCount("digital_security", "world", 1)]


def match_of(session, incident, org, help_type="legal") -> Match:
    return session.scalar(select(Match).where(Match.incident_id == incident.id, Match.organisation_id == org.id,
                                              Match.help_type == help_type))


def answer(session, make, incident, org, accept, after, help_type="legal"):
    answer_match(session, make.admin_of(org), match_of(session, incident, org, help_type), accept,
                 now=incident.created_at + after)


def build(session, make, now) -> Known:
    """The data set: reporter R in Kenya; A and B offer legal help, C communications; six incidents."""
    reporter = make.admin_of(make.org("Haki Watch", country="KE"))
    a, b, c = make.org("Alpha", country="KE"), make.org("Beta", country="KE"), make.org("Gamma", country="KE")
    # Capacity for several cases at once, so that an earlier acceptance does not keep them from being asked.
    make.offer(a, "legal", countries=["KE", "UG", "FR"], capacity=5)
    make.offer(b, "legal", countries=["KE"], capacity=5)
    make.offer(c, "communications", countries=["KE"], capacity=5)
    make.offer(make.org("Delta", country="FR"), "digital_security", countries=[], worldwide=True)
    make.offer(make.org("Stale", country="KE"), "legal").confirmed_at = now - timedelta(days=400)
    make.offer(make.org("Idle", country="KE"), "legal", active=False)
    suspended = make.org("Suspended", country="KE")
    make.offer(suspended, "relocation")
    members.set_vetting(session, make.coordinator(), suspended, Vetting.suspended.value, now=now)
    session.commit()

    i1 = make.incident(reporter, now=at("2026-09-10"), threat_type="raid", needs=["legal"])
    answer(session, make, i1, a, True, timedelta(hours=2))
    i2 = make.incident(reporter, now=at("2026-10-05"), threat_type="raid", needs=["legal", "communications"])
    answer(session, make, i2, a, False, timedelta(hours=1))
    answer(session, make, i2, b, True, timedelta(hours=4))
    i3 = make.incident(reporter, now=at("2026-10-20"), threat_type="media_attack", needs=["communications"])
    answer(session, make, i3, c, True, timedelta(minutes=30), "communications")
    i4 = make.incident(reporter, now=at("2026-11-01"), threat_type="deregistration", needs=["legal"])
    change_status(session, reporter, i4, "withdrawn", now=at("2026-11-02"))
    make.incident(reporter, now=at("2026-11-10"), threat_type="political_upheaval", needs=["relocation"])
    # Outside the window: filed before it, and filed just after its last day.
    old = make.incident(reporter, now=at("2025-12-31", 23), threat_type="raid", needs=["legal"])
    answer(session, make, old, a, True, timedelta(minutes=5))
    make.incident(reporter, now=at("2026-11-23", 0), threat_type="raid", needs=["legal"])
    return Known()
