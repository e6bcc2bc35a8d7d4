"""Keep the directory of responders current: offers are confirmed periodically, and an organisation
nobody can act for any more is brought to the coordinators' attention.

Matching ignores offers confirmed longer than OFFER_CONFIRM_DAYS ago. Some days before that
(OFFER_REMINDER_DAYS_BEFORE), the organisation's admins get one "offer_reminder" per confirmation
period; confirming (offers.service.confirm_offer, or any edit) starts a new period.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import Session, selectinload

from solidarity.escalation.alerts import active_coordinators, notify_organisations
from solidarity.escalation.models import DirectoryFlag, OfferReminder
from solidarity.extensions import settings
from solidarity.members.models import Organisation, Role, User, Vetting
from solidarity.members.service import by_name
from solidarity.notify.outbox import enqueue
from solidarity.offers.models import Offer

NO_ACTIVE_USER = "no_active_user"


def offer_expires_at(offer: Offer) -> datetime:
    """When matching stops using `offer` unless it is confirmed again."""
    return offer.confirmed_at + timedelta(days=int(settings()["OFFER_CONFIRM_DAYS"]))


def remind_offers(session: Session, *, now: datetime) -> int:
    """Remind the admins of each active offer nearing (or past) expiry, once per period. One commit."""
    days = int(settings()["OFFER_CONFIRM_DAYS"]) - int(settings()["OFFER_REMINDER_DAYS_BEFORE"])
    already = exists().where(OfferReminder.offer_id == Offer.id, OfferReminder.confirmed_at == Offer.confirmed_at)
    due = session.scalars(select(Offer).join(Organisation, Organisation.id == Offer.organisation_id)
                          .where(Offer.active.is_(True), Offer.confirmed_at <= now - timedelta(days=max(days, 0)),
                                 Organisation.vetting_status == Vetting.vetted, ~already)
                          .order_by(Offer.confirmed_at, Offer.id))
    reminded = 0
    for offer in due:
        # Admins decide about offers; an organisation without one still hears through its members.
        sent = notify_organisations(session, [offer.organisation_id], "offer_reminder", now=now,
                                    roles=(Role.org_admin,), help_type=offer.help_type)
        if not sent:
            notify_organisations(session, [offer.organisation_id], "offer_reminder", now=now,
                                 help_type=offer.help_type)
        session.add(OfferReminder(offer_id=offer.id, confirmed_at=offer.confirmed_at, sent_at=now))
        reminded += 1
    session.commit()
    return reminded


def organisations_without_active_user(session: Session) -> list[Organisation]:
    """Vetted organisations in which nobody can sign in, answer a request or confirm an offer."""
    active_user = exists().where(User.organisation_id == Organisation.id, User.active.is_(True))
    return by_name(session.scalars(select(Organisation)
                                   .where(Organisation.vetting_status == Vetting.vetted, ~active_user)
                                   .options(selectinload(Organisation.data_key))))


def flag_organisations(session: Session, *, now: datetime) -> int:
    """Flag newly orphaned organisations to every coordinator ("directory_alert"), once per case.

    Flags of organisations that have an active user again are cleared. Returns how many organisations
    were newly flagged. One commit.
    """
    orphaned = {org.id for org in organisations_without_active_user(session)}
    flagged = set(session.scalars(select(DirectoryFlag.organisation_id).where(DirectoryFlag.reason == NO_ACTIVE_USER)))
    cleared = flagged - orphaned
    if cleared:
        session.execute(delete(DirectoryFlag).where(and_(DirectoryFlag.reason == NO_ACTIVE_USER,
                                                         DirectoryFlag.organisation_id.in_(cleared))))
    new = orphaned - flagged
    session.add_all(DirectoryFlag(organisation_id=org_id, reason=NO_ACTIVE_USER, flagged_at=now) for org_id in new)
    if new:
        for coordinator in active_coordinators(session):
            enqueue(session, coordinator, "directory_alert", now=now, reason=NO_ACTIVE_USER)
    session.commit()
    return len(new)


def check_directory(session: Session, *, now: datetime) -> Counter:
    """The daily freshness job: offer reminders and organisations flagged."""
    return Counter(offers_reminded=remind_offers(session, now=now),
                   organisations_flagged=flag_organisations(session, now=now))
