"""Playbook fixtures: a loaded first playbook, a second coordinator, and sample version data."""
from __future__ import annotations

import uuid

import pytest

from solidarity.incidents.models import Incident
from solidarity.members import service as members
from solidarity.playbook import service
from tests.factories import PASSWORD


@pytest.fixture
def loaded(session, now):
    """The initial playbook, published, as {threat_type: version}."""
    return {v.play.threat_type: v for v in service.load_initial_playbook(session, now=now)}


@pytest.fixture
def second_coordinator(session, make, now):
    make.coordinator()  # the first one, so that this is really a second
    return members.create_coordinator(session, email=f"second-{uuid.uuid4().hex[:8]}@network.example",
                                      name="Second Coordinator", password=PASSWORD, now=now)


def version_data(**overrides):
    data = {
        "title": "Office eviction",
        "summary": "The landlord is pressed to evict the organisation.",
        "help_types": ["legal"],
        "sources": ["Solidarity Playbook, \"A Unique Project\""],
        "steps": [
            {"actor": "affected", "help_type": None, "text": "Keep the lease and all letters.",
             "checklist": ["Lease copied"]},
            {"actor": "responders", "help_type": "legal", "text": "Check the eviction is lawful."},
        ],
    }
    data.update(overrides)
    return data


def make_incident(session, org, version, *, now, threat_type: str | None = None) -> Incident:
    """An incident row written directly, so these tests do not depend on the intake service."""
    incident = Incident(id=uuid.uuid4(), ref=uuid.uuid4().hex[:6].upper(), organisation_id=org.id, channel="web",
                        threat_type=threat_type or version.play.threat_type, severity=2, country=org.country,
                        region=org.region, disclosure=[], play_version_id=version.id, created_at=now,
                        updated_at=now)
    session.add(incident)
    session.commit()
    return incident
