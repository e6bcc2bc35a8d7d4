"""The audit trail is a keyed hash chain: editing, removing or forging an event shows."""
from __future__ import annotations

import itertools
from datetime import timedelta, timezone

import pytest
from sqlalchemy import delete, select, update

from solidarity import audit
from solidarity.audit import AuditEvent
from solidarity.extensions import db


@pytest.fixture
def chain(make, now):
    """Five events, as the services write them, plus some with awkward but legal details."""
    org = make.org()  # applied, vetted
    make.user(org)  # user.added
    audit.record(db.session, "cli", "test.event", org, at=now.astimezone(timezone(timedelta(hours=3))),
                 count=3, names=["a", "b"], nested={"z": 1, "a": None})
    audit.record(db.session, None, "test.event", at=now + timedelta(microseconds=123456))
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) >= 5
    return events


def _edit(event_id: int, **values) -> None:
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(**values))
    db.session.commit()
    db.session.expire_all()


def test_an_untouched_chain_verifies(chain):
    db.session.expire_all()  # read back from the database, not the objects as written
    assert audit.verify_chain(db.session) is None
    assert chain[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(chain))


@pytest.mark.parametrize("values", [
    {"details": {"old": "applied", "new": "suspended"}},
    {"action": "organisation.vouched"},
    {"actor_label": "coordinator:someone-else"},
    {"target_id": "00000000-0000-4000-8000-000000000000"},
])
def test_an_edited_event_is_found(chain, values):
    target = chain[2]
    _edit(target.id, **values)
    assert audit.verify_chain(db.session).id == target.id


def test_an_edited_time_is_found(chain):
    _edit(chain[1].id, at=chain[1].at + timedelta(seconds=1))
    assert audit.verify_chain(db.session).id == chain[1].id


def test_a_removed_event_is_found(chain):
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == chain[2].id))
    db.session.commit()
    assert audit.verify_chain(db.session).id == chain[3].id


def test_a_recomputed_hash_without_the_key_does_not_help(chain):
    import hashlib

    forged = chain[2]
    _edit(forged.id, details={"forged": True})
    event = db.session.get(AuditEvent, forged.id)
    _edit(forged.id, hash=hashlib.sha256(event.canonical()).hexdigest())
    assert audit.verify_chain(db.session).id == forged.id
