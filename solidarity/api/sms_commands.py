"""What an inbound SMS does, once its Twilio signature is checked: answer, opt out or in, report,
or write to a case's conversation (`K7QF <text>`).

No Flask here: `handle` takes the sender's number and the text and returns the reply text (or None
for no reply), so the rules are tested without HTTP. Each branch is one service call (and so one
transaction). Whoever the sender is, the reply never says more than the sender already knows: an
unknown number, a number not proven yet (members/phones.py), a disabled account and a wrong or
missing PIN (on reports and answers) all get the same neutral answer, and nothing is written for them.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from solidarity import audit, metrics
from solidarity.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited
from solidarity.escalation import checkins
from solidarity.extensions import settings
from solidarity.incidents import messages as thread
from solidarity.incidents import service as incidents
from solidarity.incidents.models import Incident
from solidarity.matching.models import PENDING, Match
from solidarity.members import phones
from solidarity.members import service as members
from solidarity.members.access import access_state, may_act
from solidarity.members.models import Organisation, Role, User, Vetting
from solidarity.notify import inbound, messages
from solidarity.notify import service as notify
from solidarity.notify.inbound import Command
from solidarity.playbook import service as playbook

logger = logging.getLogger("solidarity.sms")

# Used when a report names no kind of help and no published play lists any for its threat.
DEFAULT_NEEDS = {
    "raid": ("legal", "digital_security"), "detention": ("legal",), "asset_freeze": ("emergency_funds", "legal"),
    "expulsion": ("legal", "diplomatic"), "deregistration": ("legal",), "media_attack": ("communications",),
    "political_upheaval": ("relocation", "emergency_funds"), "other": ("legal",),
}


def handle(session: Session, phone: str, body: str, *, now: datetime) -> str | None:
    """Act on one SMS from `phone` and return the reply to send back (None: send nothing)."""
    command = inbound.parse(body, settings()["HELP_TYPES"])
    found = [u for u in members.find_users_by_phone(session, phone) if u.active]
    # A locked-down organisation's numbers are not trusted until a coordinator re-verifies it
    # (incidents/lockdown.py), nor a suspended one's (members/access.py, the rule every path asks):
    # the sender is treated as unknown, and coordinators learn from the audit trail that the number
    # is in use. A STOP is still honoured: it only withholds.
    users = [u for u in found if may_act(u)]
    if command.kind == "stop":
        # A number still being proven gets no more codes either: opt-out law binds us before proof.
        phones.end_claims_for_number(session, phone, now=now)
        notify.set_sms_opt_out(session, found, True, now=now)
        return messages.reply("stop", _language(users)) if users else None
    if command.kind == "code" and not found:
        # Only a number nobody holds yet can be proven; for anyone else a bare code means nothing.
        confirmed = phones.confirm_by_sms(session, phone, command.pin, now=now)
        return messages.reply("phone_confirmed" if confirmed else "received")
    if len(users) < len(found):
        _record_untrusted(session, found, command, now=now)
    if users and command.kind in ("unknown", "intake"):
        # `K7QF <text>`: a message to that case's conversation (incidents/messages.py).
        writers, text = _thread_writers(users, body)
        posted = thread.post_by_sms(session, writers, text, now=now, only_if_reader=command.kind == "intake")
        if posted is not None:
            if not writers:
                return messages.reply("received")  # PIN missing or wrong: what an unknown number is told
            return messages.reply(posted[0], _language(users), ref=posted[1])
    if command.kind == "intake":
        return _intake(session, users, command, now=now)
    if not users:
        return messages.reply("received")
    language = _language(users)
    if command.kind == "start":
        notify.set_sms_opt_out(session, users, False, now=now)
        return messages.reply("start", language)
    if command.kind == "answer":
        return _answer(session, users, command, language, now=now)
    if command.kind == "checkin":
        return _checkin(session, users, command, language, now=now)
    return messages.reply("help", language, contact=settings()["EMERGENCY_CONTACT"])


def spends_allowance(body: str) -> bool:
    """Whether this message spends the sender's allowance (SMS_RATE_LIMIT_PHONE): every command
    does (answers, reports, check-ins, STOP/START), a wrong PIN included, so guessing stays slow. Text
    we cannot read as a command, and HELP, only earn the usage reply: a mistyped report must not use
    up the allowance the next, correct one needs. They have a looser allowance of their own."""
    return inbound.parse(body, settings()["HELP_TYPES"]).kind not in ("help", "unknown")


def _record_untrusted(session: Session, found: list[User], command: Command, *, now: datetime) -> None:
    refused = {u.organisation_id: u for u in found if not may_act(u) and u.organisation is not None}
    for user in refused.values():
        audit.record(session, "sms", "sms.untrusted", user.organisation, at=now, command=command.kind,
                     state=access_state(user).value)
    session.commit()


def _language(users: list[User]) -> str:
    return messages.language_of(users[0].preferred_language if users else None)


def pending_matches(session: Session, org_ids: set) -> list[tuple[Match, str]]:
    """Requests waiting for an answer from these organisations, oldest first, with their refs."""
    if not org_ids:
        return []
    rows = session.execute(select(Match, Incident.ref).join(Incident, Incident.id == Match.incident_id)
                           .where(Match.organisation_id.in_(org_ids), Match.status.in_(PENDING))
                           .order_by(Match.created_at, Match.id))
    return [(match, ref) for match, ref in rows]


def _answer(session: Session, users: list[User], command: Command, language: str, *, now: datetime) -> str:
    members_of = [u for u in users if u.organisation_id is not None]
    answering = _pin_holders(members_of, command.pin)
    if members_of and not answering:
        return messages.reply("received")  # PIN missing or wrong: what an unknown number is told
    waiting = pending_matches(session, {u.organisation_id for u in answering})
    if command.ref is not None:
        incident = incidents.find_by_ref(session, command.ref)
        chosen = [(m, ref) for m, ref in waiting if incident is not None and m.incident_id == incident.id]
        if not chosen:
            return messages.reply("no_request", language, ref=command.ref)
    elif not waiting:
        return messages.reply("none_pending", language)
    elif len(waiting) > 1:
        return messages.reply("which", language, refs=list(dict.fromkeys(ref for _, ref in waiting)))
    else:
        chosen = waiting
    match, ref = chosen[0]
    user = next(u for u in answering if u.organisation_id == match.organisation_id)
    try:
        incidents.answer_match(session, user, match, command.accept, now=now)
    except incidents.AtCapacity as full:
        return messages.reply("full", language, ref=ref, capacity=full.capacity)
    except incidents.AlreadyAnswered:
        session.rollback()  # expires `match`: what it reads next is the answer that came first
        if match.answered_at is not None:
            return messages.reply("taken", language, ref=ref, at=match.answered_at)
        return messages.reply("closed", language, ref=ref)
    except (Conflict, Forbidden):
        session.rollback()
        return messages.reply("closed", language, ref=ref)
    return messages.reply("accepted" if command.accept else "declined", language, ref=ref)


def _checkin(session: Session, users: list[User], command: Command, language: str, *, now: datetime) -> str:
    """`OK <ref>`: the sender's organisation is safe. A phone registered in two organisations must
    not confirm for the wrong one, so it is refused like an unknown code."""
    orgs = {u.organisation for u in users if u.organisation is not None}
    if len(orgs) != 1:
        return messages.reply("no_checkin", language)
    try:
        checkin = checkins.confirm_checkin(session, orgs.pop(), command.ref, now=now, channel="sms")
    except (NotFound, Conflict):
        session.rollback()
        return messages.reply("no_checkin", language)
    return messages.reply("checkin_ok", language, ref=checkin.ref)


def _pin_holders(users: list[User], pin: str | None) -> list[User]:
    """The sender's accounts whose organisation asks no SMS PIN, or got the right one."""
    allowed = []
    for user in users:
        org: Organisation = user.organisation
        # Always verify, even for an organisation without a PIN, so the reply takes as long either way.
        pin_ok = members.verify_sms_pin(org, pin)
        if org.sms_pin_hash is None or pin_ok:
            allowed.append(user)
    return allowed


def _thread_writers(users: list[User], body: str) -> tuple[list[User], str]:
    """Who may post `body` to a case's conversation, and the text to post. The PIN rule of reports
    and answers holds here too, so a seized phone alone cannot speak for the organisation: one that
    set a PIN writes `K7QF 4821 text`, and the PIN is taken out before the text is posted."""
    code, _, rest = body.strip().partition(" ")
    pin, _, after = rest.strip().partition(" ")
    free = [u for u in users if u.organisation is None or u.organisation.sms_pin_hash is None]
    with_pin = _pin_holders([u for u in users if u not in free], pin)
    if with_pin:
        return with_pin, f"{code} {after}"
    return free, body


def _reporter(users: list[User], pin: str | None) -> User | None:
    """The sender's account that may report, if the PIN rule of its organisation allows it."""
    allowed = _pin_holders([u for u in users if u.organisation is not None
                            and u.organisation.vetting_status is Vetting.vetted], pin)
    orgs = {u.organisation_id for u in allowed}
    if len(orgs) != 1:
        return None  # unknown, wrong PIN, or one phone in two organisations and nothing to tell them apart
    return sorted(allowed, key=lambda u: (u.role is not Role.org_admin, u.created_at))[0]


def _needs_for(session: Session, command: Command) -> list[str]:
    if command.needs:
        return list(command.needs)
    offered = set(settings()["HELP_TYPES"])
    play = playbook.play_for(session, command.threat_type)
    from_play = [h for h in (play.help_types if play is not None else []) if h in offered]
    return from_play or [h for h in DEFAULT_NEEDS.get(command.threat_type, ("legal",)) if h in offered]


def _intake(session: Session, users: list[User], command: Command, *, now: datetime) -> str:
    reporter = _reporter(users, command.pin)
    if reporter is None:
        if users:
            logger.info("SMS report refused: PIN missing or wrong, or the sender cannot report")
        return messages.reply("received")
    draft = incidents.IncidentDraft(threat_type=command.threat_type, severity=int(settings()["SMS_INTAKE_SEVERITY"]),
                                    country=reporter.organisation.country, needs=_needs_for(session, command),
                                    channel="sms")
    language = _language([reporter])
    try:
        incident = incidents.file_incident(session, reporter, draft, now=now)
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, RateLimited):  # answered 200 "not filed", so the HTTP layer sees no 429
            metrics.RATE_LIMIT_REFUSALS.labels("sms_fanout").inc()
        logger.warning("SMS report could not be filed: %s", exc)
        return messages.reply("not_filed", language)
    return messages.reply("filed", language, ref=incident.ref)
