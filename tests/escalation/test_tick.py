"""escalation.tick: waves on time, acceptance stops them, the last one wakes the coordinators once,
a scheduler that was down catches up one step at a time, and two tickers never double a step."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from solidarity.escalation import tick as tick_module
from solidarity.escalation.tick import tick
from solidarity.extensions import db
from solidarity.incidents import service as incidents
from solidarity.incidents.models import Need, NeedState, TimelineEntry
from solidarity.notify.models import Notification
from tests.escalation.network import alerts, build, count, file, matches, need_of

MINUTE = timedelta(minutes=1)


def kinds(session, incident) -> list[str]:
    return list(session.scalars(select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)
                                .order_by(TimelineEntry.at, TimelineEntry.seq)))


@pytest.mark.parametrize(("severity", "interval"), [(4, timedelta(minutes=10)), (1, timedelta(hours=24))])
def test_next_wave_opens_at_the_deadline_of_its_severity(make, session, now, severity, interval):
    net = build(make)
    incident = file(make, net, now=now, severity=severity)
    assert len(matches(session, incident)) == 3

    assert not +tick(session, now=now + interval - timedelta(seconds=1))
    assert need_of(incident).wave == 1

    assert tick(session, now=now + interval) == {"waves": 1}
    need = need_of(incident)
    assert (need.wave, need.state, need.next_wave_at) == (2, NeedState.seeking, now + 2 * interval)
    asked = matches(session, incident)
    assert [m.wave for m in asked] == [1, 1, 1, 2, 2, 2]
    assert len({m.organisation_id for m in asked}) == 6  # nobody asked twice
    wave = session.scalar(select(TimelineEntry).where(TimelineEntry.incident_id == incident.id,
                                                      TimelineEntry.kind == "wave"))
    assert wave.data["wave"] == 2 and "unanswered" in wave.data["reason"]
    assert session.scalar(select(Notification.id).where(Notification.match_id == asked[-1].id)) is not None


def test_acceptance_stops_escalation(make, session, now):
    net = build(make)
    incident = file(make, net, now=now, severity=4)
    first = matches(session, incident)[0]
    responder = make.admin_of(first.organisation)
    incidents.answer_match(session, responder, first, True, now=now + 5 * MINUTE)
    after_acceptance = count(session, Notification)

    for minutes in (10, 20, 30, 60):
        assert not +tick(session, now=now + minutes * MINUTE)
    session.expire_all()
    assert count(session, Notification) == after_acceptance
    assert need_of(incident).state is NeedState.covered and len(matches(session, incident)) == 3
    assert not alerts(session)


def test_tick_rereads_a_need_covered_by_another_connection(make, session, now):
    """The session still holds the need as seeking; the acceptance committed elsewhere must win."""
    net = build(make)
    incident = file(make, net, now=now, severity=4)
    need = need_of(incident)
    assert need.state is NeedState.seeking  # loaded into this session's identity map
    with db.engine.begin() as other:
        other.execute(update(Need.__table__).where(Need.__table__.c.id == need.id).values(state="covered",
                                                                                            next_wave_at=None))
    before = count(session, Notification)
    assert not +tick(session, now=now + 10 * MINUTE)
    assert count(session, Notification) == before


def test_after_the_last_wave_the_coordinators_are_alerted_exactly_once(make, session, now):
    net = build(make, responders=9, coordinators=2)
    incident = file(make, net, now=now, severity=4)  # ESCALATION_POLICY default: 3 waves of 3
    assert tick(session, now=now + 10 * MINUTE) == {"waves": 1}
    assert tick(session, now=now + 20 * MINUTE) == {"waves": 1}
    assert not alerts(session)

    assert tick(session, now=now + 30 * MINUTE) == {"exhausted": 1}
    for minutes in (40, 50, 24 * 60):
        assert not +tick(session, now=now + minutes * MINUTE)

    sent = alerts(session)
    assert sorted({n.user_id for n in sent}) == sorted(c.id for c in net.coordinators)
    assert len(sent) == len(net.coordinators)  # one channel each: coordinators here have no phone
    assert all(n.params == {"ref": incident.ref, "reason": "exhausted"} and n.incident_id == incident.id
               for n in sent)
    need = need_of(incident)
    assert (need.state, need.wave, need.next_wave_at) == (NeedState.exhausted, 3, None)
    timeline = kinds(session, incident)
    assert timeline.count("wave") == 2 and timeline.count("exhausted") == 1
    assert timeline.count("coordinators_alerted") == 1 and timeline[-1] == "coordinators_alerted"


def test_when_no_candidate_is_left_the_coordinators_hear_at_once(make, session, now):
    net = build(make, responders=0, coordinators=1)
    incident = file(make, net, now=now, severity=2)
    assert need_of(incident).next_wave_at == now  # filing found nobody
    assert tick(session, now=now) == {"exhausted": 1}
    (alert,) = alerts(session)
    assert alert.params == {"ref": incident.ref, "reason": "no_candidates"}


def test_a_stopped_scheduler_catches_up_with_one_step_per_need(make, session, now):
    net = build(make, responders=9)
    late_ones = [file(make, net, now=now, severity=4) for _ in range(3)]
    on_time = file(make, net, now=now + 30 * MINUTE, severity=4)

    # Down for 35 minutes: three deadlines of each early incident passed, none of the last.
    restart = now + 35 * MINUTE
    assert tick(session, now=restart) == {"waves": 3}
    assert not +tick(session, now=restart)  # a second run at the same time finds nothing
    for incident in late_ones:
        need = need_of(incident)
        assert (need.wave, need.next_wave_at) == (2, restart + 10 * MINUTE)  # counted from now
        wave = [e for e in incident.timeline if e.kind == "wave"]
        assert len(wave) == 1 and "min late" in wave[0].data["reason"]
    assert need_of(on_time).wave == 1

    assert tick(session, now=restart + 10 * MINUTE) == {"waves": 4}
    assert tick(session, now=restart + 20 * MINUTE) == {"waves": 1, "exhausted": 3}
    assert len(alerts(session)) == 3 * len(net.coordinators)


def test_closed_incidents_are_not_escalated(make, session, now):
    net = build(make)
    incident = file(make, net, now=now, severity=4)
    incidents.change_status(session, net.reporter, incident, "withdrawn", now=now + MINUTE)
    assert not +tick(session, now=now + 60 * MINUTE)
    assert not alerts(session)


def test_a_failing_step_is_rolled_back_and_the_others_go_on(make, session, now, monkeypatch):
    net = build(make)
    broken, fine = file(make, net, now=now), file(make, net, now=now)
    real = tick_module.open_next_wave

    def flaky(session_, need, **kwargs):
        if need.incident_id == broken.id:
            real(session_, need, **kwargs)  # writes rows, then fails: all of it must roll back
            raise RuntimeError("boom")
        return real(session_, need, **kwargs)

    monkeypatch.setattr(tick_module, "open_next_wave", flaky)
    assert tick(session, now=now + 10 * MINUTE) == {"waves": 1, "errors": 1}
    assert need_of(fine).wave == 2
    assert (need_of(broken).wave, len(matches(session, broken))) == (1, 3)
    assert need_of(broken).next_wave_at == now + 10 * MINUTE  # still due: retried on the next run


@pytest.mark.postgres
def test_two_tickers_on_postgresql_never_perform_a_step_twice(app, make, session, now, is_postgres):
    if not is_postgres:
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) need PostgreSQL")
    net = build(make, responders=9, coordinators=2)
    filed = [file(make, net, now=now, severity=4) for _ in range(12)]
    session.commit()

    def together(at) -> list:
        barrier = threading.Barrier(2)
        results, errors = [], []

        def run():
            try:
                with app.app_context():
                    barrier.wait(timeout=10)
                    results.append(tick(db.session, now=at))
                    db.session.remove()
            except Exception as exc:  # surfaced below; a thread cannot fail the test itself
                errors.append(exc)
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors and len(results) == 2
        return results

    first, second = together(now + 10 * MINUTE)
    assert first["waves"] + second["waves"] == 12 and not first["errors"] + second["errors"]
    together(now + 20 * MINUTE)
    first, second = together(now + 30 * MINUTE)
    assert first["exhausted"] + second["exhausted"] == 12

    session.expire_all()
    for incident in filed:
        asked = matches(session, incident)
        assert sorted(m.wave for m in asked) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
        assert kinds(session, incident).count("wave") == 2
        assert kinds(session, incident).count("coordinators_alerted") == 1
    assert len(alerts(session)) == 12 * len(net.coordinators)
    # Each organisation asked was told once per incident: no wave's notifications were written twice.
    requests = session.execute(select(Notification.incident_id, Notification.match_id, Notification.user_id)
                               .where(Notification.template == "match_request")).all()
    assert len(requests) == len(set(requests)) == 12 * 9
