"""Incidents: file one, widen the circle, answer a request, change status, show what each may see.

The web form, the API and the SMS webhook all call file_incident. Each public function that
commits validates everything first and leaves nothing behind when any step fails;
open_next_wave is a step inside the caller's transaction (the escalation tick's).
Notifications are only queued here (notify.outbox); the dispatcher sends them after the commit.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, scoped_session, selectinload
from sqlalchemy.orm.util import identity_key

from solidarity import audit, metrics
from solidarity.errors import Checks, Conflict, DecryptionError, Forbidden, NotFound, RateLimited, ValidationError
from solidarity.extensions import hooks, settings
from solidarity.geo import REGION_OF, clean_country
from solidarity.incidents import access, refs
from solidarity.incidents.access import Viewer
from solidarity.incidents.models import (
    ACTOR_NEUTRAL,
    DISCLOSABLE,
    SEVERITIES,
    THREAT_TYPES,
    TRANSITIONS,
    ContactShare,
    Incident,
    Need,
    NeedState,
    Status,
    TimelineEntry,
)
from solidarity.locks import lock_row
from solidarity.matching.models import PENDING, Match, MatchStatus
from solidarity.matching.scoring import is_rating_reason
from solidarity.matching.service import NeedProfile, load_of, rank
from solidarity.matching.waves import max_waves, wave_interval, wave_size
from solidarity.members.access import may_act
from solidarity.members.models import Organisation, Role, User, Vetting
from solidarity.notify.models import Notification
from solidarity.notify.outbox import enqueue
from solidarity.offers.service import clean_help_type, help_types
from solidarity.playbook.service import play_for
from solidarity.records import get_or_404
from solidarity.text import clean_text, is_whole

SUMMARY_MAX = 500
DETAILS_MAX = 20_000
NOTE_MAX = 2_000
CHANNELS = ("web", "api", "sms")
ACTIVE = (Status.open, Status.responding)
# No way back from these (models.TRANSITIONS): the record is final, and nothing on it changes any
# more, not a note, a need or a checklist tick. After-action reviews are not changes to the case
# but its last record, and stay open once it is closed (incidents/reviews.py REVIEWABLE).
READ_ONLY = (Status.closed, Status.withdrawn)
# Nobody is left to watch over a case in these: its check-ins stop (escalation/checkins.py).
ENDED_FOR_CHECKINS = (Status.resolved, Status.closed, Status.withdrawn)
# Clocks on cheap phones drift; a report "from the future" by a few minutes is still honest.
CLOCK_SKEW = timedelta(minutes=10)
# Nothing we help with happened before this; earlier dates are typing slips or probes (year 1 in
# UTC+14 is before year 1 in UTC, which no datetime can hold).
OCCURRED_EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LIST_LIMIT = 200


@dataclass
class IncidentDraft:
    threat_type: str
    severity: int
    country: str
    needs: list[str]
    summary: str | None = None
    details: str | None = None
    disclosure: list[str] = field(default_factory=list)
    occurred_at: datetime | None = None
    contact_user_id: uuid.UUID | None = None
    channel: str = "web"


# -- Validation ---------------------------------------------------------------------------------

def _clean_threat_type(value: Any) -> str:
    code = str(value or "").strip().lower()
    if not code:
        raise ValidationError("threat_type", "choose what is happening")
    if code not in THREAT_TYPES:
        raise ValidationError("threat_type", f"{value!r} is not a threat type; use one of {', '.join(THREAT_TYPES)}")
    return code


def _clean_severity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not is_whole(str(value).strip()):
        raise ValidationError("severity", "must be a whole number from 1 to 4")
    number = int(value)
    if number not in SEVERITIES:
        raise ValidationError("severity", "must be 1 (watch), 2 (serious), 3 (urgent) or 4 (life or liberty at risk)")
    return number


def _codes(value: Any, field: str) -> list:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError(field, "must be a list")
    return list(value)


def _clean_needs(value: Any) -> list[str]:
    checks = Checks()
    needs = [checks(clean_help_type, item, "needs") for item in _codes(value, "needs")]
    checks.done()
    if not needs:
        raise ValidationError("needs", "choose at least one kind of help")
    return list(dict.fromkeys(needs))


def _clean_disclosure(value: Any) -> list[str]:
    chosen = [str(item).strip().lower() for item in _codes(value, "disclosure")]
    wrong = [item for item in chosen if item not in DISCLOSABLE]
    if wrong:
        raise ValidationError("disclosure", f"{', '.join(wrong)}: choose among {', '.join(DISCLOSABLE)}")
    return [item for item in DISCLOSABLE if item in chosen]  # canonical order, no repeats


def _clean_occurred_at(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("occurred_at", "must be a date and time with a time zone")
    try:
        value = value.astimezone(timezone.utc)
    except OverflowError:  # the offset pushes it before year 1 or past year 9999
        raise ValidationError("occurred_at", f"must be after {OCCURRED_EARLIEST.year} and not in the future") from None
    if value < OCCURRED_EARLIEST:
        raise ValidationError("occurred_at", f"must be after {OCCURRED_EARLIEST.year}")
    if value > now + CLOCK_SKEW:
        raise ValidationError("occurred_at", "cannot be in the future")
    return value


def _clean_channel(value: Any) -> str:
    if value not in CHANNELS:
        raise ValidationError("channel", f"must be one of {', '.join(CHANNELS)}")
    return value


def _clean_contact(session: Session, reporter: User, value: Any) -> User:
    if value is None:
        return reporter
    try:
        contact = session.get(User, value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        contact = None
    if contact is None or not contact.active or contact.organisation_id != reporter.organisation_id:
        raise ValidationError("contact_user_id", "choose an active person of your own organisation")
    return contact


def _check_reporter(reporter: User) -> None:
    org = reporter.organisation
    if not reporter.active or org is None or org.vetting_status is not Vetting.vetted:
        raise Forbidden("only active members of vetted organisations can report incidents")
    if org.locked_at is not None:
        raise Forbidden("your organisation is locked down; a coordinator must re-verify it first")


# -- Small shared steps ---------------------------------------------------------------------------

@contextmanager
def one_transaction(session: Session) -> Iterator[None]:
    """Roll back on any failure, so a half-built incident never rides along into a later commit."""
    try:
        yield
    except BaseException:
        session.rollback()
        raise


def _actor_kind(user: User | None) -> str:
    if user is None:
        return "system"
    return "coordinator" if user.is_coordinator else "member"


def add_to_timeline(incident: Incident, kind: str, at: datetime, *, actor: User | None = None,
              note: str | None = None, **data: Any) -> TimelineEntry:
    # The actor by id, never by name: the name stays encrypted and is looked up when shown.
    entry = TimelineEntry(id=uuid.uuid4(), at=at, seq=len(incident.timeline) + 1, kind=kind,
                          actor_label=_actor_kind(actor), actor_id=actor.id if actor is not None else None,
                          data=data)
    incident.timeline.append(entry)
    if note is not None:
        entry.note = note  # after append: the note is encrypted with the incident's key
    return entry


def _active_users(session: Session, org_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[User]]:
    """Each organisation's active people, admins first (they decide whether to take a case). One
    query for all the organisations, their organisation loaded with them (may_act reads it)."""
    found: dict[uuid.UUID, list[User]] = {org_id: [] for org_id in org_ids}
    if org_ids:
        users = session.scalars(select(User).options(joinedload(User.organisation))
                                .where(User.organisation_id.in_(set(org_ids)), User.active.is_(True)))
        for user in users:
            found[user.organisation_id].append(user)
    for people in found.values():
        people.sort(key=lambda u: (u.role is not Role.org_admin, u.created_at, str(u.id)))
    return found


def _notify_org(session: Session, people: list[User], template: str, *, now: datetime, incident: Incident,
                match: Match | None = None, **params: Any) -> int:
    return sum(len(enqueue(session, user, template, now=now, incident=incident, match=match, **params))
               for user in people)


def _profile(session: Session, incident: Incident, need: Need, *, asked: frozenset | None = None) -> NeedProfile:
    if asked is None:
        asked = frozenset(session.scalars(select(Match.organisation_id).where(Match.incident_id == incident.id,
                                                                              Match.help_type == need.help_type)))
    return NeedProfile(help_type=need.help_type, country=incident.country, region=incident.region,
                       languages=tuple(incident.organisation.languages or ()),
                       reporter_id=incident.organisation.id, exclude=asked)  # organisation_id waits for the flush


def _ask_all(session: Session, incident: Incident, needs: list[Need], *, limit: int, now: datetime,
             asked: frozenset | None = None) -> list[list[Match]]:
    """Ask up to `limit` organisations not yet asked for each need: match rows, timeline, notifications.

    Reads first (one ranking per need, then everyone to notify in one query) with autoflush off, so
    the rows are written once, batched per table, by the commit's flush: nothing pending changes
    what the ranking sees (it reads other incidents' matches and the organisations' offers).
    `asked` (organisations already asked) is given when it is known: empty for a new incident."""
    profiles = [_profile(session, incident, need, asked=asked) for need in needs]  # sees pending matches
    with session.no_autoflush:
        ranked = [rank(session, profile, limit=limit, now=now) for profile in profiles]
        people = _active_users(session, [c.organisation_id for found in ranked for c in found])
    asks = []
    for need, candidates in zip(needs, ranked, strict=True):
        matches = [Match(id=uuid.uuid4(), incident_id=incident.id, help_type=need.help_type,
                         organisation_id=c.organisation_id, offer_id=c.offer_id, wave=need.wave, score=c.score,
                         reasons=list(c.reasons), status=MatchStatus.proposed, created_at=now)
                   for c in candidates]
        session.add_all(matches)
        add_to_timeline(incident, "matched", now, help_type=need.help_type, wave=need.wave,
                  candidates=[{"organisation_id": str(m.organisation_id), "score": m.score, "reasons": m.reasons}
                              for m in matches])
        messages = 0
        for match in matches:
            sent = _notify_org(session, people[match.organisation_id], "match_request", now=now, incident=incident,
                               match=match, ref=incident.ref, help_type=need.help_type)
            if sent:
                match.status = MatchStatus.notified
            messages += sent
        if matches:
            add_to_timeline(incident, "notified", now, help_type=need.help_type, wave=need.wave,
                      organisations=sum(m.status is MatchStatus.notified for m in matches), messages=messages)
        asks.append(matches)
    return asks


def _ask(session: Session, incident: Incident, need: Need, *, limit: int, now: datetime) -> list[Match]:
    """Ask up to `limit` organisations not yet asked for `need` (a later wave)."""
    return _ask_all(session, incident, [need], limit=limit, now=now)[0]


def fanout_spent(session: Session, org_id: uuid.UUID, *, now: datetime) -> bool:
    """Whether requests for help sent for `org_id`'s incidents reached FANOUT_MAX_MESSAGES within
    FANOUT_WINDOW_SECONDS: a cap on how far one (possibly compromised) reporter can reach."""
    since = now - timedelta(seconds=float(settings()["FANOUT_WINDOW_SECONDS"]))
    # The window first (ix_notifications_template_created), the organisation through its incidents'
    # ids (ix_incidents_organisation_id): the count reads the last window, never the whole history.
    sent = session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.template == "match_request", Notification.created_at > since,
                                 Notification.incident_id.in_(select(Incident.id)
                                                              .where(Incident.organisation_id == org_id))))
    return sent >= int(settings()["FANOUT_MAX_MESSAGES"])


def _exhaust(incident: Incident, need: Need, *, now: datetime, reason: str) -> None:
    need.state, need.next_wave_at = NeedState.exhausted, None
    add_to_timeline(incident, "exhausted", now, help_type=need.help_type, wave=need.wave, reason=reason)


# -- Filing ---------------------------------------------------------------------------------------

def commit_keeping(session: Session) -> None:
    """Commit without expiring what the transaction wrote and read, for a caller that goes on to show
    what it has just written (the incident it filed, the page whose reading it noted): expired, all
    of it would be read back row by row (incident, needs, timeline, organisations and data keys: a
    dozen statements or more) only to find what is already in memory. No column of these rows is
    filled in by the database; what others commit meanwhile shows on the next request, as it would
    a moment later anyway."""
    target = session() if isinstance(session, scoped_session) else session  # Flask-SQLAlchemy's proxy
    keep, target.expire_on_commit = target.expire_on_commit, False
    try:
        target.commit()
    finally:
        target.expire_on_commit = keep


def validate_draft(session: Session, reporter: User, draft: IncidentDraft, *, now: datetime) -> dict[str, Any]:
    """The draft's cleaned values, or a ValidationError naming every failing field. Writes nothing.

    Forms call it to show the domain's errors next to their own parsing errors in one go.
    """
    _check_reporter(reporter)
    checks = Checks()
    threat_type = checks(_clean_threat_type, draft.threat_type)
    severity = checks(_clean_severity, draft.severity)
    country = checks(clean_country, draft.country)
    # The play for the threat type is attached to the incident; when the reporter named no need
    # (a bare "RAID" by SMS), the help the play calls for is asked.
    play = play_for(session, threat_type) if threat_type else None
    suggested = [h for h in (play.help_types if play else []) if h in help_types()]
    needs = checks(_clean_needs, draft.needs or suggested)
    summary = checks(clean_text, draft.summary, "summary", SUMMARY_MAX)
    details = checks(clean_text, draft.details, "details", DETAILS_MAX)
    disclosure = checks(_clean_disclosure, draft.disclosure)
    occurred_at = checks(_clean_occurred_at, draft.occurred_at, now)
    contact = checks(_clean_contact, session, reporter, draft.contact_user_id)
    channel = checks(_clean_channel, draft.channel)
    checks.done()
    return {"threat_type": threat_type, "severity": severity, "country": country, "needs": needs,
            "summary": summary, "details": details, "disclosure": disclosure, "occurred_at": occurred_at,
            "contact": contact, "channel": channel, "play": play}


def file_incident(session: Session, reporter: User, draft: IncidentDraft, *, now: datetime,
                  checked: dict[str, Any] | None = None) -> Incident:
    """File an incident for the reporter's organisation and ask the first wave for each need.

    Every field is checked at once (ValidationError names each failing one). One commit: incident,
    needs, matches, timeline, notifications and audit event, or nothing at all. `checked` is
    validate_draft's answer for this draft when the caller has just asked it in the same request
    (the intake paths validate, spend the allowances, then file): it is not looked up twice.
    """
    values = checked if checked is not None else validate_draft(session, reporter, draft, now=now)
    if fanout_spent(session, reporter.organisation_id, now=now):
        raise RateLimited("your organisation has asked for help too often in a short time; call a coordinator",
                          field="organisation")
    severity, needs, channel, play = values["severity"], values["needs"], values["channel"], values["play"]
    with one_transaction(session):
        incident = Incident(id=uuid.uuid4(), ref=refs.new_ref(session), organisation=reporter.organisation,
                            reported_by=reporter, contact_user=values["contact"], channel=channel,
                            threat_type=values["threat_type"], severity=severity, country=values["country"],
                            region=REGION_OF[values["country"]], occurred_at=values["occurred_at"],
                            status=Status.open, disclosure=values["disclosure"],
                            play_version_id=play.id if play else None, created_at=now, updated_at=now)
        incident.summary = values["summary"]
        incident.details = values["details"]
        session.add(incident)
        add_to_timeline(incident, "filed", now, actor=reporter, channel=channel, threat_type=incident.threat_type,
                  severity=severity, needs=needs)
        wanted = [Need(id=uuid.uuid4(), help_type=help_type, state=NeedState.seeking, wave=1,
                       next_wave_at=now + wave_interval(severity)) for help_type in needs]
        incident.needs.extend(sorted(wanted, key=lambda need: need.help_type))  # as it is read back (models)
        asks = _ask_all(session, incident, wanted, limit=wave_size(severity), now=now, asked=frozenset())
        for need, matches in zip(wanted, asks, strict=True):
            if not matches:
                # Nobody fits: due at once, so the escalation tick finds the circle empty and
                # alerts the coordinators through its one path for that.
                need.next_wave_at = now
        audit.record(session, reporter, "incident.filed", incident, at=now, ref=incident.ref, channel=channel,
                     threat_type=incident.threat_type, severity=severity, needs=needs)
        commit_keeping(session)
    metrics.INTAKE.labels(channel).inc()
    return incident


# -- Escalation and answers ----------------------------------------------------------------------

def open_next_wave(session: Session, need: Need, *, now: datetime, reason: str) -> list[Match]:
    """Ask the next wave for a still-seeking need. The caller (the escalation tick) commits.

    Returns the new matches. Returns [] and marks the need exhausted when the severity's last wave
    is spent or no candidate is left: the caller then alerts coordinators. A need that is no
    longer seeking (covered, or its incident closed) is left as it is, with no deadline.
    """
    incident = need.incident
    if need.state is not NeedState.seeking or incident.status not in ACTIVE:
        need.next_wave_at = None
        return []
    if need.wave >= max_waves(incident.severity):
        _exhaust(incident, need, now=now, reason=f"{reason}; last wave ({need.wave}) unanswered")
        return []
    if fanout_spent(session, incident.organisation_id, now=now):
        # Held, not exhausted: the wave goes out once the window has room (or a coordinator acts).
        need.next_wave_at = now + wave_interval(incident.severity)
        return []
    need.wave += 1
    matches = _ask(session, incident, need, limit=wave_size(incident.severity), now=now)
    if not matches:
        need.wave -= 1  # no wave went out
        _exhaust(incident, need, now=now, reason=f"{reason}; no candidate left")
        return []
    need.next_wave_at = now + wave_interval(incident.severity)
    add_to_timeline(incident, "wave", now, help_type=need.help_type, wave=need.wave, reason=reason,
              organisations=len(matches))
    return matches


class AlreadyAnswered(Conflict):
    """The request was answered (or withdrawn) before this answer got its turn."""


class AtCapacity(Conflict):
    """The organisation carries as many cases of the help type as its offer's capacity."""

    def __init__(self, message: str, *, capacity: int, help_type: str):
        super().__init__(message, field="capacity")
        self.capacity, self.help_type = capacity, help_type


def _when(at: datetime, now: datetime) -> str:
    """A time as people say it: "at 14:02 UTC", with the day when it was not today."""
    at = at.astimezone(timezone.utc)
    said = f"at {at:%H:%M} UTC"
    return said if at.date() == now.astimezone(timezone.utc).date() else f"on {at.day} {at:%B} {said}"


def _help_words(help_type: str) -> str:
    return help_type.replace("_", " ") + " help"


def _capacity_words(capacity: int, help_type: str) -> str:
    cases = "case" if capacity == 1 else "cases"
    return f"your organisation is at its capacity of {capacity} open {cases} of {_help_words(help_type)}"


def answered_already(session: Session, match: Match, *, now: datetime) -> str:
    """What became of a request that no longer takes answers, in words: who, what, when."""
    if match.status not in (MatchStatus.accepted, MatchStatus.completed, MatchStatus.declined):
        return "this request was withdrawn: the incident no longer asks for it"
    who = session.get(User, match.answered_by_id) if match.answered_by_id else None
    by = f"by {who.name}" if who is not None else "by your organisation"
    when = _when(match.answered_at, now) if match.answered_at else "earlier"
    if match.status is MatchStatus.declined:
        declines = session.scalars(select(TimelineEntry.data).where(TimelineEntry.incident_id == match.incident_id,
                                                                     TimelineEntry.kind == "declined"))
        if any(d.get("match_id") == str(match.id) and d.get("reason") == "capacity" for d in declines):
            return f"this request was passed to others {when}: your organisation was at its capacity"
        return f"this request was already declined {by} {when}"
    return f"this request was already accepted {by} {when}"


def _lock_answer(session: Session, match: Match) -> tuple[Match, Incident]:
    """Take what an answer decides on under locks held to its commit, and read it afresh.

    On PostgreSQL, in this order: the answering organisation's row (its answers are serialised, so
    its count of open cases cannot change in between), the incident's (answers of other
    organisations, a status change; the escalation tick skips it meanwhile), the match. FOR NO KEY
    UPDATE, so rows that merely refer to them can still be inserted. On SQLite the database's
    write lock, taken before the first read, does all of that.
    """
    lock_row(session, Organisation, match.organisation_id, key_share=True)
    incident = lock_row(session, Incident, match.incident_id, key_share=True)
    session.expire(incident, ["needs", "timeline"])
    return lock_row(session, Match, match.id, key_share=True), incident


def _decline(session: Session, user: User, incident: Incident, need: Need, match: Match, *, now: datetime,
             **details: Any) -> None:
    """The request is declined (or released); the next candidate is asked at once."""
    match.status = MatchStatus.declined
    add_to_timeline(incident, "declined", now, actor=user, **details)
    if need.state is NeedState.seeking and not _ask(session, incident, need, limit=1, now=now):
        still_waiting = session.scalar(select(Match.id).where(
            Match.incident_id == incident.id, Match.help_type == need.help_type,
            Match.status.in_(PENDING), Match.id != match.id).limit(1))
        if still_waiting is None:
            need.next_wave_at = now  # nobody left to wait for: let escalation act now


def answer_match(session: Session, user: User, match: Match, accept: bool, *, now: datetime) -> Match:
    """A responder accepts or declines. Accepting covers the need; declining asks the next candidate.

    The match, the incident and the organisation's load are read under locks (_lock_answer), so of
    several answers at once exactly one changes the match; the others get AlreadyAnswered, which
    says who answered and when. An organisation whose open cases of the help type fill its offer's
    capacity cannot accept: its request is released (declined, the timeline says why) and the next
    candidate asked at once, committed, and then AtCapacity is raised for the caller to say so.
    """
    if not access.can_answer(user, match):
        raise Forbidden("only people of the asked organisation can answer this request")
    if user.organisation.vetting_status is not Vetting.vetted:
        raise Forbidden("your organisation is not vetted at the moment")

    with one_transaction(session):
        match, incident = _lock_answer(session, match)
        if match.status not in PENDING:
            raise AlreadyAnswered(answered_already(session, match, now=now), field="status")
        if incident.status not in ACTIVE:
            raise Conflict(f"this incident is {incident.status.value}", field="status")
        need = next(n for n in incident.needs if n.help_type == match.help_type)
        match.answered_at, match.answered_by_id = now, user.id
        details = {"help_type": match.help_type, "organisation_id": str(match.organisation_id),
                   "match_id": str(match.id)}
        load = load_of(session, match) if accept else None
        if load is not None and load.full:
            _decline(session, user, incident, need, match, now=now, reason="capacity", capacity=load.capacity,
                     **details)
            audit.record(session, user, "match.released", match, at=now, incident=str(incident.id),
                         help_type=match.help_type, capacity=load.capacity)
            session.commit()
            raise AtCapacity(f"{_capacity_words(load.capacity, match.help_type)}, so this request was passed "
                             "to others; finish a case or raise the offer's capacity to take more",
                             capacity=load.capacity, help_type=match.help_type)
        if accept:
            match.status = MatchStatus.accepted
            need.state, need.next_wave_at = NeedState.covered, None
            if incident.status is Status.open:
                incident.status = Status.responding
            incident.updated_at = now
            add_to_timeline(incident, "accepted", now, actor=user, **details)
            _notify_org(session, _active_users(session, [incident.organisation_id])[incident.organisation_id],
                        "match_accepted", now=now, incident=incident,
                        match=match, ref=incident.ref, help_type=match.help_type)
        else:
            _decline(session, user, incident, need, match, now=now, **details)
        audit.record(session, user, "match.accepted" if accept else "match.declined", match, at=now,
                     incident=str(incident.id), help_type=match.help_type)
        session.commit()
    return match


# -- Status and notes -----------------------------------------------------------------------------

def own_matches(session: Session, user: User, incident: Incident) -> list[Match]:
    """The requests to `user`'s organisation on `incident`: what decides how that person sees it."""
    if user.organisation_id is None or user.organisation_id == incident.organisation_id:
        return []  # ranking never asks the reporting organisation (matching.candidates)
    return list(session.scalars(select(Match).where(Match.incident_id == incident.id,
                                                    Match.organisation_id == user.organisation_id)))


def viewer_for(session: Session, user: User, incident: Incident) -> Viewer | None:
    return access.viewer_of(user, incident, own_matches(session, user, incident))


def _require_manager(session: Session, user: User, incident: Incident) -> None:
    viewer = viewer_for(session, user, incident)
    if viewer is None:
        raise NotFound("no such incident", field="id")
    if not access.can_change_status(viewer):
        raise Forbidden("only the reporting organisation and coordinators change an incident")


def change_status(session: Session, user: User, incident: Incident, status: str, *, now: datetime,
                  note: str | None = None) -> Incident:
    """Move an incident along TRANSITIONS; responders who accepted are told."""
    _require_manager(session, user, incident)
    checks = Checks()
    try:
        new = Status(status)
    except ValueError:
        checks.fail("status", f"must be one of {', '.join(s.value for s in Status)}")
        new = None
    note = checks(clean_text, note, "note", NOTE_MAX)
    checks.done()
    old = incident.status
    if new not in TRANSITIONS[old]:
        raise Conflict(f"an incident that is {old.value} cannot become {new.value}", field="status")

    with one_transaction(session):
        incident.status, incident.updated_at = new, now
        if new is Status.resolved:
            incident.resolved_at = now
        if new is Status.closed:
            incident.closed_at = now
        _pause_or_resume(session, incident, now=now)
        add_to_timeline(incident, "status", now, actor=user, note=note, old=old.value, new=new.value)
        if new in ENDED_FOR_CHECKINS:
            # Check-ins live above this layer (escalation); create_app installs their stop here.
            for hook in hooks("incident_ended"):
                hook(session, incident, now=now)
        # Completed too: leaving open/responding has just completed the accepted matches.
        took = session.scalars(select(Match).where(Match.incident_id == incident.id,
                                                   Match.status.in_(access.ANSWERED_YES)))
        took_orgs = list(dict.fromkeys(m.organisation_id for m in took))
        people = _active_users(session, took_orgs)
        for org_id in took_orgs:
            _notify_org(session, people[org_id], "incident_status", now=now, incident=incident, ref=incident.ref,
                        status=new.value)
        audit.record(session, user, "incident.status", incident, at=now, old=old.value, new=new.value)
        session.commit()
    return incident


def _pause_or_resume(session: Session, incident: Incident, *, now: datetime) -> None:
    """Leaving open/responding stops escalation, withdraws unanswered requests and completes accepted
    ones, which frees the responders' capacity for other cases; coming back resumes escalation and
    puts the responders back on the case (their need stays covered)."""
    seeking = [n for n in incident.needs if n.state is NeedState.seeking]
    matches = session.scalars(select(Match).where(Match.incident_id == incident.id)).all()
    if incident.status in ACTIVE:
        for need in seeking:
            if need.next_wave_at is None:
                need.next_wave_at = now
        for match in matches:
            if match.status is MatchStatus.completed:
                match.status, match.completed_at = MatchStatus.accepted, None
        return
    for need in seeking:
        need.next_wave_at = None
    for match in matches:
        if match.status in PENDING:
            match.status = MatchStatus.expired
        elif match.status is MatchStatus.accepted:
            match.status, match.completed_at = MatchStatus.completed, now


def add_note(session: Session, user: User, incident: Incident, note: str, *, now: datetime) -> Incident:
    """A dated note on the timeline (encrypted), by the reporting organisation or a coordinator."""
    _require_manager(session, user, incident)
    text = clean_text(note, "note", NOTE_MAX)
    if text is None:
        raise ValidationError("note", "is empty: write the update first")
    require_changeable(incident)
    with one_transaction(session):
        incident.updated_at = now
        add_to_timeline(incident, "note", now, actor=user, note=text)
        audit.record(session, user, "incident.note", incident, at=now)
        session.commit()
    return incident


def require_changeable(incident: Incident) -> None:
    """Refuse any change to a closed or withdrawn incident (READ_ONLY)."""
    if incident.status in READ_ONLY:
        raise Conflict(f"this incident is {incident.status.value} and can no longer be changed", field="status")


def _require_active(incident: Incident) -> None:
    if incident.status not in ACTIVE:
        raise Conflict(f"this incident is {incident.status.value}; reopen it to change what it needs",
                       field="status")


def add_need(session: Session, user: User, incident: Incident, help_type: str, *, now: datetime) -> Need:
    """The reporter (or a coordinator) asks for one more kind of help: its first wave goes out at once."""
    _require_manager(session, user, incident)
    code = clean_help_type(help_type)
    _require_active(incident)
    if any(n.help_type == code for n in incident.needs):
        raise Conflict(f"{code.replace('_', ' ')} help is already asked for", field="help_type")
    with one_transaction(session):
        need = Need(id=uuid.uuid4(), help_type=code, state=NeedState.seeking, wave=1,
                    next_wave_at=now + wave_interval(incident.severity))
        incident.needs.append(need)
        incident.updated_at = now
        add_to_timeline(incident, "need_added", now, actor=user, help_type=code)
        if not _ask(session, incident, need, limit=wave_size(incident.severity), now=now):
            need.next_wave_at = now  # nobody fits: let the escalation tick alert the coordinators
        audit.record(session, user, "incident.need_added", incident, at=now, help_type=code)
        session.commit()
    return need


def remove_need(session: Session, user: User, incident: Incident, help_type: str, *, now: datetime) -> Incident:
    """The reporter no longer needs a kind of help nobody has taken yet: its open requests are withdrawn.

    A covered need stays (a responder is at work on it), and so does the last one: an incident that
    needs nothing any more is resolved or withdrawn instead.
    """
    _require_manager(session, user, incident)
    code = str(help_type or "").strip().lower()
    need = next((n for n in incident.needs if n.help_type == code), None)
    if need is None:
        raise ValidationError("help_type", f"{help_type!r} is not among this incident's needs")
    _require_active(incident)
    if need.state is NeedState.covered:
        raise Conflict("a responder has taken this; tell them through an update instead", field="help_type")
    if len(incident.needs) == 1:
        raise Conflict("an incident needs at least one kind of help; resolve or withdraw it instead",
                       field="help_type")
    with one_transaction(session):
        for match in session.scalars(select(Match).where(Match.incident_id == incident.id, Match.help_type == code,
                                                         Match.status.in_(PENDING))):
            match.status = MatchStatus.expired
        incident.needs.remove(need)
        incident.updated_at = now
        add_to_timeline(incident, "need_removed", now, actor=user, help_type=code)
        audit.record(session, user, "incident.need_removed", incident, at=now, help_type=code)
        session.commit()
    return incident


# -- Reading ----------------------------------------------------------------------------------------

# Every view of an incident reads its summary and its organisation's name: their keys come in the
# same statement as the incident, not one look-up each.
_SHOWN = (joinedload(Incident.data_key), joinedload(Incident.organisation).joinedload(Organisation.data_key))


def get_incident(session: Session, incident_id: uuid.UUID | str) -> Incident:
    return get_or_404(session, Incident, incident_id, "incident", options=_SHOWN)


def get_match(session: Session, match_id: uuid.UUID | str) -> Match:
    return get_or_404(session, Match, match_id, "match")


def find_by_ref(session: Session, ref: str) -> Incident | None:
    code = refs.normalise(ref)
    if not refs.is_well_formed(code):
        return None
    return session.scalar(select(Incident).where(Incident.ref == code))


def visible_incident(session: Session, user: User, incident_id: uuid.UUID | str) -> tuple[Incident, Viewer]:
    """The incident and how `user` sees it; NotFound for anyone who may not know it exists."""
    incident = get_incident(session, incident_id)
    viewer = viewer_for(session, user, incident)
    if viewer is None:
        raise NotFound("no such incident", field="id")
    return incident, viewer


def list_incidents(session: Session, user: User, *, status: str | None = None,
                   limit: int = LIST_LIMIT) -> list[Incident]:
    """Incidents `user` may know of, newest first: its organisation's and those it was asked about;
    all for coordinators."""
    query = select(Incident).options(selectinload(Incident.needs)).order_by(Incident.created_at.desc(),
                                                                            Incident.id)
    if not user.is_coordinator:
        if user.organisation_id is None or not may_act(user):
            return []
        asked = select(Match.incident_id).where(Match.organisation_id == user.organisation_id)
        query = query.where(or_(Incident.organisation_id == user.organisation_id, Incident.id.in_(asked)))
    if status:
        try:
            query = query.where(Incident.status == Status(status))
        except ValueError as exc:
            raise ValidationError("status", f"must be one of {', '.join(s.value for s in Status)}") from exc
    return list(session.scalars(query.limit(max(1, min(limit, LIST_LIMIT)))))


@dataclass(frozen=True)
class ShownMatch:
    """A match as one person may see it: its score and reasons as access.sees_ratings allows, every
    other attribute the match's own (read-only)."""

    match: Match
    score: float | None
    reasons: list[str]

    def __getattr__(self, name: str) -> Any:
        if name == "match":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.match, name)


def shown_reasons(user: User, reasons: list[str]) -> list[str]:
    return list(reasons) if access.sees_ratings(user) else [r for r in reasons if not is_rating_reason(r)]


def show_match(user: User, match: Match) -> ShownMatch:
    """How every response and page shows `match` to `user` (web, API, answers)."""
    return ShownMatch(match, match.score if access.sees_ratings(user) else None,
                      shown_reasons(user, match.reasons or []))


def visible_matches(session: Session, user: User, incident: Incident) -> list[ShownMatch]:
    """All matches for the reporter and coordinators, best first; only its own for a responder."""
    viewer = viewer_for(session, user, incident)
    if viewer is None:
        raise NotFound("no such incident", field="id")
    query = (select(Match).options(selectinload(Match.organisation).selectinload(Organisation.data_key))  # names
             .where(Match.incident_id == incident.id))
    if not access.sees_all_matches(viewer):
        query = query.where(Match.organisation_id == user.organisation_id)
    found = session.scalars(query.order_by(Match.help_type, Match.wave, Match.score.desc(), Match.id))
    return [show_match(user, match) for match in found]


def visible_match(session: Session, user: User, match_id: uuid.UUID | str) -> Match:
    """A match as seen by `user`: its own organisation's, or any of an incident it reports or coordinates."""
    match = get_match(session, match_id)
    if access.can_answer(user, match):
        return match
    viewer = viewer_for(session, user, get_incident(session, match.incident_id))
    if not access.sees_all_matches(viewer):
        raise NotFound("no such match", field="id")
    return match


def _needs_shown(viewer: Viewer, incident: Incident, own: list[Match]) -> list[dict[str, Any]]:
    if access.sees_all_matches(viewer):
        return [{"help_type": n.help_type, "state": n.state.value, "wave": n.wave, "next_wave_at": n.next_wave_at}
                for n in incident.needs]
    mine = {m.help_type for m in own}
    return [{"help_type": n.help_type} for n in incident.needs if n.help_type in mine]


def _contact(incident: Incident) -> dict[str, Any] | None:
    person = incident.contact_user
    if person is None:
        return None
    return {"name": person.name, "phone": person.phone, "email": person.email}


def timeline_actors(session: Session, entries: list[TimelineEntry]) -> dict[uuid.UUID, str]:
    """The names of the members who acted in `entries`, decrypted, by user id: one query for all.

    Coordinators are shown as "coordinator", as they always were. A person who is gone, or whose
    name cannot be read (their organisation's key destroyed), is left out: actor_name() then shows
    a neutral label."""
    ids = {e.actor_id for e in entries if e.actor_id is not None and e.actor_label == "member"}
    if not ids:
        return {}
    # Those already in the session (the reporter who just filed, the viewer) are not read again.
    people = [person for person in (session.identity_map.get(identity_key(User, i)) for i in ids) if person]
    missing = ids - {person.id for person in people}
    if missing:
        people += session.scalars(select(User).where(User.id.in_(missing))
                                  .options(selectinload(User.organisation).selectinload(Organisation.data_key)))
    names: dict[uuid.UUID, str] = {}
    for person in people:
        try:
            names[person.id] = person.name
        except DecryptionError:
            continue
    return names


def actor_name(entry: TimelineEntry, names: dict[uuid.UUID, str]) -> str:
    if entry.actor_label == "member" and entry.actor_id in names:
        return names[entry.actor_id]
    return ACTOR_NEUTRAL.get(entry.actor_label, ACTOR_NEUTRAL["member"])


def _timeline(session: Session, user: User, incident: Incident) -> list[dict[str, Any]]:
    names = timeline_actors(session, incident.timeline)
    return [{"at": e.at, "kind": e.kind, "actor": actor_name(e, names), "data": _entry_data(user, e), "note": e.note}
            for e in incident.timeline]


def _value(session: Session, user: User, incident: Incident, name: str, viewer: Viewer, own: list[Match]) -> Any:
    if name == "needs":
        return _needs_shown(viewer, incident, own)
    if name == "status":
        return incident.status.value
    if name == "organisation":
        return {"id": incident.organisation_id, "name": incident.organisation.name}
    if name == "contact":
        return _contact(incident)
    if name == "timeline":
        return _timeline(session, user, incident)
    return getattr(incident, name)


def _entry_data(user: User, entry: TimelineEntry) -> dict[str, Any]:
    """A timeline entry's data; the candidates of a "matched" entry carry scores and reasons,
    shown as show_match shows them."""
    data = dict(entry.data or {})
    if "candidates" in data and not access.sees_ratings(user):
        data["candidates"] = [{"organisation_id": c.get("organisation_id"),
                               "reasons": shown_reasons(user, c.get("reasons") or [])}
                              for c in data["candidates"]]
    return data


def _contact_granted(session: Session, user: User, incident: Incident) -> bool:
    """Whether the reporter shared its contact person with `user`'s organisation on request
    (incidents/messages.py, "Contacts on request")."""
    share = session.get(ContactShare, (incident.id, user.organisation_id)) if user.organisation_id else None
    return share is not None and share.state == "granted"


def describe(session: Session, user: User, incident: Incident, *, secret: bool = False) -> dict[str, Any]:
    """The fields of `incident` that `user` may see, plus `viewer`. Encrypted ones only with `secret`."""
    own = own_matches(session, user, incident)
    viewer = access.viewer_of(user, incident, own)
    if viewer is None:
        raise NotFound("no such incident", field="id")
    names = access.fields_for(viewer, incident)
    if viewer is Viewer.accepted and _contact_granted(session, user, incident):
        names = names | {"contact"}
    if not secret:
        names = names - access.SECRET
    shown = {name: _value(session, user, incident, name, viewer, own) for name in sorted(names)}
    shown["viewer"] = viewer.value
    return shown


def _has_secret(value: Any) -> bool:
    if isinstance(value, list):  # the timeline: only its notes are encrypted
        return any(entry.get("note") for entry in value)
    return bool(value)


def reveal(session: Session, user: User, incident: Incident, *, now: datetime) -> dict[str, Any]:
    """Everything `user` may see of `incident`, decrypted. Web and API both show incidents through this.

    Showing encrypted fields to anyone but the reporting organisation writes an "incident.revealed"
    audit event naming the fields (never their content), committed before the data is returned.
    """
    shown = describe(session, user, incident, secret=True)
    revealed = [name for name in access.reveals_secret(Viewer(shown["viewer"]), shown) if _has_secret(shown[name])]
    if revealed:
        with one_transaction(session):
            audit.record(session, user, "incident.revealed", incident, at=now, fields=revealed,
                         viewer=shown["viewer"])
            session.commit()
    return shown


def allowed_transitions(incident: Incident) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[incident.status])
