"""Offers and their coverage. Coverage and languages are rows, not lists, so matching is an indexed join."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.fields import Encrypted, UTCDateTime, new_id
from solidarity.members.models import Organisation

WORLD = "world"


class Offer(db.Model):
    __tablename__ = "offers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                       index=True)
    help_type: Mapped[str] = mapped_column(String(40), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    areas: Mapped[list[OfferArea]] = relationship(cascade="all, delete-orphan", order_by="OfferArea.code")
    language_rows: Mapped[list[OfferLanguage]] = relationship(cascade="all, delete-orphan",
                                                              order_by="OfferLanguage.language")

    notes = Encrypted()

    def key_holder(self) -> Organisation:
        return self.organisation

    @property
    def worldwide(self) -> bool:
        return any(a.kind == WORLD for a in self.areas)

    @property
    def countries(self) -> list[str]:
        return [a.code for a in self.areas if a.kind == "country"]

    @property
    def regions(self) -> list[str]:
        return [a.code for a in self.areas if a.kind == "region"]

    @property
    def languages(self) -> list[str]:
        return [row.language for row in self.language_rows]


class OfferArea(db.Model):
    """One place an offer covers: a country, an M49 region, or the world (code 'world')."""

    __tablename__ = "offer_areas"
    # offer_id last: matching's lookup (help_type, kind, code) is then answered from the index alone.
    __table_args__ = (Index("ix_offer_areas_lookup", "help_type", "kind", "code", "offer_id"),)

    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # country | region | world
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    help_type: Mapped[str] = mapped_column(String(40))  # copied from the offer so the lookup index covers it


class OfferLanguage(db.Model):
    __tablename__ = "offer_languages"

    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(2), primary_key=True)
