"""A reporter says what it still needs: adding a kind of help asks responders for it; removing withdraws it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from solidarity.audit import AuditEvent
from solidarity.errors import Conflict, Forbidden, NotFound, ValidationError
from solidarity.incidents import service
from solidarity.incidents.models import NeedState
from solidarity.matching.models import Match, MatchStatus
from tests.incidents.scenario import build


@pytest.fixture
def net(make, now):
    return build(make, now=now)


def needs(incident) -> dict[str, NeedState]:
    return {n.help_type: n.state for n in incident.needs}


def test_a_new_need_asks_its_first_wave_at_once(make, session, net, now):
    relocation = make.org("Safe Harbour", country="KE")
    make.offer(relocation, "relocation", countries=["KE"])
    later = now + timedelta(hours=2)

    need = service.add_need(session, net.reporter_member, net.incident, " Relocation ", now=later)

    assert (need.help_type, need.state, need.wave) == ("relocation", NeedState.seeking, 1)
    [match] = session.scalars(select(Match).where(Match.incident_id == net.incident.id,
                                                  Match.help_type == "relocation")).all()
    assert (match.organisation_id, match.status) == (relocation.id, MatchStatus.notified)
    assert [e.kind for e in net.incident.timeline[-3:]] == ["need_added", "matched", "notified"]
    assert session.scalar(select(func.count()).where(AuditEvent.action == "incident.need_added")) == 1


def test_a_need_nobody_offers_is_due_for_escalation_at_once(session, net, now):
    need = service.add_need(session, net.reporter, net.incident, "emergency_funds", now=now)
    assert need.next_wave_at == now  # the tick alerts the coordinators through its one path


def test_removing_a_need_withdraws_its_open_requests(session, net, now):
    service.remove_need(session, net.reporter, net.incident, "communications", now=now)
    assert set(needs(net.incident)) == {"legal"}
    assert net.match_of(session, net.d).status is MatchStatus.expired
    assert net.incident.timeline[-1].kind == "need_removed"


@pytest.mark.parametrize(("help_type", "error", "field"), [
    ("legal", Conflict, "help_type"),  # already asked
    ("plumbing", ValidationError, "help_type"),
    ("", ValidationError, "help_type"),
])
def test_bad_additions_name_the_field_and_write_nothing(session, net, now, help_type, error, field):
    before = len(net.incident.timeline)
    with pytest.raises(error) as caught:
        service.add_need(session, net.reporter, net.incident, help_type, now=now)
    assert caught.value.errors[0].field == field
    session.expire_all()
    assert set(needs(net.incident)) == {"legal", "communications"} and len(net.incident.timeline) == before


def test_a_covered_need_or_the_last_one_stays(make, session, net, now):
    service.answer_match(session, make.admin_of(net.b), net.match_of(session, net.b), True, now=now)
    with pytest.raises(Conflict):
        service.remove_need(session, net.reporter, net.incident, "legal", now=now)
    service.remove_need(session, net.reporter, net.incident, "communications", now=now)
    with pytest.raises(Conflict):
        service.remove_need(session, net.reporter, net.incident, "legal", now=now)
    with pytest.raises(ValidationError) as caught:
        service.remove_need(session, net.reporter, net.incident, "communications", now=now)
    assert caught.value.errors[0].field == "help_type"


def test_needs_change_only_while_the_incident_is_active(session, net, now):
    service.change_status(session, net.reporter, net.incident, "withdrawn", now=now)
    for change in (service.add_need, service.remove_need):
        with pytest.raises(Conflict) as caught:
            change(session, net.reporter, net.incident, "communications", now=now)
        assert caught.value.errors[0].field == "status"


@pytest.mark.parametrize(("who", "error"), [("asked", Forbidden), ("other", NotFound)])
def test_only_the_reporter_and_coordinators_change_needs(make, session, net, now, who, error):
    user = make.admin_of(net.a if who == "asked" else net.other)
    with pytest.raises(error):
        service.add_need(session, user, net.incident, "relocation", now=now)
    with pytest.raises(error):
        service.remove_need(session, user, net.incident, "communications", now=now)
    service.add_need(session, net.coordinator, net.incident, "relocation", now=now)
    assert "relocation" in needs(net.incident)
