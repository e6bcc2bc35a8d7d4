"""Organisations, users, vouches, sign-in sessions and API tokens."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.fields import DataKey, Encrypted, KeyHolder, UTCDateTime, new_id


class Vetting(str, enum.Enum):
    applied = "applied"
    vetted = "vetted"
    suspended = "suspended"
    # An applicant a coordinator turned down, with a reason. Kept, not deleted: the audit trail and
    # the vouches refer to it, its address stays taken (a fresh application with it gets the "you
    # have an account" email, not a new row), and a coordinator can still approve it later.
    rejected = "rejected"


class Role(str, enum.Enum):
    coordinator = "coordinator"
    org_admin = "org_admin"
    member = "member"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Plain strings checked by SQLAlchemy, not native enum types: adding a value needs no ALTER TYPE.
    return Enum(cls, native_enum=False, length=20, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])


class Organisation(KeyHolder, db.Model):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Encrypted like contacts: a seized copy of the database must not say which organisation
    # reported which incident (see docs/threat-model.md). Sorted by name in Python, after decrypting.
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    vetting_status: Mapped[Vetting] = mapped_column(_enum(Vetting), default=Vetting.applied, index=True)
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vetted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    consent_share_contacts: Mapped[bool] = mapped_column(Boolean, default=False)
    # Argon2 hash of the optional PIN every SMS incident report must carry (so a seized phone alone
    # cannot file in the organisation's name); None: no PIN asked.
    sms_pin_hash: Mapped[str | None] = mapped_column(String(200))
    # Set by a coordinator's lockdown (a seized device, a compromised member), cleared when a
    # coordinator re-verifies the organisation; while set, its logins see nothing and its SMS are
    # not trusted (see members/access.py and incidents/lockdown.py).
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a coordinator rejected the application (Vetting.rejected), shown to the applicant when they
    # sign in; encrypted like the name, and never put in the email (messages carry no free text).
    rejection_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    data_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("data_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    data_key: Mapped[DataKey | None] = relationship()
    users: Mapped[list[User]] = relationship(back_populates="organisation", foreign_keys="User.organisation_id")
    vouches: Mapped[list[Vouch]] = relationship(foreign_keys="Vouch.applicant_id", order_by="Vouch.created_at")

    name = Encrypted()
    rejection_reason = Encrypted()

    def key_holder(self) -> Organisation:
        return self


class Vouch(db.Model):
    """A vetted member organisation standing behind an applicant; two of them vet it."""

    __tablename__ = "vouches"
    __table_args__ = (UniqueConstraint("applicant_id", "voucher_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    voucher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    voucher: Mapped[Organisation] = relationship(foreign_keys=[voucher_id])


class User(KeyHolder, db.Model):
    __tablename__ = "users"
    # `phone` holds only a proven number (members/phones.py), and one number belongs to at most one
    # active person: otherwise an SMS from it (OK, YES, a report) could act for the wrong one.
    __table_args__ = (Index("uq_users_phone_active", "phone_index", unique=True,
                            sqlite_where=text("active"), postgresql_where=text("active")),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.member)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)  # a person's name is as telling as their email
    email_ct: Mapped[bytes] = mapped_column(LargeBinary)
    email_index: Mapped[str] = mapped_column(String(64), unique=True)
    # The proven number only: a number typed in waits in a PhoneClaim until its code comes back.
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    preferred_language: Mapped[str] = mapped_column(String(2), default="en")
    notify_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the person texts STOP to our number, cleared by START: no SMS while set (email instead).
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # None only for the admin of a public application until they follow the emailed link: until then
    # the password signs no one in, so applying and then signing in cannot tell a registered
    # address from a new one (members.service.apply).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # TOTP two-factor (members/twofactor.py): the secret exists from the start of enrolment, counts
    # only once confirmed with a code (totp_enabled_at). totp_last_step is the last time step
    # accepted, so a code read over a shoulder or relayed by a phishing page works only once.
    totp_secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    data_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("data_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users", foreign_keys=[organisation_id])
    data_key: Mapped[DataKey | None] = relationship()

    name = Encrypted()
    email = Encrypted(index=True)
    phone = Encrypted(index=True)
    totp_secret = Encrypted()

    def __init__(self, **values: Any) -> None:
        # A new account is active before its first flush too: the access rule (members/access.py)
        # may be asked about it in the transaction that creates it (a message queued to it).
        values.setdefault("active", True)
        super().__init__(**values)

    def key_holder(self) -> KeyHolder:
        # A member's contacts die with its organisation's key; a coordinator's with its own.
        return self.organisation if self.organisation is not None else self

    @property
    def is_coordinator(self) -> bool:
        return self.role is Role.coordinator

    @property
    def is_org_admin(self) -> bool:
        return self.role is Role.org_admin

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    # flask-login protocol; get_id() is the sign-in session's id, not the user's (see auth.py).
    current_session_id = None  # set per request by auth.load_session; not a column

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.current_session_id


class SignInSession(db.Model):
    """Server-side record of a browser sign-in, so that logging out (or a lockdown) really ends it."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the id in the cookie
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A bearer token for the JSON API, stored only as its SHA-256 (the token has 256 bits of entropy)."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code that stands in for the TOTP app when the phone is lost. Only a keyed hash is
    kept (the code has 50 random bits, so a fast keyed hash is enough and lookups stay cheap)."""

    __tablename__ = "recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PhoneClaim(db.Model):
    """A number someone gave for `user`, waiting to be proven with the code sent to it by SMS.

    Until confirmed the number is not the user's: it receives only its code, and SMS from it reads
    as from a stranger. The code is never stored: it is a keyed MAC of `salt` (members/phones.py),
    so a copy of the database alone gives no code. `phone` is None when the number already belongs
    to someone else: the claim then looks the same to its maker but can never be confirmed, and no
    SMS goes to the owner.
    """

    __tablename__ = "phone_claims"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set once: confirmed (the number moved to the user) or ended (replaced, removed, STOP, used up).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    # phone_index is the users' own blind index of the number (set by members/phones.py), so a claim
    # is found by the same value as a proven number, and kept after the number is wiped for counting.
    phone = Encrypted()

    def key_holder(self) -> KeyHolder:
        return self.user.key_holder()
