"""The dispatcher: claim due outbox rows, send each through its channel, record what happened.

Guarantees, and how they are kept:

- Several workers never send the same row. On PostgreSQL a claim is
  `SELECT ... FOR UPDATE SKIP LOCKED LIMIT n` and an update that stamps the rows with the worker's
  fencing token and a short claim lease, committed at once. Before each send the row moves from
  queued to sending by a conditional update on that token, so a worker whose claim lapsed (and was
  taken over) sends nothing. On SQLite (one worker) the same statements run without row locks and
  the conditional update still fences.
- The attempt is recorded before the provider is called: status sending, attempts+1 and a send
  lease are committed first. A crash therefore leaves at most the one row in hand per worker in an
  unknown state; every other claimed row is still queued and is taken again once its claim lease
  runs out, without having been sent.
- An unknown outcome is never resent on the same channel. A row still in sending after its lease
  (the worker died or hung), or a send that timed out after the request went out, is marked failed
  with failure=ambiguous, and the person is reached through the other channel instead. A late
  Twilio status callback for it still moves it to sent or delivered (service.apply_status).
- Transient errors are retried with exponential backoff and full jitter up to the channel's attempt
  limit; permanent errors are not retried. Either way, when a row fails for good, a fallback row
  on the other channel is queued (email for SMS, SMS for email) if the person can be reached there
  and is not already being reached there for the same message; a fallback has no fallback itself.
"""
from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, object_session, selectinload

from solidarity import liveness, metrics
from solidarity.clock import utcnow
from solidarity.errors import DecryptionError
from solidarity.extensions import db, settings
from solidarity.members import phones
from solidarity.members.access import access_state, may_act
from solidarity.members.models import PhoneClaim, User
from solidarity.notify import messages
from solidarity.notify.channels import (
    AmbiguousError,
    DeliveryError,
    OptedOutError,
    OutgoingMessage,
    PermanentError,
    Sender,
    TransientError,
    build_senders,
)
from solidarity.notify.models import Channel, Delivery, Failure, Notification
from solidarity.notify.outbox import reachable, same_number, set_sms_opt_out

logger = logging.getLogger("solidarity.notify.dispatcher")

OTHER = {Channel.sms: Channel.email, Channel.email: Channel.sms}
HEARTBEAT_SECONDS = 5.0


@dataclass(frozen=True)
class Policy:
    batch_size: int = 20
    claim_lease: timedelta = timedelta(seconds=60)
    send_lease: timedelta = timedelta(seconds=120)
    max_attempts: Mapping[str, int] | None = None
    backoff_base: float = 2.0
    backoff_cap: float = 300.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        return cls(batch_size=int(config["NOTIFY_BATCH_SIZE"]),
                   claim_lease=timedelta(seconds=float(config["NOTIFY_CLAIM_LEASE_SECONDS"])),
                   send_lease=timedelta(seconds=float(config["NOTIFY_SEND_LEASE_SECONDS"])),
                   max_attempts=dict(config["NOTIFY_MAX_ATTEMPTS"]),
                   backoff_base=float(config["NOTIFY_BACKOFF_BASE_SECONDS"]),
                   backoff_cap=float(config["NOTIFY_BACKOFF_CAP_SECONDS"]))

    def attempts_for(self, channel: Channel) -> int:
        return int((self.max_attempts or {}).get(channel.value, 4))

    def backoff(self, attempts: int, rng: random.Random | Any = random) -> timedelta:
        """Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(cap, base*2^n)]."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(attempts - 1, 0))
        return timedelta(seconds=rng.uniform(0, ceiling))


# -- Claiming ---------------------------------------------------------------------------------------

def _locking(session: Session, query):
    # SKIP LOCKED lets each worker take rows nobody else is looking at, without waiting on them.
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


_TABLE = Notification.__table__


def claim(session: Session, token: str, *, now: datetime, channels: list[Channel], policy: Policy) -> list[uuid.UUID]:
    """Take up to batch_size due rows for this worker and commit; they stay queued until sent."""
    due = (select(Notification.id)
           .where(Notification.status == Delivery.queued, Notification.next_attempt_at <= now,
                  Notification.channel.in_(channels),
                  or_(Notification.lease_until.is_(None), Notification.lease_until < now))
           .order_by(Notification.next_attempt_at, Notification.created_at)
           .limit(policy.batch_size))
    ids = list(session.scalars(_locking(session, due)))
    if ids:
        session.execute(update(_TABLE)
                        .where(_TABLE.c.id.in_(ids), _TABLE.c.status == Delivery.queued)
                        .values(claimed_by=token, lease_until=now + policy.claim_lease))
    session.commit()
    return ids


def release(session: Session, token: str, ids: list[uuid.UUID]) -> None:
    """Give back claimed rows that were not started (shutdown), so another worker needs no lease to pass."""
    if ids:
        session.execute(update(_TABLE)
                        .where(_TABLE.c.id.in_(ids), _TABLE.c.claimed_by == token, _TABLE.c.status == Delivery.queued)
                        .values(claimed_by=None, lease_until=None))
        session.commit()


# -- Failing and falling back -----------------------------------------------------------------------

# Messages about the person's identity belong to one channel: a phone's code proves that phone only
# if it goes there (emailed, it would prove nothing); a registration notice, an address to confirm
# and a password link are about the email address (and a password link must never reach a phone).
OWN_CHANNEL = {"phone_code", *messages.EMAIL_ONLY}


def fallback_for(session: Session, row: Notification, *, now: datetime) -> Notification | None:
    """Queue the same message on the other channel, unless it has no point; the caller commits."""
    if row.fallback_of_id is not None:
        return None  # one fallback per message: no ping-pong between two broken channels
    if row.template in OWN_CHANNEL:
        return None
    user = row.user
    other = OTHER[row.channel]
    if not user.active or not reachable(user, other):
        return None
    # enqueue() wrote one row per channel in one go (same created_at). If the person has that
    # sibling, the other channel is already in use for this message (or already failed): a second
    # copy would be noise, or a second failure.
    sibling = session.scalar(select(Notification.id).where(
        Notification.user_id == row.user_id, Notification.channel == other,
        Notification.template == row.template, Notification.created_at == row.created_at,
        Notification.incident_id.is_(None) if row.incident_id is None else Notification.incident_id == row.incident_id,
        Notification.match_id.is_(None) if row.match_id is None else Notification.match_id == row.match_id).limit(1))
    if sibling is not None:
        return None
    fallback = Notification(id=uuid.uuid4(), user_id=row.user_id, channel=other, template=row.template,
                            params=dict(row.params or {}), incident_id=row.incident_id, match_id=row.match_id,
                            status=Delivery.queued, next_attempt_at=now, fallback_of_id=row.id,
                            created_at=now, updated_at=now)
    session.add(fallback)
    return fallback


def fail(session: Session, row: Notification, failure: Failure, error: str, *, now: datetime) -> Notification | None:
    """Mark `row` failed for good and queue its fallback; the caller commits. Returns the fallback."""
    row.status, row.failure, row.last_error = Delivery.failed, failure, error[:500]
    row.lease_until, row.next_attempt_at, row.updated_at = None, None, now
    fallback = fallback_for(session, row, now=now)
    logger.warning("notification %s failed (%s): %s%s", row.id, failure.value, error[:200],
                   f"; fallback {fallback.id} by {fallback.channel.value}" if fallback else "")
    return fallback


def recover_expired(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Rows left in sending past their lease: a worker died or hung mid-send, so the outcome is unknown.

    They are not resent on the same channel (the provider may have the message already); they
    fail as ambiguous and fall back to the other channel.
    """
    stuck = _locking(session, select(Notification).where(Notification.status == Delivery.sending,
                                                         Notification.lease_until < now).limit(limit))
    rows = list(session.scalars(stuck))
    for row in rows:
        fail(session, row, Failure.ambiguous, "send lease expired with no outcome recorded (worker stopped "
             "mid-send); not resent on this channel", now=now)
    session.commit()
    return len(rows)


# -- Preparing a batch ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    row_id: uuid.UUID
    channel: Channel
    message: OutgoingMessage


def _address(user: User, channel: Channel) -> str | None:
    return user.phone if channel is Channel.sms else user.email


def _phone_code(row: Notification, *, now: datetime) -> tuple[str, dict] | tuple[Failure, str]:
    """The number being proven and its code, computed now: neither is kept in the outbox."""
    try:
        claim = object_session(row).get(PhoneClaim, uuid.UUID(str((row.params or {}).get("claim"))))
    except ValueError:
        claim = None
    current = phones.open_claim(object_session(row), row.user, now=now)
    if claim is None or claim.phone_ct is None or current is not claim:
        return Failure.permanent, "the number was confirmed or replaced, or its code expired"
    return claim.phone, {"code": phones.code_for(claim)}


def _precheck(row: Notification) -> tuple[Failure, str] | None:
    user = row.user
    if not user.active:
        return Failure.inactive, "the account was disabled"
    if not may_act(user):  # locked down or suspended after the row was queued
        return Failure.inactive, f"the organisation is {access_state(user).value.replace('_', ' ')}"
    if row.template == "phone_code":
        return None  # to the number being proven, not the account's (see _phone_code)
    if row.channel is Channel.sms and user.sms_opted_out_at is not None:
        return Failure.opted_out, "the person texted STOP"
    if row.channel is Channel.sms and user.phone_index is None:
        return Failure.no_address, "no phone number on the account"
    return None


def _job(row: Notification, *, now: datetime, config: Mapping[str, Any]) -> Job | tuple[Failure, str]:
    problem = _precheck(row)
    if problem is not None:
        return problem
    language = messages.language_of(row.user.preferred_language)
    params = row.params or {}
    try:
        if row.template == "phone_code":
            found = _phone_code(row, now=now)
            if isinstance(found[0], Failure):
                return found
            address, params = found
        else:
            address = _address(row.user, row.channel)
        rendered = messages.render(row.template, row.channel, params, language, user_id=row.user_id,
                                   match_id=row.match_id, config=config, now=now, incident_id=row.incident_id)
    except DecryptionError:
        return Failure.no_address, "the address cannot be decrypted (its key was destroyed)"
    except (KeyError, ValueError) as exc:
        return Failure.permanent, f"cannot render template {row.template!r}: {exc}"
    if not address:
        return Failure.no_address, f"no {row.channel.value} address on the account"
    return Job(row.id, row.channel, OutgoingMessage(
        notification_id=str(row.id), to=address, body=rendered.body, subject=rendered.subject, html=rendered.html,
        urgent=rendered.urgent, language=language))


def prepare(session: Session, ids: list[uuid.UUID], token: str, *, now: datetime,
            config: Mapping[str, Any]) -> tuple[list[Job], int]:
    """Load the claimed rows with their recipients in one query and render every message.

    Rows that cannot be sent at all (disabled account, STOP, no address) fail here, with their
    fallback, before anything is started. Returns the jobs in claim order and how many failed.
    """
    if not ids:
        return [], 0
    rows = {row.id: row for row in session.scalars(
        select(Notification).options(selectinload(Notification.user))
        .where(Notification.id.in_(ids), Notification.claimed_by == token, Notification.status == Delivery.queued))}
    jobs, failed = [], 0
    for row_id in ids:
        if row_id not in rows:
            continue
        job = _job(rows[row_id], now=now, config=config)
        if isinstance(job, Job):
            jobs.append(job)
        else:
            fail(session, rows[row_id], *job, now=now)
            metrics.SENDS.labels(rows[row_id].channel.value, "unsendable").inc()
            failed += 1
    session.commit()
    return jobs, failed


# -- Sending one job -------------------------------------------------------------------------------------

def _start(session: Session, row_id: uuid.UUID, token: str, *, now: datetime, policy: Policy) -> bool:
    """Mark the attempt and commit it (with the previous row's outcome, if still pending) before sending."""
    started = session.execute(update(_TABLE)
                              .where(_TABLE.c.id == row_id, _TABLE.c.claimed_by == token,
                                     _TABLE.c.status == Delivery.queued)
                              .values(status=Delivery.sending, attempts=_TABLE.c.attempts + 1,
                                      lease_until=now + policy.send_lease, updated_at=now))
    session.commit()
    return started.rowcount == 1


def _record_sent(session: Session, row_id: uuid.UUID, provider_id: str | None, *, now: datetime) -> None:
    """Write the success; the caller commits it (with the next row's start: one commit per message)."""
    # A status callback may have got here first (sent or delivered); a recovery may have called the
    # row ambiguous meanwhile. Only move forward: sending or ambiguous-failed become sent.
    moved = session.execute(update(_TABLE)
                            .where(_TABLE.c.id == row_id,
                                   or_(_TABLE.c.status == Delivery.sending,
                                       (_TABLE.c.status == Delivery.failed) & (_TABLE.c.failure == Failure.ambiguous)))
                            .values(status=Delivery.sent, provider_id=provider_id, sent_at=now, lease_until=None,
                                    failure=None, last_error=None, updated_at=now))
    if moved.rowcount == 0 and provider_id:
        session.execute(update(_TABLE)
                        .where(_TABLE.c.id == row_id, _TABLE.c.provider_id.is_(None))
                        .values(provider_id=provider_id))


def _still_sending(session: Session, row_id: uuid.UUID) -> Notification | None:
    row = session.get(Notification, row_id, populate_existing=True)
    return row if row is not None and row.status is Delivery.sending else None


def _timed_send(sender: Sender, job: Job):
    """The provider call alone, timed for the latency histogram whatever its outcome."""
    started = time.perf_counter()
    try:
        return sender.send(job.message)
    finally:
        metrics.PROVIDER_LATENCY.labels(job.channel.value).observe(time.perf_counter() - started)


def send_job(session: Session, job: Job, token: str, senders: Mapping[Channel, Sender], *, now: datetime,
             policy: Policy, rng=random) -> str:
    """Start, send and record one prepared job: sent, retry, failed or lost (another worker has it).

    A success is left uncommitted for the caller, who commits it with the next start or at the end
    of the batch; if the process dies in between, the row is the one in hand and is recovered as
    ambiguous, as if it had died during the send.
    """
    if not _start(session, job.row_id, token, now=now, policy=policy):
        return "lost"
    try:
        receipt = _timed_send(senders[job.channel], job)
    except TransientError as exc:
        return _after_transient(session, job.row_id, exc, now=now, policy=policy, rng=rng)
    except OptedOutError as exc:
        return _after_failure(session, job.row_id, Failure.opted_out, str(exc), now=now, opted_out=True)
    except PermanentError as exc:
        return _after_failure(session, job.row_id, Failure.permanent, str(exc), now=now)
    except AmbiguousError as exc:
        return _after_failure(session, job.row_id, Failure.ambiguous, f"{exc}; not resent on this channel", now=now)
    except DeliveryError as exc:
        return _after_failure(session, job.row_id, Failure.permanent, str(exc), now=now)
    except Exception as exc:  # noqa: BLE001 - an adapter bug must not kill the worker
        # We cannot tell whether anything left, so it is ambiguous like a timeout.
        logger.exception("channel %s raised unexpectedly for notification %s", job.channel.value, job.row_id)
        return _after_failure(session, job.row_id, Failure.ambiguous,
                              f"unexpected {type(exc).__name__} in the {job.channel.value} channel", now=now)
    _record_sent(session, job.row_id, receipt.provider_id, now=now)
    return "sent"


def _after_transient(session: Session, row_id: uuid.UUID, exc: TransientError, *, now: datetime,
                     policy: Policy, rng) -> str:
    row = _still_sending(session, row_id)
    if row is None:
        session.rollback()
        return "lost"
    if row.attempts >= policy.attempts_for(row.channel):
        fail(session, row, Failure.retries_spent, f"{exc} (attempt {row.attempts} of "
             f"{policy.attempts_for(row.channel)})", now=now)
        session.commit()
        return "failed"
    delay = policy.backoff(row.attempts, rng)
    if exc.retry_after:
        delay = max(delay, timedelta(seconds=exc.retry_after))
    row.status, row.next_attempt_at, row.last_error = Delivery.queued, now + delay, str(exc)[:500]
    row.lease_until, row.claimed_by, row.updated_at = None, None, now
    session.commit()
    return "retry"


def _after_failure(session: Session, row_id: uuid.UUID, failure: Failure, error: str, *, now: datetime,
                   opted_out: bool = False) -> str:
    row = _still_sending(session, row_id)
    if row is None:
        session.rollback()
        return "lost"
    if opted_out:
        # The provider will refuse this number until it texts START: remember it as a STOP, so
        # later messages go straight to email instead of failing one by one (and START clears it).
        set_sms_opt_out(session, same_number(session, row.user), True, now=now, via="provider")
    fail(session, row, failure, error, now=now)
    session.commit()
    return "failed"


# -- The loop ---------------------------------------------------------------------------------------------

def run_once(session: Session, *, now: datetime, channels: Mapping[Channel, Sender],
             stop: threading.Event | None = None, policy: Policy | None = None,
             config: Mapping[str, Any] | None = None, clock: Callable[[], datetime] | None = None,
             rng=random) -> Counter:
    """Recover stuck rows, claim one batch and send it. Returns counts by outcome (and "claimed").

    Each row is stamped with `clock()` when it starts (default: `now`, for tests); the worker loop
    passes the wall clock, because a batch of slow sends would otherwise start rows with leases
    computed from a time long past. With `stop` set between two rows, the row in hand is finished
    and the rest are released.
    """
    config = config if config is not None else settings()
    policy = policy or Policy.from_config(config)
    clock = clock or (lambda: now)
    counts: Counter = Counter()
    counts["recovered"] = recover_expired(session, now=now)
    token = uuid.uuid4().hex
    ids = claim(session, token, now=now, channels=list(channels), policy=policy)
    counts["claimed"] = len(ids)
    jobs, counts["failed"] = prepare(session, ids, token, now=now, config=config)
    for position, job in enumerate(jobs):
        if stop is not None and stop.is_set():
            release(session, token, [j.row_id for j in jobs[position:]])
            counts["released"] += len(jobs) - position
            break
        outcome = send_job(session, job, token, channels, now=clock(), policy=policy, rng=rng)
        metrics.SENDS.labels(job.channel.value, outcome).inc()
        counts[outcome] += 1
    session.commit()
    return counts


def run(app, stop_event: threading.Event, poll_interval: float | None = None, *,
        senders: Mapping[Channel, Sender] | None = None) -> None:
    """Dispatch until `stop_event` is set (SIGTERM). Polls when idle, loops at once after a full batch.

    Beats the "worker" heartbeat (liveness.py) at the start of a round, at most every HEARTBEAT_SECONDS
    (every worker beats the same row; once a round would be a write per poll per worker). When the database goes away it
    waits and tries again, logging the outage once a minute, and carries on when it is back.
    Nothing is lost meanwhile: a row claimed but not started is taken again once its claim lease
    runs out; a row caught mid-send ("sending", outcome unknown) is recovered as ambiguous and
    reaches the person by the other channel, never resent on its own.
    """
    with app.app_context():
        config = app.config
        poll = float(poll_interval if poll_interval is not None else config["NOTIFY_POLL_INTERVAL"])
        senders = senders or build_senders(config, app.instance_path)
        policy = Policy.from_config(config)
        outage = liveness.OutageLog(logger, "worker")
        last_beat = -HEARTBEAT_SECONDS
        logger.info("worker started: channels %s, poll %.2fs, batch %d",
                    ", ".join(f"{c.value}={type(s).__name__}" for c, s in senders.items()), poll, policy.batch_size)
        while not stop_event.is_set():
            try:
                if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    liveness.beat(db.session, liveness.WORKER, now=utcnow())
                    last_beat = time.monotonic()
                counts = run_once(db.session, now=utcnow(), channels=senders, stop=stop_event, policy=policy,
                                  config=config, clock=utcnow)
            except DBAPIError as exc:
                outage.failed(exc)
                _rollback_quietly()
                stop_event.wait(max(poll, 1.0))
                continue
            finally:
                db.session.remove()
            outage.succeeded()
            if counts["claimed"] < policy.batch_size:
                stop_event.wait(poll)
        logger.info("worker stopped")


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except DBAPIError:
        pass  # the connection is gone; remove() discards it
