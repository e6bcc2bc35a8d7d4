"""Rows by id from untrusted input (URLs, form fields, JSON): a malformed id is the same 404 as an
unknown one, so a caller learns nothing from the difference."""
from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from solidarity.errors import NotFound

Row = TypeVar("Row")


def parse_id(value: Any, what: str, field: str = "id") -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(f"no such {what}", field=field) from exc


def get_or_404(session: Session, model: type[Row], value: Any, what: str, field: str = "id", *,
               options: tuple = ()) -> Row:
    row = session.get(model, parse_id(value, what, field), options=list(options))
    if row is None:
        raise NotFound(f"no such {what}", field=field)
    return row
