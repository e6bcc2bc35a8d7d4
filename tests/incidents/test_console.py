"""The console's queries: open incidents by urgency, and the network's gaps (defined in incidents/console.py)."""
from __future__ import annotations

from datetime import timedelta

from solidarity.incidents import console
from solidarity.incidents.console import Gap
from solidarity.incidents.indicators import OfferCount
from solidarity.incidents.service import change_status
from solidarity.members import service as members
from solidarity.members.models import Vetting
from solidarity.playbook import service as playbook

NEEDED = {"raid": {"legal", "digital_security"}, "expulsion": {"relocation", "legal"}, "other": set()}


def test_a_gap_is_needed_help_that_no_offer_reaches_in_a_region_that_matters():
    offers = [OfferCount("legal", "014", 2), OfferCount("digital_security", "world", 1),
              OfferCount("relocation", "145", 1)]  # 145 does not matter: no gap, no coverage counted
    assert console.gaps(NEEDED, {"014", "155"}, offers) == [
        Gap("014", "relocation", ["expulsion"]),
        Gap("155", "legal", ["expulsion", "raid"]),
        Gap("155", "relocation", ["expulsion"]),
    ]


def test_no_plays_or_no_regions_mean_no_gaps():
    assert console.gaps({}, {"014"}, []) == []
    assert console.gaps(NEEDED, set(), []) == []


def test_help_needed_comes_from_published_plays_only(session, make, now):
    playbook.load_initial_playbook(session, now=now)
    needed = console.help_needed(session)
    published = {v.play.threat_type: set(v.help_types) for v in playbook.list_versions(session, make.coordinator())
                 if v.status.value == "published"}
    assert needed == published and needed["raid"]
    raid = playbook.play_for(session, "raid")
    draft = playbook.new_version(session, make.coordinator(), raid.play, now=now)
    playbook.update_draft(session, make.coordinator(), draft, {"help_types": ["relocation"]}, now=now)
    assert console.help_needed(session)["raid"] == published["raid"]  # a draft calls for nothing yet


def test_regions_that_matter_are_vetted_members_and_open_incidents(session, make, now):
    reporter = make.admin_of(make.org(country="KE"))  # 014
    make.org(country="FR")  # 155
    make.org(country="JP", vetted=False)  # applicants do not count
    suspended = make.org(country="BR")
    members.set_vetting(session, make.coordinator(), suspended, Vetting.suspended.value, now=now)
    make.incident(reporter, country="IN", now=now)  # 034, open
    change_status(session, reporter, make.incident(reporter, country="US", now=now), "withdrawn", now=now)
    assert console.regions_that_matter(session) == {"014", "155", "034"}


def test_open_incidents_come_most_severe_then_unanswered_then_longest_waiting(session, make, now):
    reporter = make.admin_of(make.org(country="KE"))
    a = make.incident(reporter, now=now - timedelta(hours=1), severity=2)
    b = make.incident(reporter, now=now - timedelta(hours=2), severity=2)
    c = make.incident(reporter, now=now - timedelta(minutes=1), severity=4)
    rows = console.open_incidents(session, now=now)
    assert [r.incident.ref for r in rows] == [c.ref, b.ref, a.ref]
    assert [r.waiting for r in rows] == [timedelta(minutes=1), timedelta(hours=2), timedelta(hours=1)]
    assert not any(r.answered for r in rows)
