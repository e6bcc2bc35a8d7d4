"""Check-ins: reminded when due, alarm after the grace period (once), OK by SMS or web resets the clock."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.errors import Conflict, Forbidden, NotFound, ValidationError
from solidarity.escalation import checkins
from solidarity.escalation.models import CheckIn, CheckInState
from solidarity.escalation.tick import tick
from solidarity.incidents import service as incidents
from solidarity.notify.models import Notification
from tests.escalation.network import alerts, build, count, file

HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


@pytest.fixture
def net(make):
    return build(make, responders=3, coordinators=1)


def start(session, net, now, **options) -> CheckIn:
    options.setdefault("interval_hours", 6)
    options.setdefault("grace_minutes", 30)
    options.setdefault("responder_org_ids", [str(net.responders[0].id), net.responders[1].id])
    return checkins.request_checkins(session, net.reporter, now=now, **options)


def sent(session, template) -> list[Notification]:
    return alerts(session, template)


def test_a_missed_checkin_alerts_chosen_responders_and_coordinators_once(make, session, now, net):
    checkin = start(session, net, now)
    assert checkin.ref and checkin.next_due_at == now + 6 * HOUR and checkin.incident is None

    assert not +tick(session, now=now + 6 * HOUR - MINUTE)
    assert tick(session, now=now + 6 * HOUR) == {"checkins_reminded": 1}
    (reminder,) = sent(session, "checkin_due")
    assert reminder.user_id == net.reporter.id and reminder.params == {"ref": checkin.ref}

    assert not +tick(session, now=now + 6 * HOUR + 29 * MINUTE)
    assert tick(session, now=now + 6 * HOUR + 30 * MINUTE) == {"checkins_missed": 1}
    for later in (7 * HOUR, 12 * HOUR, 48 * HOUR):
        assert not +tick(session, now=now + later)

    told = {n.user.organisation_id for n in sent(session, "checkin_missed")}
    assert told == {net.responders[0].id, net.responders[1].id}  # not responders[2]: not chosen
    (alert,) = sent(session, "coordinator_alert")
    assert alert.user_id == net.coordinators[0].id and alert.params == {"ref": checkin.ref, "reason": "checkin_missed"}
    assert checkin.state is CheckInState.missed and checkin.missed_at == now + 6 * HOUR + 30 * MINUTE
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "checkin.missed")) is not None


def test_a_confirmed_checkin_raises_no_alarm(make, session, now, net):
    checkin = start(session, net, now)
    confirmed = checkins.confirm_checkin(session, net.reporter, checkin.ref.lower(), now=now + 5 * HOUR)
    assert confirmed.id == checkin.id and checkin.next_due_at == now + 11 * HOUR

    assert not +tick(session, now=now + 6 * HOUR + 30 * MINUTE)  # the old deadline is gone
    assert tick(session, now=now + 11 * HOUR) == {"checkins_reminded": 1}
    # OK by SMS: the webhook hands over the organisation of the sending phone; a bare OK will do.
    checkins.confirm_checkin(session, net.reporter_org, None, now=now + 11 * HOUR + 10 * MINUTE, channel="sms")
    assert not +tick(session, now=now + 12 * HOUR)
    assert not sent(session, "checkin_missed") and not sent(session, "coordinator_alert")
    assert checkin.state is CheckInState.active and checkin.reminded_at is None
    assert checkin.next_due_at == now + 17 * HOUR + 10 * MINUTE


def test_confirming_after_the_alarm_calls_it_off(make, session, now, net):
    checkin = start(session, net, now, interval_hours=1, grace_minutes=5)
    tick(session, now=now + HOUR)
    tick(session, now=now + HOUR + 5 * MINUTE)
    assert checkin.state is CheckInState.missed
    checkins.confirm_checkin(session, net.reporter_org, checkin.ref, now=now + 2 * HOUR, channel="sms")
    assert checkin.state is CheckInState.active and checkin.next_due_at == now + 3 * HOUR
    assert {n.user.organisation_id for n in sent(session, "checkin_confirmed")} == {net.responders[0].id,
                                                                                  net.responders[1].id}
    assert [n.params["reason"] for n in sent(session, "coordinator_alert")] == ["checkin_missed", "checkin_confirmed"]


def test_only_the_organisation_or_a_coordinator_confirms(make, session, now, net):
    checkin = start(session, net, now)
    stranger = make.admin_of(net.responders[0])
    with pytest.raises(NotFound):
        checkins.confirm_checkin(session, stranger, checkin.ref, now=now)
    with pytest.raises(NotFound):
        checkins.confirm_checkin(session, net.responders[0], checkin.ref, now=now, channel="sms")
    with pytest.raises(NotFound):
        checkins.confirm_checkin(session, net.reporter, "XXXXX", now=now)
    with pytest.raises(ValidationError):
        checkins.confirm_checkin(session, net.coordinators[0], None, now=now)
    assert checkins.confirm_checkin(session, net.coordinators[0], checkin.ref, now=now + HOUR).last_confirmed_at == \
        now + HOUR


def test_setting_up_checks_every_field_and_writes_nothing_on_error(make, session, now, net):
    unvetted = make.org(vetted=False)
    with pytest.raises(ValidationError) as caught:
        checkins.request_checkins(session, net.reporter, interval_hours=0, grace_minutes="2",
                                  responder_org_ids=[unvetted.id], now=now)
    assert {e.field for e in caught.value.errors} == {"interval_hours", "grace_minutes", "responder_org_ids"}
    with pytest.raises(ValidationError) as caught:
        checkins.request_checkins(session, net.reporter, interval_hours=6, responder_org_ids=[net.reporter_org.id],
                                  now=now)
    assert caught.value.errors[0].field == "responder_org_ids"
    with pytest.raises(Forbidden):
        checkins.request_checkins(session, make.admin_of(net.responders[0]), interval_hours=6,
                                  organisation=net.reporter_org, now=now)
    assert count(session, CheckIn) == 0

    start(session, net, now, grace_minutes=None)
    with pytest.raises(Conflict):
        start(session, net, now)
    assert session.scalar(select(CheckIn.grace_minutes)) == 60  # CHECKIN_GRACE_MINUTES


def test_an_incident_checkin_uses_its_reference_and_timeline_and_ends_with_it(make, session, now, net):
    incident = file(make, net, now=now, severity=3)
    checkin = start(session, net, now, incident=incident)
    assert checkin.ref == incident.ref and checkin.organisation_id == net.reporter_org.id
    tick(session, now=now + 6 * HOUR)
    assert [e.kind for e in incident.timeline if e.kind.startswith("checkin")] == ["checkin_requested",
                                                                                  "checkin_due"]
    incidents.change_status(session, net.reporter, incident, "withdrawn", now=now + 6 * HOUR + MINUTE)
    assert checkin.state is CheckInState.stopped  # at the status change, not at the next tick
    assert not +tick(session, now=now + 7 * HOUR) and not sent(session, "checkin_missed")
    with pytest.raises(Conflict):
        start(session, net, now + 8 * HOUR, incident=incident)


@pytest.mark.parametrize("path", [["resolved"], ["resolved", "closed"], ["withdrawn"]], ids="-".join)
@pytest.mark.parametrize("missed", [False, True], ids=["active", "missed"])
def test_checkins_stop_when_their_incident_ends(make, session, now, net, path, missed):
    incident = file(make, net, now=now, severity=3)
    checkin = start(session, net, now, incident=incident)
    if missed:
        tick(session, now=now + 6 * HOUR)
        tick(session, now=now + 7 * HOUR)
        assert checkin.state is CheckInState.missed
    at = now + 8 * HOUR
    for status in path:
        incidents.change_status(session, net.reporter, incident, status, now=at)
    session.refresh(checkin)
    assert checkin.state is CheckInState.stopped and checkin.next_step_at is None
    reminders = len(sent(session, "checkin_due"))
    assert not +tick(session, now=at + 30 * HOUR) and len(sent(session, "checkin_due")) == reminders
    with pytest.raises(NotFound):  # an OK for it finds nothing open
        checkins.confirm_checkin(session, net.reporter, checkin.ref, now=at + HOUR)
    assert [e.kind for e in incident.timeline][-1] in ("checkin_stopped", "status")


def test_stopped_checkins_send_nothing(make, session, now, net):
    checkin = start(session, net, now)
    checkins.stop_checkins(session, net.reporter, checkin, now=now + HOUR)
    assert not +tick(session, now=now + 30 * HOUR)
    with pytest.raises(NotFound):
        checkins.confirm_checkin(session, net.reporter, checkin.ref, now=now + 31 * HOUR)
    with pytest.raises(Conflict):
        checkins.stop_checkins(session, net.reporter, checkin, now=now + 31 * HOUR)


def test_alerted_responders_see_the_missed_checkin_others_do_not(make, session, now, net):
    checkin = start(session, net, now, interval_hours=1, grace_minutes=5)
    chosen, other = make.admin_of(net.responders[0]), make.admin_of(net.responders[2])
    assert checkins.visible_checkins(session, chosen) == []  # not before the alarm
    tick(session, now=now + HOUR)
    tick(session, now=now + HOUR + 5 * MINUTE)
    assert checkins.visible_checkins(session, chosen) == [checkin]
    assert checkins.visible_checkins(session, other) == []
    assert checkins.visible_checkins(session, net.reporter) == [checkin]
    assert checkins.visible_checkins(session, net.coordinators[0]) == [checkin]
