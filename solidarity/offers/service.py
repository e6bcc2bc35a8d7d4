"""Create, change, withdraw and list offers. One transaction per call; field-named errors."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from solidarity import audit
from solidarity.errors import Checks, Forbidden, ValidationError
from solidarity.extensions import settings
from solidarity.geo import clean_country, clean_languages, clean_region
from solidarity.members import access
from solidarity.members.models import Organisation, User
from solidarity.offers.models import WORLD, Offer, OfferArea, OfferLanguage
from solidarity.records import get_or_404
from solidarity.text import clean_text, is_whole

FIELDS = ("help_type", "countries", "regions", "worldwide", "languages", "capacity", "active", "notes")
MAX_CAPACITY = 100


def help_types() -> list[str]:
    return list(settings()["HELP_TYPES"])


def clean_help_type(value: Any, field: str = "help_type") -> str:
    code = str(value or "").strip().lower()
    if code not in help_types():
        raise ValidationError(field, f"{value!r} is not a help type; use one of {', '.join(help_types())}")
    return code


def _list(value: Any, field: str) -> list:
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError(field, "must be a list")
    return list(value)


def _capacity(value: Any) -> int:
    # int() alone would take 2.5 as 2 and True as 1; forms send digits, JSON sends integers.
    if isinstance(value, str) and is_whole(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("capacity", "must be a whole number")
    if not 1 <= value <= MAX_CAPACITY:
        raise ValidationError("capacity", f"must be between 1 and {MAX_CAPACITY}")
    return value


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, "must be true or false")
    return value


def _values(data: Mapping[str, Any], offer: Offer | None) -> dict[str, Any]:
    checks = Checks()
    for field in sorted(set(data) - set(FIELDS)):
        checks.fail(field, "is not a field of an offer")
    values: dict[str, Any] = {}
    if "help_type" in data or offer is None:
        values["help_type"] = checks(clean_help_type, data.get("help_type"))
    if "countries" in data:
        values["countries"] = [checks(clean_country, c, "countries") for c in checks(_list, data["countries"],
                                                                                      "countries") or []]
    if "regions" in data:
        values["regions"] = [checks(clean_region, r, "regions") for r in checks(_list, data["regions"],
                                                                                 "regions") or []]
    if "worldwide" in data:
        values["worldwide"] = checks(_flag, data["worldwide"], "worldwide")
    if "languages" in data or offer is None:
        values["languages"] = checks(clean_languages, data.get("languages"))
    if "capacity" in data or offer is None:
        values["capacity"] = checks(_capacity, data.get("capacity", 1))
    if "active" in data:
        values["active"] = checks(_flag, data["active"], "active")
    if "notes" in data:
        values["notes"] = checks(clean_text, data["notes"], "notes", 4000)
    checks.done()
    coverage = ("countries", "regions", "worldwide")
    if any(k in values for k in coverage) or offer is None:
        countries = values.get("countries", offer.countries if offer else [])
        regions = values.get("regions", offer.regions if offer else [])
        worldwide = values.get("worldwide", offer.worldwide if offer else False)
        if not (countries or regions or worldwide):
            raise ValidationError("countries", "cover at least one country or region, or set worldwide")
        values["areas"] = ([("country", c) for c in dict.fromkeys(countries)]
                           + [("region", r) for r in dict.fromkeys(regions)]
                           + ([(WORLD, WORLD)] if worldwide else []))
    return values


def _apply(offer: Offer, values: dict[str, Any]) -> None:
    for key in ("help_type", "capacity", "active", "notes"):
        if key in values:
            setattr(offer, key, values[key])
    if "areas" in values or "help_type" in values:
        areas = values.get("areas") or [(a.kind, a.code) for a in offer.areas]
        offer.areas = [OfferArea(kind=kind, code=code, help_type=offer.help_type) for kind, code in areas]
    if "languages" in values:
        offer.language_rows = [OfferLanguage(language=lang) for lang in values["languages"]]


def get_offer(session: Session, offer_id: uuid.UUID | str) -> Offer:
    return get_or_404(session, Offer, offer_id, "offer")


def create_offer(session: Session, actor: User, org: Organisation, data: Mapping[str, Any], *,
                 now: datetime) -> Offer:
    if not access.can_manage_org(actor, org.id):
        raise Forbidden("you cannot add offers for this organisation")
    values = _values(data, None)
    offer = Offer(id=uuid.uuid4(), organisation=org, help_type=values["help_type"], active=True,
                  confirmed_at=now, created_at=now, updated_at=now)
    _apply(offer, values)
    session.add(offer)
    audit.record(session, actor, "offer.created", offer, at=now, help_type=offer.help_type)
    session.commit()
    return offer


def update_offer(session: Session, actor: User, offer: Offer, data: Mapping[str, Any], *, now: datetime) -> Offer:
    if not access.can_manage_org(actor, offer.organisation_id):
        raise Forbidden("you cannot change this offer")
    values = _values(data, offer)
    _apply(offer, values)
    offer.updated_at = offer.confirmed_at = now  # editing an offer is confirming it is current
    audit.record(session, actor, "offer.updated", offer, at=now, fields=sorted(data))
    session.commit()
    return offer


def confirm_offer(session: Session, actor: User, offer: Offer, *, now: datetime) -> Offer:
    """"This offer still stands": matching uses it for another OFFER_CONFIRM_DAYS (escalation.freshness)."""
    if not access.can_manage_org(actor, offer.organisation_id):
        raise Forbidden("you cannot confirm this offer")
    offer.confirmed_at = now
    audit.record(session, actor, "offer.confirmed", offer, at=now, help_type=offer.help_type)
    session.commit()
    return offer


def withdraw_offer(session: Session, actor: User, offer: Offer, *, now: datetime) -> None:
    if not access.can_manage_org(actor, offer.organisation_id):
        raise Forbidden("you cannot withdraw this offer")
    audit.record(session, actor, "offer.withdrawn", offer, at=now, help_type=offer.help_type)
    session.delete(offer)
    session.commit()


def list_offers(session: Session, org: Organisation) -> list[Offer]:
    return list(session.scalars(
        select(Offer).where(Offer.organisation_id == org.id)
        .options(selectinload(Offer.areas), selectinload(Offer.language_rows))
        .order_by(Offer.help_type, Offer.created_at)))
