"""The case conversation: who reads which post, private lines, notices without text and batched,
progress and handing back, contacts on request, rate limits, retention, lockdown and suspension."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationError
from solidarity.escalation.tick import tick
from solidarity.extensions import db
from solidarity.incidents import lockdown, messages, retention, service
from solidarity.incidents.models import Incident, Message, NeedState
from solidarity.matching.models import Match, MatchStatus
from solidarity.members import service as members_service
from solidarity.members.models import User
from solidarity.notify.models import Notification
from tests.incidents import scenario

SECRET = "canary-lawyer-meets-at-the-back-door"


@pytest.fixture
def net(make, session, now):
    """A accepted legal help and D communications, both at `now`; B was only asked."""
    net = scenario.build(make, now=now)
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    service.answer_match(session, make.admin_of(net.d), net.match_of(session, net.d), True, now=now)
    return net


def bodies(session, user, incident, now):
    return [shown.body for shown in messages.thread(session, user, incident, now=now)]


def notices(session, user=None):
    query = select(Notification).where(Notification.template == messages.NOTICE)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    return list(session.scalars(query.order_by(Notification.next_attempt_at)))


def test_the_reporter_accepted_responders_and_coordinators_read_the_thread_nobody_else(make, session, net, now):
    later = now + timedelta(minutes=1)
    messages.post(session, net.reporter, net.incident, "We are at the station", now=later)
    a, b, other = make.admin_of(net.a), make.admin_of(net.b), make.admin_of(net.other)
    assert bodies(session, a, net.incident, later) == ["We are at the station"]
    assert bodies(session, net.coordinator, net.incident, later) == ["We are at the station"]
    for outsider in (b, other):  # only asked; never asked
        with pytest.raises(NotFound):
            messages.thread(session, outsider, net.incident, now=later)
        with pytest.raises(NotFound):
            messages.post(session, outsider, net.incident, "hello", now=later)
    reply = messages.post(session, a, net.incident, "We are on our way", now=later)
    assert [s.author for s in messages.thread(session, net.reporter, net.incident, now=later)] == \
        ["Your organisation", "Alpha Legal"]
    assert [s.author for s in messages.thread(session, make.admin_of(net.d), net.incident, now=later)] == \
        ["The reporting organisation", "Another responder"]
    assert reply.author_role == "responder"
    reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "thread.read")).all()
    assert [e.actor_id for e in reads] == [str(net.coordinator.id)]  # coordinators' reads are audited


def test_a_responder_reads_from_its_acceptance_on_unless_the_reporter_shares_the_history(make, session, now):
    net = scenario.build(make, now=now)
    messages.post(session, net.reporter, net.incident, "before anyone accepted", now=now)
    a = make.admin_of(net.a)
    service.answer_match(session, a, net.match_of(session, net.a), True, now=now + timedelta(minutes=5))
    messages.post(session, net.reporter, net.incident, "after", now=now + timedelta(minutes=6))
    assert bodies(session, a, net.incident, now + timedelta(minutes=7)) == ["after"]
    with pytest.raises(Forbidden):
        messages.set_history_shared(session, a, net.incident, True, now=now)
    messages.set_history_shared(session, net.reporter, net.incident, True, now=now)
    assert bodies(session, a, net.incident, now + timedelta(minutes=7)) == ["before anyone accepted", "after"]


def test_a_private_line_reaches_only_its_responder_and_says_so(make, session, net, now):
    a, d = make.admin_of(net.a), make.admin_of(net.d)
    messages.post(session, net.reporter, net.incident, "the lawyer's brief", now=now, private_to=net.a.id)
    messages.post(session, a, net.incident, "received, privately", now=now, private_to=net.a.id)
    assert bodies(session, a, net.incident, now) == ["the lawyer's brief", "received, privately"]
    assert bodies(session, d, net.incident, now) == []
    assert bodies(session, net.coordinator, net.incident, now) == []
    shown = messages.thread(session, net.reporter, net.incident, now=now)
    assert {s.readers for s in shown} == {"Only you and Alpha Legal can read this."}
    assert {s.readers for s in messages.thread(session, a, net.incident, now=now)} == \
        {"Only you and the reporting organisation can read this."}
    with pytest.raises(ValidationError) as error:
        messages.post(session, a, net.incident, "to D", now=now, private_to=net.d.id)
    assert error.value.field == "private_to"
    with pytest.raises(ValidationError):  # B was only asked: no private line to it
        messages.post(session, net.reporter, net.incident, "to B", now=now, private_to=net.b.id)
    with pytest.raises(ValidationError):
        messages.post(session, net.coordinator, net.incident, "x", now=now, private_to=net.a.id)
    # Only the private line's people were told.
    told = {n.user_id for n in notices(session)}
    assert told == {u.id for u in (*net.a.users, *net.reporter_org.users)}


def test_bad_input_names_the_field_and_writes_nothing(session, net, now):
    for body in ("", "   ", None, 42, "x" * (messages.BODY_MAX + 1)):
        with pytest.raises(ValidationError) as error:
            messages.post(session, net.reporter, net.incident, body, now=now)
        assert error.value.field == "body"
    with pytest.raises(NotFound):
        messages.post(session, net.reporter, net.incident, "x", now=now, private_to="not-an-id")
    assert session.scalars(select(Message)).all() == []


def test_notices_carry_no_text_and_a_burst_is_one_per_person_per_window(app, make, session, net, now):
    a = make.admin_of(net.a)
    window = timedelta(seconds=app.config["MESSAGE_NOTIFY_BATCH_SECONDS"])
    for minute in range(4):
        messages.post(session, net.reporter, net.incident, f"{SECRET} {minute}", now=now + timedelta(minutes=minute))
    rows = notices(session, a)
    # The first post is told at once; the other three of the burst once, when the window ends.
    assert sorted({r.next_attempt_at for r in rows}) == [now, now + window]
    assert len(rows) == 2 * len({r.channel for r in rows})
    for row in notices(session):
        assert SECRET not in str(row.params) and set(row.params) == {"ref"} and row.incident_id == net.incident.id
    assert net.reporter.id not in {r.user_id for r in notices(session)}  # not told of one's own posts
    # After the window, a new post is told at once again.
    messages.post(session, net.reporter, net.incident, "later", now=now + 3 * window)
    assert max(r.next_attempt_at for r in notices(session, a)) == now + 3 * window


def test_reading_the_thread_withdraws_a_notice_still_waiting(app, make, session, net, now):
    a = make.admin_of(net.a)
    window = timedelta(seconds=app.config["MESSAGE_NOTIFY_BATCH_SECONDS"])
    messages.post(session, net.reporter, net.incident, "first", now=now)
    messages.post(session, net.reporter, net.incident, "second", now=now + timedelta(minutes=1))
    assert {r.next_attempt_at for r in notices(session, a)} == {now, now + window}
    messages.thread(session, a, net.incident, now=now + timedelta(minutes=2))
    assert {r.next_attempt_at for r in notices(session, a)} == {now}  # the one already due stays
    assert {r.next_attempt_at for r in notices(session, make.admin_of(net.d))} == {now, now + window}


def test_a_muted_case_sends_no_notice(make, session, net, now):
    a = make.admin_of(net.a)
    messages.set_muted(session, a, net.incident, True, now=now)
    messages.post(session, net.reporter, net.incident, "hello", now=now)
    assert notices(session, a) == []
    assert notices(session, make.admin_of(net.d))
    messages.set_muted(session, a, net.incident, False, now=now)
    messages.post(session, net.reporter, net.incident, "again", now=now + timedelta(hours=1))
    assert notices(session, a)


def test_coordinators_who_take_part_are_told(make, session, net, now):
    messages.post(session, net.reporter, net.incident, "first", now=now)
    assert notices(session, net.coordinator) == []
    messages.thread(session, net.coordinator, net.incident, now=now)
    messages.post(session, net.reporter, net.incident, "second", now=now + timedelta(hours=1))
    assert notices(session, net.coordinator)


def test_unread_counts_follow_what_each_may_read(make, session, net, now):
    a, d = make.admin_of(net.a), make.admin_of(net.d)
    messages.post(session, net.reporter, net.incident, "one", now=now)
    messages.post(session, net.reporter, net.incident, "two", now=now, private_to=net.a.id)
    assert messages.unread_counts(session, a, [net.incident]) == {net.incident.id: 2}
    assert messages.unread_counts(session, d, [net.incident]) == {net.incident.id: 1}
    assert messages.unread_counts(session, make.admin_of(net.b), [net.incident]) == {}
    assert messages.unread_counts(session, net.reporter, [net.incident]) == {net.incident.id: 0}
    messages.thread(session, a, net.incident, now=now + timedelta(seconds=1))
    assert messages.unread_counts(session, a, [net.incident]) == {net.incident.id: 0}
    # Coordinators count the cases they take part in only.
    assert messages.unread_counts(session, net.coordinator, [net.incident]) == {}
    messages.thread(session, net.coordinator, net.incident, now=now + timedelta(seconds=1))
    messages.post(session, net.reporter, net.incident, "three", now=now + timedelta(seconds=2))
    assert messages.unread_counts(session, net.coordinator, [net.incident]) == {net.incident.id: 1}


def test_posting_is_rate_limited_per_person(app, session, net, now, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_RATE_LIMIT_COUNT", 2)
    messages.post(session, net.reporter, net.incident, "1", now=now)
    messages.post(session, net.reporter, net.incident, "2", now=now)
    with pytest.raises(RateLimited):
        messages.post(session, net.reporter, net.incident, "3", now=now)
    after = now + timedelta(seconds=app.config["MESSAGE_RATE_LIMIT_SECONDS"] + 1)
    messages.post(session, net.reporter, net.incident, "4", now=after)
    assert len(session.scalars(select(Message)).all()) == 3


def test_progress_and_covered_are_in_the_thread_and_on_the_case_page(make, session, net, now):
    a = make.admin_of(net.a)
    messages.report_progress(session, a, net.incident, "progress", "Filing habeas corpus", now=now)
    messages.report_progress(session, a, net.incident, "covered", None, now=now + timedelta(minutes=1))
    shown = messages.progress_for(session, net.reporter, net.incident)
    assert [(s.message.kind, s.body) for s in shown] == [("covered", None), ("progress", "Filing habeas corpus")]
    assert [s.body for s in messages.thread(session, net.reporter, net.incident, now=now)] == \
        ["Filing habeas corpus", None]
    with pytest.raises(Forbidden):  # the reporter does not report a responder's progress
        messages.report_progress(session, net.reporter, net.incident, "progress", "x", now=now)
    with pytest.raises(ValidationError) as error:
        messages.report_progress(session, a, net.incident, "progress", "", now=now)
    assert error.value.field == "body"
    with pytest.raises(ValidationError) as error:
        messages.report_progress(session, a, net.incident, "progress", "x", now=now, help_type="communications")
    assert error.value.field == "help_type"


def test_handing_back_frees_capacity_and_the_next_wave_is_asked(make, session, now):
    net = scenario.build(make, now=now)
    c = make.org("Gamma Legal", country="KE")
    make.offer(c, "legal", countries=["KE"])
    a = make.admin_of(net.a)
    service.answer_match(session, a, net.match_of(session, net.a), True, now=now)
    # A's offer takes one case: a second incident asking legal help in Kenya does not reach it.
    second_org = make.org("Second Reporter", country="KE")
    second = make.incident(make.admin_of(second_org), now=now, needs=["legal"])
    assert net.a.id not in {m.organisation_id for m in session.scalars(select(Match).where(
        Match.incident_id == second.id))}

    messages.report_progress(session, a, net.incident, "handed_back", "Our lawyer was arrested", now=now)
    match = net.match_of(session, net.a)
    assert match.status is MatchStatus.handed_back
    need = next(n for n in net.incident.needs if n.help_type == "legal")
    assert need.state is NeedState.seeking and need.next_wave_at == now
    with pytest.raises(NotFound):  # no longer on the case: no thread
        messages.thread(session, a, net.incident, now=now)

    assert tick(session, now=now)["waves"] >= 1
    asked = session.scalars(select(Match.organisation_id).where(Match.incident_id == net.incident.id,
                                                                Match.help_type == "legal", Match.wave == 2)).all()
    assert c.id in asked and net.a.id not in asked
    # Its capacity is free again: the next incident needing legal help in Kenya reaches A.
    third = make.incident(make.admin_of(second_org), now=now, needs=["legal"], threat_type="detention")
    assert net.a.id in {m.organisation_id for m in session.scalars(select(Match).where(
        Match.incident_id == third.id))}


def test_contacts_on_request_are_decided_per_responder_in_the_thread_and_audited(make, session, now):
    net = scenario.build(make, now=now, disclosure=("summary",))
    a, d = make.admin_of(net.a), make.admin_of(net.d)
    for org in (net.a, net.d):
        service.answer_match(session, make.admin_of(org), net.match_of(session, org), True, now=now)
    assert "contact" not in service.reveal(session, a, net.incident, now=now)
    messages.request_contact(session, a, net.incident, now=now)
    messages.request_contact(session, d, net.incident, now=now)
    with pytest.raises(Conflict):
        messages.request_contact(session, a, net.incident, now=now)
    with pytest.raises(Forbidden):
        messages.decide_contact(session, a, net.incident, net.a.id, True, now=now)
    messages.decide_contact(session, net.reporter, net.incident, net.a.id, True, now=now)
    messages.decide_contact(session, net.reporter, net.incident, net.d.id, False, now=now)
    assert service.reveal(session, a, net.incident, now=now)["contact"]["name"] == net.reporter_member.name
    assert "contact" not in service.reveal(session, d, net.incident, now=now)
    kinds = [s.message.kind for s in messages.thread(session, net.reporter, net.incident, now=now)]
    assert kinds == ["contact_request", "contact_request", "contact_granted", "contact_refused"]
    assert [s.message.kind for s in messages.thread(session, d, net.incident, now=now)] == \
        ["contact_request", "contact_refused"]  # each decision is on its responder's private line
    audited = {e.action for e in session.scalars(select(AuditEvent))}
    assert {"thread.contact_requested", "thread.contact_granted", "thread.contact_refused"} <= audited


def test_retention_erases_the_thread_with_the_incident(app, make, session, net, now):
    messages.post(session, net.reporter, net.incident, SECRET, now=now)
    service.change_status(session, net.reporter, net.incident, "resolved", now=now)
    service.change_status(session, net.reporter, net.incident, "closed", now=now)
    later = now + timedelta(days=app.config["RETENTION_DAYS"] + 1)
    assert retention.erase_expired(session, now=later) == 1
    row = session.scalars(select(Message)).one()
    assert row.body_ct is None and row.author_id is None
    with pytest.raises(NotFound):
        messages.thread(session, net.reporter, net.incident, now=later)


def test_lockdown_and_suspension_hide_the_thread(make, session, net, now):
    messages.post(session, net.reporter, net.incident, "hello", now=now)
    a = make.admin_of(net.a)
    lockdown.lock_down(session, net.coordinator, net.a, now=now)
    with pytest.raises(NotFound):
        messages.thread(session, a, net.incident, now=now)
    assert messages.unread_counts(session, a, [net.incident]) == {}
    members_service.set_vetting(session, net.coordinator, net.d, "suspended", now=now)
    d = make.admin_of(net.d)
    with pytest.raises(NotFound):
        messages.thread(session, d, net.incident, now=now)
    messages.post(session, net.reporter, net.incident, "again", now=now + timedelta(hours=1))
    told = {n.user_id for n in notices(session) if n.created_at > now}
    assert not told & {u.id for u in (*net.a.users, *net.d.users)}
    lockdown.lock_down(session, net.coordinator, net.reporter_org, now=now)
    with pytest.raises(NotFound):
        messages.thread(session, net.reporter, net.incident, now=now)


@pytest.mark.parametrize("round_", range(3))
def test_posts_at_the_same_moment_take_their_own_places_and_a_burst_is_told_once(app, make, session, net, now,
                                                                                round_):
    """A race: the reporter and a responder post at once (threads released by a barrier)."""
    authors = [net.reporter, make.admin_of(net.a)]
    ids = [(u.id, net.incident.id) for u in authors]
    session.commit()
    barrier = threading.Barrier(len(authors))
    errors: list[Exception] = []

    def run(user_id, incident_id):
        try:
            with app.app_context():
                user, incident = db.session.get(User, user_id), db.session.get(Incident, incident_id)
                barrier.wait(timeout=10)
                messages.post(db.session, user, incident, f"at once {user_id}", now=now)
                db.session.remove()
        except Exception as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    session.expire_all()
    assert sorted(m.seq for m in session.scalars(select(Message))) == [1, 2]
    # D reads both posts: the first is told at once, the second when the window ends, never twice at once.
    window = timedelta(seconds=app.config["MESSAGE_NOTIFY_BATCH_SECONDS"])
    for person in net.d.users:
        due = sorted(r.next_attempt_at for r in notices(session, person))
        channels = len({r.channel for r in notices(session, person)})
        assert due == [now] * channels + [now + window] * channels
