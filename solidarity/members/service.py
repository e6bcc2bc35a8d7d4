"""Member organisations and their people: apply, vet, vouch, suspend, add and update users.

Every public function is one transaction: it validates everything first, writes, audits, commits,
and on any error leaves nothing behind.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from solidarity import audit
from solidarity.errors import Checks, Conflict, Forbidden, ValidationError
from solidarity.fields import blind_index
from solidarity.geo import REGION_OF, clean_country, clean_language, clean_languages
from solidarity.locks import lock_row
from solidarity.members import access, phones
from solidarity.members.contact import clean_email, clean_phone, email_key, phone_key
from solidarity.members.models import Organisation, Role, User, Vetting, Vouch
from solidarity.members.passwords import check_strength, hash_password, hash_pin, verify_password
from solidarity.records import get_or_404
from solidarity.text import clean_name, clean_text

VOUCHES_TO_VET = 2
ORG_FIELDS = ("name", "country", "languages", "consent_share_contacts")
USER_FIELDS = ("name", "email", "phone", "preferred_language", "notify_sms", "notify_email", "role", "password")


def _clean_name(value: Any, field: str = "name") -> str:
    return clean_name(str(value or ""), field)


def _clean_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(field, "must be true or false")


def get_organisation(session: Session, org_id: uuid.UUID | str) -> Organisation:
    return get_or_404(session, Organisation, org_id, "organisation")


def get_user(session: Session, user_id: uuid.UUID | str) -> User:
    return get_or_404(session, User, user_id, "user")


def email_lookup_key(email: object) -> str | None:
    """The blind index an address is stored under (None: not an address). Lookups, the sign-in
    throttle's account key and uniqueness all use it, so every spelling of one address is one key."""
    normalised = email_key(email)
    return None if normalised is None else blind_index(User, "email", normalised)


def find_user_by_email(session: Session, email: str) -> User | None:
    key = email_lookup_key(email)
    return None if key is None else session.scalar(select(User).where(User.email_index == key))


def find_users_by_phone(session: Session, phone: str) -> list[User]:
    """The people whose proven number this is (a number still being proven finds no one)."""
    e164 = phone_key(phone)
    if e164 is None:
        return []
    return list(session.scalars(select(User).where(User.phone_index == blind_index(User, "phone", e164))))


def _org_values(data: Mapping[str, Any], checks: Checks, *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    unknown = set(data) - set(ORG_FIELDS)
    for field in sorted(unknown):
        checks.fail(field, "is not a field of an organisation")
    if "name" in data or not partial:
        values["name"] = checks(_clean_name, data.get("name"))
    if "country" in data or not partial:
        values["country"] = checks(clean_country, data.get("country"))
    if "languages" in data or not partial:
        values["languages"] = checks(clean_languages, data.get("languages"))
    if "consent_share_contacts" in data:
        values["consent_share_contacts"] = checks(_clean_bool, data["consent_share_contacts"],
                                                  "consent_share_contacts")
    return values


def _user_values(session: Session, data: Mapping[str, Any], checks: Checks, *, partial: bool,
                 prefix: str = "", current: User | None = None, region: str | None = None,
                 taken_email_ok: bool = False) -> dict[str, Any]:
    """Clean a user's fields. `region` reads national phone forms; `taken_email_ok` (the public
    application) leaves a registered address to the caller instead of saying so."""
    values: dict[str, Any] = {}
    for field in sorted(set(data) - set(USER_FIELDS)):
        checks.fail(prefix + field, "is not a field of a user")
    if "name" in data or not partial:
        values["name"] = checks(_clean_name, data.get("name"), prefix + "name")
    if "email" in data or not partial:
        email = checks(clean_email, data.get("email"), prefix + "email")
        if email is not None:
            other = session.scalar(select(User).where(User.email_index == blind_index(User, "email", email)))
            # By id: `current` may be a proxy (flask-login's current_user), never the same object.
            if other is not None and (current is None or other.id != current.id) and not taken_email_ok:
                checks.fail(prefix + "email", "is already registered")
            values["email"] = email
    if data.get("phone") not in (None, ""):
        values["phone"] = checks(clean_phone, data["phone"], prefix + "phone", region=region)
    elif "phone" in data:
        values["phone"] = None
    if "preferred_language" in data:
        values["preferred_language"] = checks(clean_language, data["preferred_language"],
                                              prefix + "preferred_language")
    for flag in ("notify_sms", "notify_email"):
        if flag in data:
            values[flag] = checks(_clean_bool, data[flag], prefix + flag)
    if "role" in data:
        try:
            role = Role(data["role"])
        except ValueError:
            checks.fail(prefix + "role", "must be org_admin or member")
        else:
            if role is Role.coordinator:
                checks.fail(prefix + "role", "coordinators are created with the CLI, not in an organisation")
            values["role"] = role
    if data.get("password") not in (None, ""):
        checks(check_strength, data["password"], prefix + "password")
        values["password"] = data["password"]
    return values


def _check_phone(session: Session, actor: User | None, user_id: uuid.UUID | None, values: dict[str, Any],
                 prefix: str = "") -> None:
    """Refuse a number that is already a colleague's: the actor can see that colleague's number
    anyway. A number of someone the actor cannot see is not refused (members/phones.py): the
    answer would tell whose it is. Raised after every other check passed."""
    e164 = values.get("phone")
    holder = phones.holder_of(session, e164, besides=user_id) if e164 else None
    if holder is not None and actor is not None and access.can_read_contacts(actor, holder.organisation_id):
        raise Conflict(f"is already the number of {holder.name}", field=prefix + "phone")


def _apply_user(user: User, values: dict[str, Any]) -> object:
    """Write cleaned values but the phone number, which is returned for _set_phone (or user.phone
    when unchanged): the user must be in the session before a number is claimed for it."""
    password = values.pop("password", None)
    phone = values.pop("phone", user.phone)
    for key, value in values.items():
        setattr(user, key, value)
    if password is not None:
        user.password_hash = hash_password(password)
    return phone


def _set_phone(session: Session, actor: User | str, user: User, phone: str | None, *, now: datetime,
               proven: bool = False) -> None:
    """A new number is only claimed (a code goes to it, members/phones.py) unless `proven`: the CLI,
    demo data and test fixtures, which vouch for the number themselves. Removing one needs no proof."""
    if phone == user.phone:
        return
    phones.end_claims(session, user, now=now)
    if phone is None or proven:
        user.phone = phone
    else:
        phones.start(session, actor, user, phone, now=now)


def register_organisation(session: Session, data: Mapping[str, Any], admin: Mapping[str, Any], *,
                          actor: User | None, now: datetime, require_password: bool = False,
                          proven_phone: bool = False) -> Organisation:
    """Create an applicant organisation with its first admin. Coordinators may register on behalf.

    `require_password`: the public web form, where the admin has no other way to sign in later.
    `proven_phone`: the caller vouches for the admin's number (demo data, fixtures)."""
    org = _register(session, data, admin, actor=actor, now=now, require_password=require_password,
                    proven_phone=proven_phone, public=False)
    assert org is not None
    return org


def apply(session: Session, data: Mapping[str, Any], admin: Mapping[str, Any], *, actor: User | None,
          now: datetime) -> str:
    """The public application form. Returns the organisation's name for the thank-you message.

    It answers the same whether the admin's address is registered or not, so it cannot be used to
    learn who is a member: for a registered address nothing is written and the address's owner is
    told by email that someone tried to register with it. (Input errors are still shown.)"""
    _register(session, data, admin, actor=actor, now=now, require_password=True, proven_phone=False, public=True)
    return _clean_name(data.get("name"))


def _register(session: Session, data: Mapping[str, Any], admin: Mapping[str, Any], *, actor: User | None,
              now: datetime, require_password: bool, proven_phone: bool, public: bool) -> Organisation | None:
    checks = Checks()
    values = _org_values(data, checks, partial=False)
    admin_values = _user_values(session, admin, checks, partial=False, prefix="admin.",
                                region=values.get("country"), taken_email_ok=public)
    admin_values.pop("role", None)
    if require_password and not admin_values.get("password") and not admin.get("password"):
        checks.fail("admin.password", "is required")
    checks.done()
    owner = find_user_by_email(session, admin_values["email"]) if public else None
    if owner is not None:
        hash_password(admin_values["password"])  # the same work as a new account: timing tells nothing
        phones.outbox()(session, owner, "registration_attempt", channel="email", now=now,
                        once_per=timedelta(hours=1))
        session.commit()
        return None
    _check_phone(session, actor, None, admin_values, prefix="admin.")
    org = Organisation(id=uuid.uuid4(), region=REGION_OF[values["country"]], vetting_status=Vetting.applied,
                       created_at=now, updated_at=now, consent_share_contacts=False)
    for key, value in values.items():
        setattr(org, key, value)
    # Anyone may apply with any address: the admin signs in once the emailed link proves the mailbox.
    confirmed = None if public and actor is None else now
    user = User(id=uuid.uuid4(), organisation=org, role=Role.org_admin, created_at=now, updated_at=now,
                email_confirmed_at=confirmed)
    phone = _apply_user(user, admin_values)
    session.add_all([org, user])
    audit.record(session, actor or user, "organisation.applied", org, at=now)
    _set_phone(session, actor or user, user, phone, now=now, proven=proven_phone)
    if confirmed is None:
        phones.outbox()(session, user, "confirm_email", channel="email", now=now)
    session.commit()
    return org


def confirm_email(session: Session, user: User, *, now: datetime) -> bool:
    """The applicant followed the emailed link: the address is theirs. False if it already was."""
    if user.email_confirmed_at is not None:
        return False
    user.email_confirmed_at = now
    audit.record(session, user, "user.email_confirmed", user, at=now)
    session.commit()
    return True


def update_organisation(session: Session, actor: User, org: Organisation, data: Mapping[str, Any], *,
                        now: datetime) -> Organisation:
    """Change the profile (its admins, coordinators) and, for coordinators, `vetting_status`: all or nothing."""
    data = dict(data)
    status = data.pop("vetting_status", None)
    if (data or status is None) and not access.can_manage_org(actor, org.id):
        raise Forbidden("you cannot change this organisation")
    if status is not None and not actor.is_coordinator:
        raise Forbidden("only coordinators vet organisations")
    checks = Checks()
    values = _org_values(data, checks, partial=True)
    new_status = checks(_clean_vetting, status) if status is not None else None
    checks.done()
    if values:
        for key, value in values.items():
            setattr(org, key, value)
        if "country" in values:
            org.region = REGION_OF[values["country"]]
        org.updated_at = now
        audit.record(session, actor, "organisation.updated", org, at=now, fields=sorted(values))
    if new_status is not None:
        _apply_vetting(session, actor, org, new_status, now=now)
    session.commit()
    return org


def _clean_vetting(status: Any) -> Vetting:
    try:
        value = Vetting(status)
    except ValueError as exc:
        raise ValidationError("vetting_status", "must be applied, vetted or suspended") from exc
    if value is Vetting.rejected:  # only with a reason, through reject_application
        raise ValidationError("vetting_status", "must be applied, vetted or suspended")
    return value


def _apply_vetting(session: Session, actor: User, org: Organisation, new: Vetting, *, now: datetime) -> None:
    old = org.vetting_status
    org.vetting_status = new
    if new is Vetting.vetted:
        org.vetted_at, org.vetted_by_id = now, actor.id
    org.updated_at = now
    details = {}
    if new is Vetting.suspended and old is not Vetting.suspended:
        # Suspension removes access (access.access_state): its people's sessions and tokens end now,
        # so reinstating the organisation later does not bring an old login back to life.
        from solidarity.members import auth  # auth imports this module (find_user_by_email)
        details["sessions_ended"], details["tokens_revoked"] = auth.end_access(session, list(org.users), now=now)
    audit.record(session, actor, "organisation.vetting", org, at=now, old=old.value, new=new.value, **details)


def set_vetting(session: Session, actor: User, org: Organisation, status: str, *, now: datetime) -> Organisation:
    """Coordinators approve (vetted), suspend or reinstate an organisation."""
    if not actor.is_coordinator:
        raise Forbidden("only coordinators vet organisations")
    _apply_vetting(session, actor, org, _clean_vetting(status), now=now)
    session.commit()
    return org


REASON_LIMIT = 1000


def reject_application(session: Session, actor: User, org: Organisation, reason: Any, *,
                       now: datetime) -> Organisation:
    """A coordinator turns an applicant down with a reason: the organisation leaves the list of
    applicants, the reason is kept (encrypted) for its people to read when they sign in, and each of
    them is emailed that the application was not accepted (the email says no more: see messages.py)."""
    if not actor.is_coordinator:
        raise Forbidden("only coordinators vet organisations")
    text = clean_text(reason, "reason", REASON_LIMIT)
    if not text:
        raise ValidationError("reason", "Say why, in a few words: the applicant will read it.")
    org = lock_row(session, Organisation, org.id)
    if org.vetting_status is not Vetting.applied:
        session.rollback()
        raise Conflict(f"this organisation is {org.vetting_status.value}, not applying", field="vetting_status")
    org.vetting_status, org.updated_at = Vetting.rejected, now
    org.rejection_reason = text
    audit.record(session, actor, "organisation.vetting", org, at=now, old="applied", new="rejected")
    for person in org.users:
        phones.outbox()(session, person, "application_rejected", channel="email", now=now)
    session.commit()
    return org


def _check_vouchable(applicant: Organisation, voucher: Organisation) -> None:
    if applicant.vetting_status is not Vetting.applied:
        raise Conflict(f"this organisation is {applicant.vetting_status.value}, not applying", field="vetting_status")
    if any(v.voucher_id == voucher.id for v in applicant.vouches):
        raise Conflict("your organisation has already vouched for this one", field="voucher")


def vouch(session: Session, actor: User, applicant: Organisation, *, now: datetime) -> Organisation:
    """An admin of a vetted organisation vouches for an applicant; the second vouch vets it."""
    voucher = actor.organisation
    if not access.can_vouch(actor):
        raise Forbidden("only admins of vetted organisations can vouch")
    if voucher.id == applicant.id:
        raise Forbidden("an organisation cannot vouch for itself")
    # Vouches for one applicant are serialised, and what follows is read under the lock: of two at
    # once from one organisation the second is refused, and two from different ones count as two.
    applicant = lock_row(session, Organisation, applicant.id, key_share=True)
    session.expire(applicant, ["vouches"])
    try:
        _check_vouchable(applicant, voucher)
    except Conflict:
        session.rollback()  # lets go of the lock at once
        raise
    applicant.vouches.append(Vouch(applicant_id=applicant.id, voucher_id=voucher.id, by_user_id=actor.id,
                                   created_at=now))
    audit.record(session, actor, "organisation.vouched", applicant, at=now, voucher=str(voucher.id))
    if len(applicant.vouches) >= VOUCHES_TO_VET:
        applicant.vetting_status, applicant.vetted_at = Vetting.vetted, now
        audit.record(session, actor, "organisation.vetting", applicant, at=now, old="applied", new="vetted",
                     by="vouches")
    session.commit()
    return applicant


def add_user(session: Session, actor: User, org: Organisation, data: Mapping[str, Any], *, now: datetime,
             proven_phone: bool = False) -> User:
    """Add a person. Their number gets a code to prove it, unless the caller vouches for it
    (`proven_phone`: the CLI, demo data, fixtures)."""
    if not access.can_manage_org(actor, org.id):
        raise Forbidden("you cannot add people to this organisation")
    checks = Checks()
    values = _user_values(session, data, checks, partial=False, region=org.country)
    checks.done()
    _check_phone(session, actor, None, values)
    # Encrypting the contacts may lazy-load the organisation's data key; flushing then would try
    # to write the half-built user (SAWarning, or a NOT NULL error).
    with session.no_autoflush:
        # The admin who adds a person vouches for the address (and hands over the first password).
        user = User(id=uuid.uuid4(), organisation=org, role=values.pop("role", Role.member), created_at=now,
                    updated_at=now, email_confirmed_at=now)
        phone = _apply_user(user, values)
    session.add(user)
    audit.record(session, actor, "user.added", user, at=now, role=user.role.value)
    _set_phone(session, actor, user, phone, now=now, proven=proven_phone)
    session.commit()
    return user


def update_user(session: Session, actor: User, user: User, data: Mapping[str, Any], *, now: datetime) -> User:
    """Change a user. Changing one's own email or phone (where alerts go) needs `current_password`:
    a session left open on a shared or seized computer must not be enough to redirect the alerts."""
    own = actor.id == user.id
    if not access.may_act(actor):
        # A captor holding a locked-down login must not move its alerts or keep it after re-verification.
        raise Forbidden("you cannot change this user")
    if not own and not (user.organisation_id and access.can_manage_org(actor, user.organisation_id)):
        raise Forbidden("you cannot change this user")
    data = dict(data)
    current_password = data.pop("current_password", None)
    checks = Checks()
    values = _user_values(session, data, checks, partial=True, current=user,
                          region=user.organisation.country if user.organisation else None)
    moves_alerts = any(field in values and values[field] != getattr(user, field) for field in ("email", "phone"))
    if own and moves_alerts and not verify_password(user.password_hash, current_password or ""):
        checks.fail("current_password", "enter your password to change your email or phone")
    if "role" in values and not (actor.is_coordinator or actor.is_org_admin) :
        checks.fail("role", "only organisation admins change roles")
    if "password" in values and not own:
        checks.fail("password", "people set their own passwords")
    checks.done()
    _check_phone(session, actor, user.id, values)
    old_role = user.role
    fields = sorted(values)
    phone = _apply_user(user, values)
    user.updated_at = now
    audit.record(session, actor, "user.updated", user, at=now, fields=fields)
    _set_phone(session, actor, user, phone, now=now)
    if user.role is not old_role:
        audit.record(session, actor, "user.role", user, at=now, old=old_role.value, new=user.role.value)
    session.commit()
    return user


def create_coordinator(session: Session, *, email: str, name: str, password: str, now: datetime) -> User:
    checks = Checks()
    values = _user_values(session, {"email": email, "name": name, "password": password}, checks, partial=False)
    if not values.get("password"):
        checks.fail("password", "is required")
    checks.done()
    user = User(id=uuid.uuid4(), organisation=None, role=Role.coordinator, created_at=now, updated_at=now,
                email_confirmed_at=now)
    _apply_user(user, values)  # no phone: coordinators are reached by email
    session.add(user)
    audit.record(session, "cli", "user.coordinator_created", user, at=now)
    session.commit()
    return user


def by_name(records: Iterable[Organisation | User]) -> list[Any]:
    """Organisations or people in alphabetical order. Names are encrypted, so SQL cannot sort them:
    load the rows with their data keys (selectinload) and sort here, after decrypting."""
    return sorted(records, key=lambda r: (r.name.casefold(), str(r.id)))


def list_organisations(session: Session, *, status: str | None = None) -> list[Organisation]:
    query = select(Organisation).options(selectinload(Organisation.data_key))
    if status:
        try:
            query = query.where(Organisation.vetting_status == Vetting(status))
        except ValueError as exc:
            raise ValidationError("status", "must be applied, vetted or suspended") from exc
    return by_name(session.scalars(query))


SMS_PIN_DIGITS = (4, 8)


def _clean_pin(pin: Any) -> str | None:
    text = str(pin).strip() if pin is not None else ""
    if not text:
        return None
    low, high = SMS_PIN_DIGITS
    if not (text.isascii() and text.isdigit() and low <= len(text) <= high):
        raise ValidationError("pin", f"use {low} to {high} digits")
    return text


def set_sms_pin(session: Session, actor: User, org: Organisation, pin: str | None, *, now: datetime) -> Organisation:
    """Require `pin` in every SMS incident report of `org`; an empty PIN removes the requirement."""
    if not access.can_manage_org(actor, org.id):
        raise Forbidden("you cannot change this organisation")
    cleaned = _clean_pin(pin)
    org.sms_pin_hash = hash_pin(cleaned) if cleaned else None
    org.updated_at = now
    audit.record(session, actor, "organisation.sms_pin_set" if cleaned else "organisation.sms_pin_cleared", org,
                 at=now)
    session.commit()
    return org


def verify_sms_pin(org: Organisation, pin: str | None) -> bool:
    """True only if `org` has an SMS PIN and `pin` is it. Whether one is required: `org.sms_pin_hash`.

    Takes as long for a missing or malformed PIN as for a wrong one, so timing tells a texter nothing.
    """
    try:
        cleaned = _clean_pin(pin)
    except ValidationError:
        cleaned = None
    ok = verify_password(org.sms_pin_hash, cleaned or "")
    return ok and cleaned is not None and org.sms_pin_hash is not None
