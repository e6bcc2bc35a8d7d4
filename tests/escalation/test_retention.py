"""Retention erases what incidents said once they have been over for RETENTION_DAYS, and only that."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent, verify_chain
from solidarity.errors import DecryptionError
from solidarity.fields import DataKey
from solidarity.incidents import service as incidents
from solidarity.incidents.models import Incident
from solidarity.incidents.retention import erase_expired
from tests.escalation.network import build

DAY = timedelta(days=1)
SUMMARY, DETAILS, NOTE = "Offices of Haki Watch raided", "Director held at Central", "Lawyer Wanjiru called"


def ended(make, session, net, *, at, how: str) -> Incident:
    incident = make.incident(net.reporter, now=at - 5 * DAY, severity=3, summary=SUMMARY, details=DETAILS)
    incidents.add_note(session, net.reporter, incident, NOTE, now=at - 4 * DAY)
    if how == "closed":
        incidents.change_status(session, net.reporter, incident, "resolved", now=at - DAY)
        incidents.change_status(session, net.reporter, incident, "closed", now=at, note=NOTE)
    else:
        incidents.change_status(session, net.reporter, incident, how, now=at, note=NOTE)
    return incident


def test_retention_erases_only_incidents_over_for_longer_than_the_period(make, session, now):
    net = build(make, responders=2, coordinators=1)
    closed_long_ago = ended(make, session, net, at=now - 181 * DAY, how="closed")
    withdrawn_long_ago = ended(make, session, net, at=now - 400 * DAY, how="withdrawn")
    closed_recently = ended(make, session, net, at=now - 179 * DAY, how="closed")
    resolved_long_ago = ended(make, session, net, at=now - 300 * DAY, how="resolved")  # not closed yet
    still_open = make.incident(net.reporter, now=now - 365 * DAY, summary=SUMMARY)
    kept_ciphertext = closed_long_ago.summary_ct

    assert erase_expired(session, now=now) == 2
    assert erase_expired(session, now=now) == 0
    session.expire_all()

    for incident in (closed_long_ago, withdrawn_long_ago):
        assert incident.erased_at == now
        assert (incident.summary, incident.details, incident.summary_ct, incident.details_ct) == (None,) * 4
        assert all(e.note_ct is None for e in incident.timeline)
        assert {e.actor_label for e in incident.timeline} <= {"system", "member"}  # no one's name is left
        assert incident.reported_by_id is None and incident.contact_user_id is None
        assert incident.data_key.wrapped is None and incident.data_key.destroyed_at == now
        # Kept for the indicators.
        assert (incident.threat_type, incident.severity, incident.country, incident.region) == ("raid", 3, "KE", "014")
        assert [n.help_type for n in incident.needs] == ["legal"]

    for incident in (closed_recently, resolved_long_ago, still_open):
        assert incident.erased_at is None and incident.summary == SUMMARY
    assert [e.note for e in closed_recently.timeline if e.note_ct] == [NOTE, NOTE]

    # The old ciphertext, from a backup say, cannot be opened any more: its data key is gone.
    closed_long_ago.summary_ct = kept_ciphertext
    with pytest.raises(DecryptionError):
        closed_long_ago.summary  # noqa: B018 - reading decrypts
    session.rollback()
    assert session.get(DataKey, closed_recently.data_key_id).wrapped is not None

    erased = session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.erased")).all()
    assert sorted(e.target_id for e in erased) == sorted([str(closed_long_ago.id), str(withdrawn_long_ago.id)])
    assert all(e.actor_label == "retention" and e.details["retention_days"] == 180 for e in erased)
    assert verify_chain(session) is None
