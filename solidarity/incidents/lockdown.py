"""Lockdown: a coordinator's one action when a member's phone is seized or a member is compromised.

Locking an organisation down, in one transaction:
- every browser session and API token of its people ends (a seized laptop is signed out);
- its people may not act (members/access.py may_act, asked on every request by the session and
  token loaders and by sign-in, which answers as to a wrong password): no page or API route lets
  them read or change anything, check-ins included; its phones and mailboxes receive nothing
  (notify/outbox.py, dispatcher);
- SMS from its people's numbers is not trusted: no report, answer or check-in is taken from them
  (api/sms_commands.py), and the reply is the same neutral one an unknown number gets;
- its incidents stop widening the circle: unanswered requests are withdrawn and waves held, since
  a new responder would reach out to a contact who may now be the adversary;
- responders already helping get a neutral "please wait for a coordinator" message with only the
  case reference, so they stop acting on (or talking to) the compromised side.
Re-verifying lifts the lockdown (people sign in again; tokens stay revoked) and resumes the waves.
Both are audit events.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from solidarity import audit
from solidarity.errors import Conflict, Forbidden
from solidarity.incidents.models import Incident, NeedState
from solidarity.incidents.service import ACTIVE
from solidarity.matching.models import PENDING, Match, MatchStatus
from solidarity.members import auth
from solidarity.members.models import Organisation, User
from solidarity.notify.outbox import enqueue

NOTICE = "case_paused"  # notify/messages.py: the reference and nothing else


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise Forbidden("only coordinators lock organisations down or re-verify them")


def lock_down(session: Session, actor: User, org: Organisation, *, now: datetime) -> dict[str, int]:
    """Lock `org` down; returns what was done (counts), as also written to the audit trail."""
    _require_coordinator(actor)
    if org.locked_at is not None:
        raise Conflict("the organisation is already locked down", field="organisation")
    org.locked_at = now
    sessions, tokens = auth.end_access(session, list(org.users), now=now)
    incidents = list(session.scalars(select(Incident).where(Incident.organisation_id == org.id)))
    withdrawn = told = 0
    for incident in incidents:
        for need in incident.needs:
            if need.state is NeedState.seeking:
                need.next_wave_at = None
        matches = list(session.scalars(select(Match).where(Match.incident_id == incident.id)))
        for match in matches:
            if match.status in PENDING:
                match.status = MatchStatus.expired
                withdrawn += 1
        helping = dict.fromkeys(m.organisation_id for m in matches if m.status is MatchStatus.accepted)
        for responder in session.scalars(select(User).where(User.organisation_id.in_(helping), User.active.is_(True))):
            told += len(enqueue(session, responder, NOTICE, now=now, incident=incident, ref=incident.ref))
    done = {"sessions_ended": sessions, "tokens_revoked": tokens, "requests_withdrawn": withdrawn,
            "messages_queued": told}
    audit.record(session, actor, "organisation.locked_down", org, at=now, **done)
    session.commit()
    return done


def reverify(session: Session, actor: User, org: Organisation, *, now: datetime) -> Organisation:
    """Lift the lockdown once a coordinator has re-verified the organisation and its numbers."""
    _require_coordinator(actor)
    if org.locked_at is None:
        raise Conflict("the organisation is not locked down", field="organisation")
    locked_since = org.locked_at
    org.locked_at = None
    for incident in session.scalars(select(Incident).where(Incident.organisation_id == org.id,
                                                           Incident.status.in_(ACTIVE))):
        for need in incident.needs:
            if need.state is NeedState.seeking:
                need.next_wave_at = now  # the escalation tick asks the next wave at once
    audit.record(session, actor, "organisation.reverified", org, at=now, locked_since=locked_since.isoformat())
    session.commit()
    return org
