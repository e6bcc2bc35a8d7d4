"""Real worker processes: SIGTERM ends one cleanly; SIGKILL mid-batch loses nothing (PostgreSQL, two workers)."""
from __future__ import annotations

import signal
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from solidarity.notify import outbox
from solidarity.notify.models import Channel, Delivery, Failure, Notification
from tests.notify.fake_twilio import FakeTwilio
from tests.notify.workers import start_worker, worker_env


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def slow_twilio():
    """The fake Twilio taking a few milliseconds per message, so a batch is long enough to interrupt."""
    fake = FakeTwilio().start()

    def pause(form):
        time.sleep(0.004)
    fake.fault = pause
    yield fake
    fake.stop()


def queue_many(session, make, now, count: int, people: int = 20):
    org = make.org()
    users = [make.user(org, phone=f"+2547123{n:05d}") for n in range(people)]
    for user in users:
        user.notify_email = False  # SMS only: email is the fallback, never a sibling
    for n in range(count):
        outbox.enqueue(session, users[n % people], "match_request", now=now, ref=f"K{n:04d}".replace("0", "C"),
                       help_type="legal")
    session.commit()


def statuses(session) -> Counter:
    session.expire_all()
    return Counter(dict(session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()))


def test_sigterm_finishes_the_row_in_hand_and_exits(session, make, now, database_url, tmp_path, slow_twilio):
    queue_many(session, make, now, 200)
    env = worker_env(database_url, tmp_path, slow_twilio.base_url, NOTIFY_BATCH_SIZE=50)
    worker = start_worker(env, tmp_path / "worker.log", "--poll", "0.1")
    try:
        wait_until(lambda: len(slow_twilio.sent) >= 20, 60, "the first messages")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        worker.kill()
    session.expire_all()
    rows = list(session.scalars(select(Notification)))
    assert not [r for r in rows if r.status is Delivery.sending]
    waiting = [r for r in rows if r.status is Delivery.queued]
    assert waiting and all(r.claimed_by is None and r.lease_until is None for r in waiting)  # released at once
    assert len(slow_twilio.sent) == sum(r.status is Delivery.sent for r in rows)


@pytest.mark.postgres
def test_sigkill_mid_batch_loses_nothing_with_two_workers(session, make, now, database_url, is_postgres, tmp_path,
                                                          slow_twilio):
    if not is_postgres:
        pytest.skip("two workers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    total = 1000
    queue_many(session, make, now, total)
    env = worker_env(database_url, tmp_path, slow_twilio.base_url, NOTIFY_BATCH_SIZE=50,
                     NOTIFY_CLAIM_LEASE_SECONDS=3, NOTIFY_SEND_LEASE_SECONDS=3)
    victim = start_worker(env, tmp_path / "victim.log", "--poll", "0.1")
    survivor = start_worker(env, tmp_path / "survivor.log", "--poll", "0.1")
    kills = 0
    try:
        wait_until(lambda: len(slow_twilio.sent) >= total // 3, 120, "a third of the batch")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        kills += 1
        wait_until(lambda: not {Delivery.queued, Delivery.sending} & set(+statuses(session)), 180,
                   "every notification to end")
    finally:
        for process in (victim, survivor):
            process.kill()
            process.wait(timeout=10)

    session.expire_all()
    rows = list(session.scalars(select(Notification)))
    originals = [r for r in rows if r.fallback_of_id is None]
    fallbacks = {r.fallback_of_id: r for r in rows if r.fallback_of_id is not None}
    assert len(originals) == total
    sms_by_row = slow_twilio.by_notification()
    duplicates = 0
    for row in originals:
        if row.status is Delivery.sent:
            assert row.id not in fallbacks
            reached = len(sms_by_row.get(str(row.id), []))
        else:
            # The one row a killed worker had in hand: failed as ambiguous, then emailed instead.
            assert (row.status, row.failure) == (Delivery.failed, Failure.ambiguous)
            fallback = fallbacks[row.id]
            assert (fallback.channel, fallback.status) == (Channel.email, Delivery.sent)
            reached = len(sms_by_row.get(str(row.id), [])) + 1
        assert reached >= 1
        duplicates += reached - 1
    assert duplicates <= kills
    assert sum(len(sent) for sent in sms_by_row.values()) == total - sum(r.status is Delivery.failed
                                                                       for r in originals) + duplicates
