"""Phone numbers (E.164, via phonenumbers) and email addresses (via email-validator, no DNS)."""
from __future__ import annotations

import email_validator
import phonenumbers

from solidarity.errors import ValidationError


def clean_phone(value: object, field: str = "phone") -> str:
    text = str(value or "").strip()
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(field, "give the number in international form, e.g. +254712345678") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_email(value: object, field: str = "email") -> str:
    try:
        result = email_validator.validate_email(str(value or "").strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(field, str(exc)) from exc
    # The local part is case-sensitive in theory but not in any provider our members use; folding it
    # keeps one person from holding two accounts through capitalisation.
    return result.normalized.lower()


def mask_phone(e164: str | None) -> str:
    """For logs and screens that need only a hint: +2547•••••678."""
    if not e164:
        return ""
    return e164[:5] + "•" * max(len(e164) - 8, 0) + e164[-3:]
