"""Directory freshness: offers nearing expiry are reminded once per period, expired ones are not
matched, and organisations nobody can act for are flagged to the coordinators once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from solidarity.escalation import freshness
from solidarity.escalation.models import DirectoryFlag
from solidarity.matching.service import NeedProfile, rank
from solidarity.offers import service as offers
from tests.escalation.network import alerts

DAY = timedelta(days=1)


def offer_confirmed(make, session, org, confirmed_at):
    offer = make.offer(org, "legal", countries=["KE"])
    offer.confirmed_at = confirmed_at
    session.commit()
    return offer


def test_offers_are_reminded_before_expiry_once_per_period(make, session, now):
    fresh, nearing, expired = (make.org(country="KE") for _ in range(3))
    offer_confirmed(make, session, fresh, now - 75 * DAY)  # reminder from day 76 (90 - 14)
    nearing_offer = offer_confirmed(make, session, nearing, now - 80 * DAY)
    offer_confirmed(make, session, expired, now - 120 * DAY)
    member = make.user(nearing)  # a plain member is not asked: admins decide about offers

    assert freshness.remind_offers(session, now=now) == 2
    reminders = alerts(session, "offer_reminder")
    assert {n.user_id for n in reminders} == {make.admin_of(nearing).id, make.admin_of(expired).id}
    assert member.id not in {n.user_id for n in reminders}
    assert all(n.params == {"help_type": "legal"} for n in reminders)
    assert freshness.remind_offers(session, now=now + DAY) == 1  # `fresh` reaches its reminder day
    assert freshness.remind_offers(session, now=now + 2 * DAY) == 0

    # Confirming starts a new period, with its own reminder when that one nears its end.
    offers.confirm_offer(session, make.admin_of(nearing), nearing_offer, now=now + 3 * DAY)
    assert freshness.offer_expires_at(nearing_offer) == now + 93 * DAY
    assert freshness.remind_offers(session, now=now + 78 * DAY) == 0
    assert freshness.remind_offers(session, now=now + 79 * DAY) == 1


def test_expired_offers_are_not_matched_until_confirmed(make, session, now):
    reporter = make.org(country="KE")
    current, stale = make.org(country="KE"), make.org(country="KE")
    offer_confirmed(make, session, current, now - 10 * DAY)
    stale_offer = offer_confirmed(make, session, stale, now - 91 * DAY)
    profile = NeedProfile(help_type="legal", country="KE", region="014", languages=("en",), reporter_id=reporter.id)

    assert [c.organisation_id for c in rank(session, profile, limit=5, now=now)] == [current.id]
    offers.confirm_offer(session, make.admin_of(stale), stale_offer, now=now)
    assert {c.organisation_id for c in rank(session, profile, limit=5, now=now)} == {current.id, stale.id}


def test_organisations_without_an_active_user_are_flagged_once(make, session, now):
    coordinator = make.coordinator()
    lively, silent = make.org(), make.org()
    make.org(vetted=False)  # applicants are not in the directory yet
    admin = make.admin_of(silent)
    admin.active = False
    session.commit()

    assert freshness.organisations_without_active_user(session) == [silent]
    assert freshness.flag_organisations(session, now=now) == 1
    assert freshness.flag_organisations(session, now=now + DAY) == 0
    (alert,) = alerts(session, "directory_alert")
    assert alert.user_id == coordinator.id

    admin.active = True
    session.commit()
    assert freshness.check_directory(session, now=now + 2 * DAY) == {"offers_reminded": 0,
                                                                     "organisations_flagged": 0}
    assert session.scalar(select(DirectoryFlag)) is None  # cleared: a later silence is flagged anew
    assert lively not in freshness.organisations_without_active_user(session)
