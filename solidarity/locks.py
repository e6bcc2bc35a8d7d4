"""Locks for a transaction that reads, decides and then writes, on PostgreSQL and SQLite alike.

PostgreSQL locks rows (`SELECT ... FOR UPDATE`). SQLite has one write lock for the whole database,
and Python's sqlite3 module takes it only at a transaction's first INSERT, UPDATE or DELETE: what
the transaction read before that is not protected, so two of them can decide on the same stale
row. `write_lock` takes it first (BEGIN IMMEDIATE); everything read after it is the latest
committed state, and no other writer can commit until this transaction ends.
"""
from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def write_lock(session: Session) -> None:
    """On SQLite, hold the database's write lock from now until the transaction ends (waiting up to
    the connection's busy_timeout for another writer). Nothing on PostgreSQL: its callers lock rows."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:  # a write already took it otherwise
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_row(session: Session, model: type[Row], row_id: uuid.UUID, *, key_share: bool = False) -> Row:
    """Re-read one row under a lock held until the transaction ends: its row lock on PostgreSQL
    (FOR NO KEY UPDATE with `key_share`, which leaves inserts of rows referring to it unblocked),
    the database's write lock on SQLite. Attributes already loaded are overwritten with what is
    read; relationships loaded before the lock must be expired by the caller."""
    write_lock(session)
    query = (select(model).where(model.id == row_id).with_for_update(key_share=key_share)
             .execution_options(populate_existing=True))
    return session.scalars(query).one()
