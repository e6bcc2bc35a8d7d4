"""Simultaneous audited actions, two-factor codes and vouches: no 500, one effect, the chain intact."""
from __future__ import annotations

from sqlalchemy import func, select

from solidarity import audit
from solidarity.audit import AuditEvent
from solidarity.extensions import db
from tests.races import at_once

ROUNDS = 5


def test_simultaneous_audited_actions_all_join_one_verifiable_chain(app, session):
    audit.record(session, "cli", "test.before")
    session.commit()

    def append(i):
        audit.record(db.session, "cli", "test.race", thread=i)
        db.session.commit()
        return True

    for _ in range(ROUNDS):
        assert at_once(app, append, threads=4) == [True] * 4
    assert session.scalar(select(func.count()).where(AuditEvent.action == "test.race")) == 4 * ROUNDS
    assert audit.verify_chain(session) is None


def test_a_rolled_back_event_is_forgotten(session):
    audit.record(session, "cli", "test.rolled_back")
    session.rollback()
    audit.record(session, "cli", "test.kept")
    session.commit()
    assert list(session.scalars(select(AuditEvent.action))) == ["test.kept"]
