"""The dispatcher with channel twins: claiming, retries, backoff, permanent and ambiguous failures,
fallback, recovery after a crash, fencing of lapsed claims, opt-out and shutdown."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.members.models import Vetting
from solidarity.notify import dispatcher, outbox
from solidarity.notify.channels import AmbiguousError, PermanentError, TransientError
from solidarity.notify.dispatcher import Policy
from solidarity.notify.models import Channel, Delivery, Failure, Notification
from tests.notify.conftest import Recorder

POLICY = Policy(batch_size=20, claim_lease=timedelta(seconds=60), send_lease=timedelta(seconds=120),
                max_attempts={"sms": 3, "email": 2}, backoff_base=2.0, backoff_cap=30.0)


class Highest:
    """A random source that always picks the top of the range: backoff bounds become exact."""

    def uniform(self, low, high):
        return high


@pytest.fixture
def person(make, session):
    org = make.org(languages=("fr",))
    user = make.user(org, phone="+254712345601")
    user.preferred_language = "fr"
    session.commit()
    return user


def queue(session, user, now, template="match_request", **params):
    rows = outbox.enqueue(session, user, template, now=now, ref=params.pop("ref", "K7QFH"),
                          help_type=params.pop("help_type", "legal"), **params)
    session.commit()
    return rows


def rows(session, **where):
    """Originals before fallbacks, then by time and channel."""
    query = select(Notification)
    for key, value in where.items():
        query = query.where(getattr(Notification, key) == value)
    session.expire_all()
    return sorted(session.scalars(query), key=lambda r: (r.fallback_of_id is not None, r.created_at, r.channel.value))


def run(session, now, sms, email, **kwargs):
    return dispatcher.run_once(session, now=now, channels={Channel.sms: sms, Channel.email: email},
                               policy=kwargs.pop("policy", POLICY), **kwargs)


def test_sends_each_channel_and_records_the_outcome(session, person, now):
    queue(session, person, now)
    sms, email = Recorder(), Recorder()
    counts = run(session, now, sms, email)
    assert counts["claimed"] == 2 and counts["sent"] == 2
    assert sms.sent[0].to == "+254712345601" and "K7QFH" in sms.sent[0].body and sms.sent[0].urgent
    assert sms.sent[0].language == "fr" and "aide juridique" in sms.sent[0].body
    assert email.sent[0].to == person.email and "K7QFH" in email.sent[0].subject
    for row in rows(session):
        assert (row.status, row.attempts, row.sent_at, row.lease_until) == (Delivery.sent, 1, now, None)
        assert row.provider_id == "rec-1"


def test_rows_not_yet_due_wait(session, person, now):
    queue(session, person, now + timedelta(minutes=1))
    assert run(session, now, Recorder(), Recorder())["claimed"] == 0


def test_transient_errors_back_off_then_fall_back_to_the_other_channel(session, person, now):
    person.notify_email = False  # SMS only, so the fallback is the only email
    session.commit()
    queue(session, person, now)
    sms = Recorder(*[TransientError("Twilio error 500", code=500)] * 3)
    email = Recorder()
    at = now
    for attempt in (1, 2):
        assert run(session, at, sms, email, rng=Highest())["retry"] == 1
        (row,) = rows(session)
        delay = min(30.0, 2.0 * 2 ** (attempt - 1))
        assert (row.status, row.attempts, row.next_attempt_at) == (Delivery.queued, attempt,
                                                                    at + timedelta(seconds=delay))
        assert row.last_error == "500: Twilio error 500" and row.claimed_by is None
        assert run(session, at + timedelta(seconds=delay - 0.5), sms, email)["claimed"] == 0
        at = row.next_attempt_at
    assert run(session, at, sms, email)["failed"] == 1
    failed, fallback = rows(session)
    assert (failed.status, failed.failure, failed.attempts) == (Delivery.failed, Failure.retries_spent, 3)
    assert "attempt 3 of 3" in failed.last_error
    assert (fallback.channel, fallback.fallback_of_id, fallback.status) == (Channel.email, failed.id, Delivery.queued)
    assert run(session, at, sms, email)["sent"] == 1
    assert email.sent and not sms.sent


def test_backoff_uses_full_jitter_under_a_cap():
    assert [POLICY.backoff(n, Highest()).total_seconds() for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]

    class Lowest:
        def uniform(self, low, high):
            return low
    assert POLICY.backoff(5, Lowest()) == timedelta(0)


def test_throttling_waits_at_least_what_the_provider_asks(session, person, now):
    queue(session, person, now)
    run(session, now, Recorder(TransientError("throttled", code=20429, retry_after=2.0)), Recorder(),
        rng=type("Zero", (), {"uniform": lambda self, a, b: 0.0})())
    (sms_row,) = rows(session, channel=Channel.sms)
    assert sms_row.next_attempt_at == now + timedelta(seconds=2)


def test_permanent_error_is_not_retried_and_falls_back_at_once(session, person, now):
    person.notify_email = False
    session.commit()
    queue(session, person, now)
    sms, email = Recorder(PermanentError("recipient opted out (STOP)", code=21610)), Recorder()
    counts = run(session, now, sms, email)
    assert counts["failed"] == 1 and counts["claimed"] == 1
    failed, fallback = rows(session)
    assert (failed.failure, failed.attempts, failed.last_error) == (Failure.permanent, 1,
                                                                    "21610: recipient opted out (STOP)")
    assert fallback.channel is Channel.email and fallback.fallback_of_id == failed.id
    run(session, now, sms, email)
    assert len(email.sent) == 1


def test_ambiguous_outcome_is_never_resent_on_the_same_channel(session, person, now):
    person.notify_email = False
    session.commit()
    queue(session, person, now)
    sms, email = Recorder(AmbiguousError("Twilio did not answer in time", code="timeout")), Recorder()
    run(session, now, sms, email)
    run(session, now + timedelta(hours=1), sms, email)
    failed, fallback = rows(session)
    assert (failed.status, failed.failure, failed.attempts) == (Delivery.failed, Failure.ambiguous, 1)
    assert "not resent" in failed.last_error
    assert not sms.sent and len(email.sent) == 1 and fallback.status is Delivery.sent


def test_no_fallback_when_the_person_is_already_reached_on_the_other_channel(session, person, now):
    queue(session, person, now)  # SMS and email siblings
    run(session, now, Recorder(PermanentError("invalid 'To' number", code=21211)), Recorder())
    assert sorted((r.channel.value, r.status.value) for r in rows(session)) == [("email", "sent"), ("sms", "failed")]


def test_a_fallback_has_no_fallback_of_its_own(session, person, now):
    person.notify_email = False
    session.commit()
    queue(session, person, now)
    sms, email = Recorder(PermanentError("bad number")), Recorder(PermanentError("no such mailbox", code=550))
    run(session, now, sms, email)
    run(session, now, sms, email)
    assert [(r.channel.value, r.status.value) for r in rows(session)] == [("sms", "failed"), ("email", "failed")]
    assert run(session, now, sms, email)["claimed"] == 0


def test_a_row_left_sending_by_a_dead_worker_is_recovered_as_ambiguous(session, person, now):
    person.notify_email = False
    session.commit()
    (row,) = queue(session, person, now)
    token = "dead-worker"
    assert dispatcher.claim(session, token, now=now, channels=[Channel.sms], policy=POLICY) == [row.id]
    assert dispatcher._start(session, row.id, token, now=now, policy=POLICY)
    # ... the worker is killed here, mid-send ...
    sms, email = Recorder(), Recorder()
    assert run(session, now + timedelta(seconds=60), sms, email)["recovered"] == 0  # lease still running
    counts = run(session, now + timedelta(seconds=121), sms, email)
    assert counts["recovered"] == 1
    failed, fallback = rows(session)
    assert (failed.failure, failed.attempts) == (Failure.ambiguous, 1) and "lease expired" in failed.last_error
    assert not sms.sent and fallback.fallback_of_id == failed.id


def test_a_lapsed_claim_is_taken_over_and_the_first_worker_sends_nothing(session, person, now):
    person.notify_email = False
    session.commit()
    (row,) = queue(session, person, now)
    config = {"SECRET_KEY": "k", "PUBLIC_URL": "https://s.example"}
    assert dispatcher.claim(session, "slow", now=now, channels=[Channel.sms], policy=POLICY) == [row.id]
    (slow_job,), _ = dispatcher.prepare(session, [row.id], "slow", now=now, config=config)
    assert dispatcher.claim(session, "other", now=now + timedelta(seconds=30), channels=[Channel.sms],
                            policy=POLICY) == []
    later = now + timedelta(seconds=61)  # the slow worker stalled past its claim lease
    assert dispatcher.claim(session, "fast", now=later, channels=[Channel.sms], policy=POLICY) == [row.id]
    (fast_job,), _ = dispatcher.prepare(session, [row.id], "fast", now=later, config=config)
    slow, fast = Recorder(), Recorder()
    assert dispatcher.send_job(session, slow_job, "slow", {Channel.sms: slow}, now=later, policy=POLICY) == "lost"
    assert dispatcher.send_job(session, fast_job, "fast", {Channel.sms: fast}, now=later, policy=POLICY) == "sent"
    session.commit()
    assert (len(slow.sent), len(fast.sent)) == (0, 1)


def test_stop_finishes_the_row_in_hand_and_releases_the_rest(session, person, now):
    person.notify_email = False
    session.commit()
    for ref in ("AAAAA", "CCCCC", "DDDDD"):
        queue(session, person, now, ref=ref)
    stop = threading.Event()

    class StopsAfterFirst(Recorder):
        def send(self, message):
            receipt = super().send(message)
            stop.set()  # SIGTERM arrives while this message is being sent
            return receipt

    sms = StopsAfterFirst()
    counts = run(session, now, sms, Recorder(), stop=stop)
    assert (counts["claimed"], counts["sent"], counts["released"]) == (3, 1, 2)
    statuses = sorted((r.status.value, r.claimed_by, r.lease_until) for r in rows(session))
    assert statuses == [("queued", None, None), ("queued", None, None), ("sent", statuses[2][1], None)]
    assert run(session, now, sms, Recorder())["sent"] == 2  # taken at once, no lease to wait for


def test_sms_after_stop_goes_by_email(session, person, now):
    person.notify_email = False
    session.commit()
    queue(session, person, now)
    person.sms_opted_out_at = now
    session.commit()
    sms, email = Recorder(), Recorder()
    run(session, now, sms, email)
    failed, fallback = rows(session)
    assert (failed.failure, failed.attempts) == (Failure.opted_out, 0) and fallback.channel is Channel.email
    assert outbox.channels_for(person) == [Channel.email]


def test_disabled_account_gets_nothing(session, person, now):
    queue(session, person, now)
    person.active = False
    session.commit()
    run(session, now, Recorder(), Recorder())
    assert {(r.status, r.failure) for r in rows(session)} == {(Delivery.failed, Failure.inactive)}


@pytest.mark.parametrize("state", ["locked down", "suspended"])
def test_an_organisation_locked_down_or_suspended_after_queueing_gets_nothing(session, person, now, state):
    queue(session, person, now)
    if state == "locked down":
        person.organisation.locked_at = now
    else:
        person.organisation.vetting_status = Vetting.suspended
    session.commit()
    sms, email = Recorder(), Recorder()
    run(session, now, sms, email)
    assert not sms.sent and not email.sent
    assert {(r.status, r.failure, r.last_error) for r in rows(session)} == {
        (Delivery.failed, Failure.inactive, f"the organisation is {state}")}


def test_a_worker_takes_only_the_channels_it_has(session, person, now):
    queue(session, person, now)
    counts = dispatcher.run_once(session, now=now, channels={Channel.email: Recorder()}, policy=POLICY)
    assert counts["sent"] == 1
    assert {(r.channel.value, r.status.value) for r in rows(session)} == {("sms", "queued"), ("email", "sent")}


def test_an_adapter_bug_does_not_stop_the_worker(session, person, now):
    person.notify_email = False
    session.commit()
    queue(session, person, now, ref="AAAAA")
    queue(session, person, now, ref="CCCCC")
    counts = run(session, now, Recorder(RuntimeError("bug")), Recorder())
    assert (counts["failed"], counts["sent"]) == (1, 1)
    assert rows(session, failure=Failure.ambiguous)[0].last_error == "unexpected RuntimeError in the sms channel"
