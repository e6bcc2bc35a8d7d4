"""Named domain errors. The web and API layers map them to status codes; nothing here knows HTTP."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> list[FieldError]:
        return [FieldError(self.field or "", self.message)]


class ValidationError(DomainError):
    """Input that breaks a rule; carries every failing field so a form can show them all at once."""

    status = 422

    def __init__(self, errors: list[FieldError] | str, message: str | None = None):
        if isinstance(errors, str):  # ValidationError("country", "unknown code")
            errors = [FieldError(errors, message or "is invalid")]
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors), field=errors[0].field)
        self._errors = list(errors)

    @property
    def errors(self) -> list[FieldError]:
        return self._errors


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class RateLimited(DomainError):
    """An abuse limit (config/default.py, "Abuse limits") is reached; nothing was written.

    `retry_after` is how many seconds until the allowance has room again, when the limit knows it.
    """

    status = 429

    def __init__(self, message: str = "", *, field: str | None = None, retry_after: int | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


class DecryptionError(DomainError):
    """A ciphertext failed authentication or its data key is gone. Never shown as data."""

    status = 500


class Checks:
    """Run several field checks and report every failure at once, not just the first."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def __call__(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except ValidationError as exc:
            self.errors.extend(exc.errors)
            return None

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)
