"""Check-ins, a dead man's switch: "check on us every N hours; if we go silent, raise the alarm".

An organisation under threat (often during a raid or a detention, when those who would file a
report cannot) sets one up, for one of its incidents or for itself. It answers each period by SMS
(`OK <ref>`) or with the web button. The tick reminds it when an OK is due and, after the grace
period, alerts the responders it chose and the coordinators, once per silence.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from solidarity import audit, metrics
from solidarity.errors import Checks, Conflict, Forbidden, NotFound, ValidationError
from solidarity.escalation.alerts import add_timeline, alert_coordinators, notify_organisations
from solidarity.escalation.models import OPEN, CheckIn, CheckInState
from solidarity.extensions import settings
from solidarity.incidents import refs
from solidarity.incidents.models import Incident, Status
from solidarity.members.access import may_act
from solidarity.members.models import Organisation, User, Vetting
from solidarity.records import get_or_404
from solidarity.text import is_whole

INTERVAL_HOURS = (1, 168)  # at least hourly is a phone call's job; at most weekly is still a check
GRACE_MINUTES = (5, 24 * 60)
MAX_RESPONDERS = 10
# A resolved case has no one left to watch over: its check-ins stop with it (stop_for_incident, at the
# status change; the tick also stops any it finds). Reopened, the organisation asks for new ones.
ENDED = (Status.resolved, Status.closed, Status.withdrawn)


# -- Validation -----------------------------------------------------------------------------------

def _whole(value: Any, field: str, bounds: tuple[int, int], unit: str) -> int:
    low, high = bounds
    if isinstance(value, bool) or not is_whole(str(value if value is not None else "").strip()):
        raise ValidationError(field, f"must be a whole number of {unit} from {low} to {high}")
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(field, f"must be from {low} to {high} {unit}")
    return number


def _responders(session: Session, value: Iterable[Any], own_org_id: uuid.UUID) -> list[str]:
    ids = []
    for item in value or ():
        try:
            ids.append(item if isinstance(item, uuid.UUID) else uuid.UUID(str(item)))
        except ValueError as exc:
            raise ValidationError("responder_org_ids", f"{item!r} is not an organisation id") from exc
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_RESPONDERS:
        raise ValidationError("responder_org_ids", f"choose at most {MAX_RESPONDERS} organisations")
    if own_org_id in ids:
        raise ValidationError("responder_org_ids", "choose organisations other than your own")
    vetted = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(ids),
                                                                Organisation.vetting_status == Vetting.vetted)))
    if len(vetted) != len(ids):
        raise ValidationError("responder_org_ids", "choose vetted member organisations")
    return [str(i) for i in ids]


def _may_act_for(user: User, org_id: uuid.UUID) -> bool:
    # may_act: a locked-down organisation's login is perhaps a captor's, who would silence the switch.
    return may_act(user) and (user.is_coordinator or user.organisation_id == org_id)


def _new_ref(session: Session) -> str:
    """A code that is neither an incident's nor another open check-in's, so `OK <ref>` is never ambiguous."""
    for _ in range(8):
        code = refs.new_ref(session)
        if session.scalar(select(CheckIn.id).where(CheckIn.ref == code)) is None:
            return code
    raise Conflict("could not find a free reference code; try again", field="ref")


def _timeline(checkin: CheckIn, kind: str, at: datetime, **data: Any) -> None:
    if checkin.incident is not None:
        add_timeline(checkin.incident, kind, at, checkin=checkin.ref, **data)


# -- Setting up, confirming, stopping ------------------------------------------------------------------

def request_checkins(session: Session, actor: User, *, interval_hours: Any, responder_org_ids: Iterable[Any] = (),
                     grace_minutes: Any = None, incident: Incident | None = None,
                     organisation: Organisation | None = None, now: datetime) -> CheckIn:
    """Start check-ins for `incident` (its organisation's) or for `organisation` (default: the actor's).

    The first OK is due `interval_hours` from now. One open check-in per incident, and one per
    organisation outside incidents (Conflict otherwise).
    """
    org = incident.organisation if incident is not None else (organisation or actor.organisation)
    if org is None or not _may_act_for(actor, org.id):
        raise Forbidden("only the organisation itself and coordinators set up its check-ins")
    if incident is not None and incident.status in ENDED:
        raise Conflict(f"this incident is {incident.status.value}", field="incident_id")
    checks = Checks()
    interval = checks(_whole, interval_hours, "interval_hours", INTERVAL_HOURS, "hours")
    grace = checks(_whole, grace_minutes if grace_minutes not in (None, "") else settings()["CHECKIN_GRACE_MINUTES"],
                   "grace_minutes", GRACE_MINUTES, "minutes")
    responders = checks(_responders, session, responder_org_ids, org.id)
    checks.done()
    existing = session.scalar(select(CheckIn.id).where(
        CheckIn.organisation_id == org.id, CheckIn.state.in_(OPEN),
        CheckIn.incident_id == incident.id if incident is not None else CheckIn.incident_id.is_(None)))
    if existing is not None:
        raise Conflict("check-ins are already running; stop them first to change them", field="interval_hours")

    due = now + timedelta(hours=interval)
    checkin = CheckIn(id=uuid.uuid4(), ref=incident.ref if incident is not None else _new_ref(session),
                      organisation=org, incident=incident, interval_hours=interval, grace_minutes=grace,
                      responder_org_ids=responders, state=CheckInState.active, next_due_at=due, next_step_at=due,
                      created_by_id=actor.id, created_at=now, last_confirmed_at=now)
    session.add(checkin)
    _timeline(checkin, "checkin_requested", now, interval_hours=interval, grace_minutes=grace,
              responders=len(responders))
    audit.record(session, actor, "checkin.requested", checkin, at=now, organisation=str(org.id),
                 interval_hours=interval, grace_minutes=grace, responders=responders)
    session.commit()
    return checkin


def _find_open(session: Session, who: User | Organisation, ref: str | None) -> CheckIn:
    query = select(CheckIn).where(CheckIn.state.in_(OPEN))
    is_coordinator = isinstance(who, User) and who.is_coordinator
    if not is_coordinator:
        query = query.where(CheckIn.organisation_id == (who.id if isinstance(who, Organisation)
                                                        else who.organisation_id))
    if ref:
        query = query.where(CheckIn.ref == refs.normalise(ref))
    elif is_coordinator:
        raise ValidationError("ref", "give the check-in's code")
    found = list(session.scalars(query.order_by(CheckIn.created_at).limit(2)
                                 .with_for_update().execution_options(populate_existing=True)))
    if not found:
        raise NotFound(f"no check-in {refs.normalise(ref)} is waiting for you" if ref
                       else "no check-in is waiting for you", field="ref")
    if len(found) > 1:
        raise Conflict("several check-ins are running: give the code", field="ref")
    return found[0]


def confirm_checkin(session: Session, who: User | Organisation, ref: str | None, *, now: datetime,
                    channel: str = "web") -> CheckIn:
    """"We are safe": confirm the open check-in `ref` of `who`'s organisation; the next OK is due one
    interval from now.

    `who` is the signed-in user (web), or the organisation its registered phone belongs to (the SMS
    webhook, after its own sender and PIN checks). Without `ref`, the organisation's only open
    check-in is meant. A missed check-in confirmed late calls off the alarm: whoever was alerted is told.
    """
    if isinstance(who, User) and not may_act(who):
        raise Forbidden("this account may not act")
    checkin = _find_open(session, who, ref)
    was_missed = checkin.state is CheckInState.missed
    due = now + timedelta(hours=checkin.interval_hours)
    checkin.state, checkin.last_confirmed_at = CheckInState.active, now
    checkin.next_due_at = checkin.next_step_at = due
    checkin.reminded_at = None
    _timeline(checkin, "checkin_confirmed", now, channel=channel, after_missed=was_missed)
    if was_missed:
        incident = checkin.incident
        notify_organisations(session, [uuid.UUID(i) for i in checkin.responder_org_ids], "checkin_confirmed",
                             now=now, incident=incident, ref=checkin.ref)
        alert_coordinators(session, now=now, ref=checkin.ref, reason="checkin_confirmed", incident=incident)
    actor = who if isinstance(who, User) else f"{channel}:organisation:{who.id}"
    audit.record(session, actor, "checkin.confirmed", checkin, at=now, channel=channel, after_missed=was_missed)
    session.commit()
    return checkin


def stop_checkins(session: Session, actor: User, checkin: CheckIn, *, now: datetime) -> CheckIn:
    """End a check-in (the threat is over). Nothing further is sent for it."""
    if not _may_act_for(actor, checkin.organisation_id):
        raise Forbidden("only the organisation itself and coordinators stop its check-ins")
    if checkin.state not in OPEN:
        raise Conflict("these check-ins are already stopped", field="state")
    _stop(checkin, now)
    audit.record(session, actor, "checkin.stopped", checkin, at=now)
    session.commit()
    return checkin


def _stop(checkin: CheckIn, now: datetime) -> None:
    checkin.state, checkin.stopped_at, checkin.next_step_at = CheckInState.stopped, now, None
    _timeline(checkin, "checkin_stopped", now)


def stop_for_incident(session: Session, incident: Incident, *, now: datetime) -> int:
    """Stop the incident's open check-ins, inside the status change's transaction (installed by
    create_app as the incidents service's "incident_ended" hook: escalation sits above incidents)."""
    found = session.scalars(select(CheckIn).where(CheckIn.incident_id == incident.id,
                                                  CheckIn.state.in_(OPEN))).all()
    for checkin in found:
        _stop(checkin, now)
    return len(found)


# -- The tick's part ---------------------------------------------------------------------------------

def due_checkin(now: datetime, done: set[uuid.UUID]) -> Select:
    return (select(CheckIn).where(CheckIn.state == CheckInState.active, CheckIn.next_step_at <= now,
                                  CheckIn.id.not_in(done))
            .order_by(CheckIn.next_step_at, CheckIn.id).limit(1)
            .with_for_update(skip_locked=True, of=CheckIn.__table__)
            .execution_options(populate_existing=True))


def step(session: Session, checkin: CheckIn, *, now: datetime) -> str:
    """The one step due for `checkin`, inside the tick's locked transaction: remind, or raise the alarm."""
    incident = checkin.incident
    if incident is not None and incident.status in ENDED:
        _stop(checkin, now)
        return "checkins_stopped"
    if checkin.reminded_at is None:
        notify_organisations(session, [checkin.organisation_id], "checkin_due", now=now, incident=incident,
                             ref=checkin.ref)
        # The grace period runs from the reminder actually sent, so a scheduler that was down
        # does not raise an alarm before the organisation was even asked.
        checkin.reminded_at, checkin.next_step_at = now, now + timedelta(minutes=checkin.grace_minutes)
        _timeline(checkin, "checkin_due", now)
        return "checkins_reminded"
    checkin.state, checkin.missed_at, checkin.next_step_at = CheckInState.missed, now, None
    responders = notify_organisations(session, [uuid.UUID(i) for i in checkin.responder_org_ids], "checkin_missed",
                                      now=now, incident=incident, ref=checkin.ref)
    coordinators = alert_coordinators(session, now=now, ref=checkin.ref, reason="checkin_missed", incident=incident)
    _timeline(checkin, "checkin_missed", now, due=checkin.next_due_at.isoformat(), messages=responders + coordinators)
    metrics.on_commit(session, metrics.CHECKIN_ALARMS.inc)
    audit.record(session, "scheduler", "checkin.missed", checkin, at=now, organisation=str(checkin.organisation_id),
                 due=checkin.next_due_at.isoformat())
    return "checkins_missed"


# -- Reading ---------------------------------------------------------------------------------------------

def get_checkin(session: Session, checkin_id: uuid.UUID | str) -> CheckIn:
    return get_or_404(session, CheckIn, checkin_id, "check-in")


def visible_checkins(session: Session, user: User, *, incident: Incident | None = None) -> list[CheckIn]:
    """Open check-ins `user` may see: its organisation's; missed ones that alerted its organisation
    (whose name it then needs); all for coordinators. Newest first."""
    query = select(CheckIn).where(CheckIn.state.in_(OPEN))
    if incident is not None:
        query = query.where(CheckIn.incident_id == incident.id)
    if not user.is_coordinator:
        if user.organisation_id is None or not may_act(user):
            return []
        alerted = [c.id for c in session.scalars(select(CheckIn).where(CheckIn.state == CheckInState.missed))
                   if str(user.organisation_id) in c.responder_org_ids]
        query = query.where(or_(CheckIn.organisation_id == user.organisation_id, CheckIn.id.in_(alerted)))
    return list(session.scalars(query.order_by(CheckIn.created_at.desc(), CheckIn.id)))
