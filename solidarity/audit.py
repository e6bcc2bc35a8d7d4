"""Append-only audit trail, chained with keyed hashes so that editing or deleting a row shows.

Each event's MAC covers its own fields and the previous event's MAC. The key comes from the
keyring (not the database), so someone who can write to the database cannot forge a valid chain.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Integer, String, select, text
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from solidarity.clock import utcnow
from solidarity.extensions import db, keyring
from solidarity.fields import UTCDateTime
from solidarity.locks import is_postgres, write_lock

GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_label: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(36), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def canonical(self) -> bytes:
        return json.dumps(
            [self.id, self.at.isoformat(), self.actor_id, self.actor_label, self.action,
             self.target_type, self.target_id, self.details, self.prev_hash],
            sort_keys=True, separators=(",", ":"), default=str,
        ).encode()


def _label(actor: Any) -> tuple[str | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return str(actor.id), f"{getattr(actor, 'role', 'user')}:{actor.id}"


def record(session: Session, actor: Any, action: str, target: Any = None, *, at: datetime | None = None,
           **details: Any) -> AuditEvent:
    """Append an event inside the caller's transaction. Details must never hold sensitive text.

    The event joins the chain when the transaction commits (`_append`), so the lock that orders the
    chain is held only for the append, not for the rest of the caller's work.
    """
    actor_id, actor_label = _label(actor)
    at = at or utcnow()
    if at.tzinfo is None:  # astimezone() would take it for local time
        raise ValueError("naive datetime given; use an aware UTC datetime")
    # Stored as UTC, so hashed as UTC: an aware time in another zone would read back unequal.
    event = AuditEvent(
        at=at.astimezone(timezone.utc),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        target_type=None if target is None else getattr(target, "__tablename__", type(target).__name__),
        target_id=None if target is None else str(target.id),
        details=details,
    )
    session.connection()  # begins the transaction if none is under way, so that its rollback forgets the event
    session.info.setdefault(_PENDING, []).append(event)
    return event


_PENDING = "solidarity.audit.pending"


@orm_event.listens_for(Session, "before_commit")
def _append(session: Session) -> None:
    """Chain the transaction's events onto the newest one, under a lock taken last and held only
    until the commit under way ends: two transactions never chain onto the same predecessor."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if is_postgres(session):
        session.flush()  # the transaction's own rows first: the chain's lock is held for its append only
        session.execute(text("SELECT pg_advisory_xact_lock(7170001)"))
    else:
        write_lock(session)
    last = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    last_id, prev_hash = (last.id, last.hash) if last else (0, GENESIS)
    ring = keyring()
    for item in pending:
        item.id, item.prev_hash = last_id + 1, prev_hash
        item.hash = ring.mac("audit", item.canonical()).hex()
        last_id, prev_hash = item.id, item.hash
    session.add_all(pending)


@orm_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # a rollback; a commit has taken them already
        session.info.pop(_PENDING, None)


def verify_chain(session: Session) -> AuditEvent | None:
    """Return the first event whose link is broken (edited, inserted or a predecessor removed), or None."""
    ring = keyring()
    prev_hash, expected_id = GENESIS, 1
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        if (event.id != expected_id or event.prev_hash != prev_hash
                or event.hash != ring.mac("audit", event.canonical()).hex()):
            return event
        prev_hash, expected_id = event.hash, event.id + 1
    return None


def head(session: Session) -> AuditEvent | None:
    """The newest event. Its hash, noted somewhere else now and then, also catches a later deletion
    of the newest events, which the chain alone cannot show."""
    return session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))


def list_events(session: Session, *, action: str | None = None, page: int = 1,
                per_page: int = 50) -> tuple[list[AuditEvent], bool]:
    """One page of events, newest first, optionally of one action; and whether older ones follow."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    rows = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
