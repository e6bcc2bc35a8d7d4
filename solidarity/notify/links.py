"""Signed, expiring answer links for emails: /answer/<token> leads through sign-in to a confirm page.

The token names a match, the person it was sent to and the answer (accept or decline), signed with
SECRET_KEY under a salt of its own (itsdangerous). It carries ids only. It works once because the
confirm page acts only while the match is still waiting for an answer: the first answer, by link,
SMS or web, ends every link for that match.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from solidarity.errors import DomainError

SALT = "solidarity.answer-link.v1"
PATH = "/answer/"


class BadLink(DomainError):
    status = 400

    def __init__(self, message: str = "this link is not valid; answer from the incident page instead"):
        super().__init__(message, field="token")


class ExpiredLink(BadLink):
    def __init__(self):
        super().__init__("this link has expired; answer from the incident page or by SMS instead")


@dataclass(frozen=True)
class AnswerLink:
    match_id: uuid.UUID
    user_id: uuid.UUID
    accept: bool


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the caller's `now`, so expiry is testable without sleeping."""

    def __init__(self, *args, now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now.timestamp())


def _serializer(secret: str, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT, signer=_ClockSigner, signer_kwargs={"now": now})


def make_token(secret: str, link: AnswerLink, *, now: datetime) -> str:
    return _serializer(secret, now).dumps({"m": link.match_id.hex, "u": link.user_id.hex, "a": int(link.accept)})


def read_token(secret: str, token: str, *, now: datetime, max_age: timedelta) -> AnswerLink:
    """The link's content, or BadLink / ExpiredLink. Says nothing about whether it was used."""
    try:
        data = _serializer(secret, now).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise ExpiredLink() from exc
    except BadSignature as exc:
        raise BadLink() from exc
    try:
        return AnswerLink(uuid.UUID(hex=data["m"]), uuid.UUID(hex=data["u"]), bool(data["a"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadLink() from exc


def answer_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + PATH + token


# -- The link that confirms an applicant's email address -------------------------------------------
# Same signing, its own salt (an answer token is never a confirmation token), the person's id only.
CONFIRM_SALT = "solidarity.confirm-email.v1"
CONFIRM_PATH = "/apply/confirm/"
CONFIRM_MAX_AGE = timedelta(days=3)


def make_confirm_token(secret: str, user_id: uuid.UUID, *, now: datetime) -> str:
    return URLSafeTimedSerializer(secret, salt=CONFIRM_SALT, signer=_ClockSigner,
                                  signer_kwargs={"now": now}).dumps({"u": user_id.hex})


def read_confirm_token(secret: str, token: str, *, now: datetime) -> uuid.UUID:
    """The person the link was sent to, or BadLink / ExpiredLink."""
    serializer = URLSafeTimedSerializer(secret, salt=CONFIRM_SALT, signer=_ClockSigner, signer_kwargs={"now": now})
    try:
        data = serializer.loads(token, max_age=int(CONFIRM_MAX_AGE.total_seconds()))
    except SignatureExpired as exc:
        raise ExpiredLink() from exc
    except BadSignature as exc:
        raise BadLink("this link is not valid") from exc
    try:
        return uuid.UUID(hex=data["u"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadLink("this link is not valid") from exc
