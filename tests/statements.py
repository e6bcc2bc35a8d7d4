"""Counting the SQL statements a piece of work sends: tests may count statements, never time."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from solidarity.extensions import db


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every statement sent on any connection of the engine while the block runs, in order."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
