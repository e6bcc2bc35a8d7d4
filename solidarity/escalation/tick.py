"""The escalation tick: perform every step whose deadline has passed, one transaction per step.

Steps are claimed one row at a time with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so two
schedulers started by mistake never perform the same step: one of them skips the locked row, and
once it is committed the row's deadline lies in the future and no longer matches. The state is
re-read inside the locked transaction (`populate_existing`), so an acceptance committed a moment
before is seen and stops the wave. On SQLite (one scheduler) FOR UPDATE is not emitted.

Catching up: a tick-run takes each overdue row at most once (`done`), and each step computes the
next deadline from `now`. A scheduler that was down for several intervals therefore performs one
step per row on its first run, not one per missed interval.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager

from solidarity import metrics
from solidarity.escalation import checkins
from solidarity.escalation.alerts import add_timeline, alert_coordinators
from solidarity.extensions import settings
from solidarity.incidents.models import Incident, Need, NeedState
from solidarity.incidents.service import ACTIVE, open_next_wave
from solidarity.matching.waves import max_waves

logger = logging.getLogger("solidarity.escalation")

STEPS_PER_RUN = 500  # the rest waits for the next tick; a run never holds the scheduler for long


def tick(session: Session, *, now: datetime, limit: int = STEPS_PER_RUN) -> Counter:
    """Perform the due escalation and check-in steps; returns counts by outcome.

    Outcomes: "waves" (a further wave asked), "exhausted" (no wave left or no candidate: the
    coordinators were alerted), "closed" (the need was no longer seeking), "held" (the reporting
    organisation's fan-out cap is reached: tried again a wave interval later), the check-in outcomes
    of `checkins.step`, and "errors" (a step that failed and was rolled back; retried next run).
    """
    counts: Counter = Counter()
    run_steps(session, _due_need, lambda need: step_need(session, need, now=now), counts, now=now, limit=limit)
    run_steps(session, checkins.due_checkin, lambda checkin: checkins.step(session, checkin, now=now), counts,
              now=now, limit=limit)
    return counts


def run_steps(session: Session, claim_query: Callable[[datetime, set[uuid.UUID]], Select],
              step: Callable[[object], str], counts: Counter, *, now: datetime, limit: int) -> None:
    """Claim one due row at a time, perform its step and commit, until none is left or `limit`."""
    done: set[uuid.UUID] = set()
    while len(done) < limit:
        row = session.scalars(claim_query(now, done)).first()
        if row is None:
            session.rollback()  # end the read transaction
            return
        done.add(row.id)
        try:
            outcome = step(row)
            session.commit()
        except Exception:
            # One broken row must not stop the others; it stays due and is tried again next run.
            session.rollback()
            logger.exception("escalation step failed for %s %s", type(row).__name__, row.id)
            outcome = "errors"
        counts[outcome] += 1
        metrics.ESCALATION_STEPS.labels(outcome).inc()


def _due_need(now: datetime, done: set[uuid.UUID]) -> Select:
    return (select(Need).join(Incident, Incident.id == Need.incident_id)
            .where(Need.state == NeedState.seeking, Need.next_wave_at <= now, Incident.status.in_(ACTIVE),
                   Need.id.not_in(done))
            .options(contains_eager(Need.incident))
            .order_by(Need.next_wave_at, Need.id).limit(1)
            # Locking the incident too keeps a concurrent status change (closing it) from
            # interleaving with the wave it would cancel.
            .with_for_update(skip_locked=True, of=(Need.__table__, Incident.__table__))
            .execution_options(populate_existing=True))


def _reason(need: Need, now: datetime) -> str:
    due = need.next_wave_at
    reason = f"wave {need.wave} unanswered at its deadline, {due:%Y-%m-%d %H:%M} UTC"
    late = now - due
    if late > max(timedelta(minutes=1), 2 * timedelta(seconds=float(settings()["ESCALATION_TICK_SECONDS"]))):
        reason += f"; acted on {int(late.total_seconds() // 60)} min late (the scheduler was not running)"
    return reason


def step_need(session: Session, need: Need, *, now: datetime) -> str:
    """One step for one overdue need, inside the caller's (locked) transaction."""
    incident = need.incident
    spent = need.wave >= max_waves(incident.severity)
    if open_next_wave(session, need, now=now, reason=_reason(need, now)):
        return "waves"
    if need.state is not NeedState.exhausted:
        return "held" if need.next_wave_at is not None else "closed"
    # The need went from seeking to exhausted in this locked transaction, which happens once.
    code = "exhausted" if spent else "no_candidates"
    alerts = alert_coordinators(session, now=now, ref=incident.ref, reason=code, incident=incident)
    add_timeline(incident, "coordinators_alerted", now, help_type=need.help_type, reason=code, messages=alerts)
    logger.info("incident %s: %s help %s, coordinators alerted", incident.ref, need.help_type, code)
    return "exhausted"
