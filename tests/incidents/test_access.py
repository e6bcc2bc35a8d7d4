"""incidents.access as a table: (who, their organisation's match status) -> viewer and fields."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from solidarity.incidents import access
from solidarity.incidents.access import Viewer
from solidarity.matching.models import MatchStatus
from solidarity.members.models import Role, Vetting

REPORTER, RESPONDER, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
INCIDENT = SimpleNamespace(id=uuid.uuid4(), organisation_id=REPORTER, disclosure=["details", "contact"])


def person(org, role=Role.member, active=True, locked=False, suspended=False):
    organisation = None if org is None else SimpleNamespace(
        id=org, locked_at="2026-11-22" if locked else None,
        vetting_status=Vetting.suspended if suspended else Vetting.vetted)
    return SimpleNamespace(organisation_id=org, organisation=organisation, role=role, active=active,
                           is_authenticated=True, is_coordinator=role is Role.coordinator)


def match(org, status, incident=INCIDENT):
    return SimpleNamespace(incident_id=incident.id, organisation_id=org, status=status)


@pytest.mark.parametrize("user, matches, viewer", [
    (person(None, Role.coordinator), [], Viewer.coordinator),
    (person(REPORTER), [], Viewer.reporter),
    (person(REPORTER, Role.org_admin), [], Viewer.reporter),
    (person(RESPONDER), [match(RESPONDER, MatchStatus.notified)], Viewer.asked),
    (person(RESPONDER), [match(RESPONDER, MatchStatus.declined)], Viewer.asked),
    (person(RESPONDER), [match(RESPONDER, MatchStatus.declined), match(RESPONDER, MatchStatus.accepted)],
     Viewer.accepted),
    (person(RESPONDER), [match(RESPONDER, MatchStatus.completed)], Viewer.accepted),
    (person(OTHER), [match(RESPONDER, MatchStatus.accepted)], None),  # someone else's match
    (person(RESPONDER), [match(RESPONDER, MatchStatus.accepted,
                               SimpleNamespace(id=uuid.uuid4()))], None),  # a match of another incident
    (person(REPORTER, active=False), [], None),
    # Lockdown (incidents/lockdown.py): its logins see nothing, neither their own nor others' incidents.
    (person(REPORTER, Role.org_admin, locked=True), [], None),
    (person(RESPONDER, locked=True), [match(RESPONDER, MatchStatus.accepted)], None),
    # Suspension (members/access.py): nor does a suspended organisation, not even the case it took.
    (person(REPORTER, Role.org_admin, suspended=True), [], None),
    (person(RESPONDER, suspended=True), [match(RESPONDER, MatchStatus.accepted)], None),
    (None, [], None),
])
def test_viewer(user, matches, viewer):
    assert access.viewer_of(user, INCIDENT, matches) is viewer


@pytest.mark.parametrize("viewer, fields", [
    (Viewer.coordinator, access.EVERYTHING),
    (Viewer.reporter, access.EVERYTHING),
    (Viewer.accepted, access.BASICS | {"status", "details", "contact"}),
    (Viewer.asked, {"id", "ref", "threat_type", "country", "severity", "needs"}),
    (None, set()),
])
def test_fields(viewer, fields):
    assert access.fields_for(viewer, INCIDENT) == fields


def test_only_the_reporter_reads_secrets_unaudited():
    shown = ["summary", "details", "ref", "timeline"]
    assert access.reveals_secret(Viewer.reporter, shown) == []
    assert access.reveals_secret(Viewer.coordinator, shown) == ["details", "summary", "timeline"]
    assert access.reveals_secret(Viewer.accepted, ["ref", "contact"]) == ["contact"]


def test_answering_and_managing():
    responder_match = match(RESPONDER, MatchStatus.notified)
    assert access.can_answer(person(RESPONDER), responder_match)
    assert not access.can_answer(person(None, Role.coordinator), responder_match)
    assert not access.can_answer(person(RESPONDER, active=False), responder_match)
    assert not access.can_answer(person(RESPONDER, locked=True), responder_match)
    assert [v for v in Viewer if access.can_change_status(v)] == [Viewer.coordinator, Viewer.reporter]
    assert [v for v in Viewer if access.sees_all_matches(v)] == [Viewer.coordinator, Viewer.reporter]
