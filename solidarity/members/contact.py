"""The one normalisation of people's identifiers: email addresses and phone numbers.

Every path that compares an identifier goes through this module: the user lookups (sign-in, SMS
senders, a later password reset), the sign-in throttle's account key, the blind indexes and the
uniqueness checks. Two spellings that reach the same mailbox or phone must be one identity
everywhere, or an attacker gets a fresh allowance (or a second account) per spelling.

Email: NFKC first (fullwidth letters, ligatures and other compatibility forms become their plain
letters), surrounding space and one trailing dot of the domain dropped, then email-validator (IDNA:
a Unicode domain and its punycode are the same domain), then lower case. Phone: phonenumbers to
E.164, reading national forms in the organisation's country.

Compatibility: for every address valid before NFKC was added, the result is unchanged (ASCII and
NFC text is NFKC-stable except for compatibility characters), so stored blind indexes still match;
migration 0006 recomputes the rare stored address that had compatibility characters.
"""
from __future__ import annotations

import unicodedata

import email_validator
import phonenumbers

from solidarity.errors import ValidationError


def _nfkc(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def clean_phone(value: object, field: str = "phone", *, region: str | None = None) -> str:
    """The number in E.164. `region` (ISO 3166-1 alpha-2) reads a national form such as 0712 345 678."""
    text = _nfkc(value)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(field, "give the number in international form, e.g. +254712345678") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_email(value: object, field: str = "email") -> str:
    text = _nfkc(value)
    local, at, domain = text.rpartition("@")
    if at and domain.endswith(".") and not domain.endswith(".."):
        text = f"{local}@{domain[:-1]}"  # the DNS root: example.org. is example.org
    try:
        result = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(field, str(exc)) from exc
    # The local part is case-sensitive in theory but not in any provider our members use; folding it
    # keeps one person from holding two accounts through capitalisation. lower(), not casefold():
    # casefold would change stored identities (ß) for no look-alike gain a mailbox honours.
    return result.normalized.lower()


def email_key(value: object) -> str | None:
    """The canonical address, or None when `value` is no valid address (a lookup then finds no one)."""
    try:
        return clean_email(value)
    except ValidationError:
        return None


def phone_key(value: object, *, region: str | None = None) -> str | None:
    """The number in E.164, or None when `value` is no valid number."""
    try:
        return clean_phone(value, region=region)
    except ValidationError:
        return None


def mask_phone(e164: str | None) -> str:
    """For logs and screens that need only a hint: +2547•••••678."""
    if not e164:
        return ""
    return e164[:5] + "•" * max(len(e164) - 8, 0) + e164[-3:]
