"""The case conversation: one thread per incident between the reporting organisation, the responders
that took the case, and coordinators. Every path (web, API, SMS) reads and posts through here.

Who reads what (`party_of`, `may_read`):
- the reporting organisation reads every post, private lines included;
- a responder organisation that accepted reads the posts to everyone written since its acceptance
  (or all of them when the reporter shares the history), and its own private line;
- coordinators read the posts to everyone; a private line is between the reporter and one
  responder only (legal details to the lawyers), so coordinators do not read it;
- nobody else: organisations only asked, that declined, expired or handed the case back, and any
  locked-down or suspended organisation, see no thread and get "not found".

Bodies are encrypted with the incident's key, so retention's shredding erases them with it. Each new
post notifies the other parties' people by their channels with the reference and a link, never the
text, at most once per MESSAGE_NOTIFY_BATCH_SECONDS per person (a burst is one notice); muted people
get none. Posting is limited per person (MESSAGE_RATE_LIMIT_*), whichever path it comes by.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from solidarity import audit
from solidarity.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited, ValidationError
from solidarity.extensions import settings
from solidarity.incidents import access, refs
from solidarity.incidents.access import ANSWERED_YES, Viewer
from solidarity.incidents.models import ContactShare, Incident, Message, NeedState, Status, ThreadReader
from solidarity.incidents.service import add_to_timeline, commit_keeping, find_by_ref, one_transaction, own_matches
from solidarity.matching.models import Match, MatchStatus
from solidarity.members.access import may_act
from solidarity.members.models import Organisation, Role, User
from solidarity.notify import segments
from solidarity.notify.models import Delivery, Notification
from solidarity.notify.outbox import enqueue
from solidarity.records import parse_id

BODY_MAX = 4_000
NOTICE = "thread_message"  # notify/messages.py: "New message on case K7QF", nothing more
# What a post can be. The last three are written by request_contact/decide_contact only.
KINDS = ("message", "progress", "covered", "handed_back", "contact_request", "contact_granted", "contact_refused")
PROGRESS_KINDS = ("progress", "covered", "handed_back")
# A closed or withdrawn case takes no more posts; a resolved one does (the after-action talk).
OPEN_FOR_POSTS = (Status.open, Status.responding, Status.resolved)


@dataclass(frozen=True)
class Party:
    """How one person takes part in one incident's conversation."""

    viewer: Viewer  # coordinator, reporter or accepted
    organisation_id: uuid.UUID | None
    since: datetime | None  # an accepted responder reads posts to everyone from here on (None: all)


@dataclass(frozen=True)
class Shown:
    """One post as one reader sees it: the author and the readers in words."""

    message: Message
    author: str
    readers: str
    mine: bool
    unread: bool

    @property
    def body(self) -> str | None:
        return self.message.body

    @property
    def says(self) -> str | None:
        return what_it_says(self.message)


# -- Who reads and who writes ---------------------------------------------------------------------

def _joined_at(own: list[Match]) -> datetime | None:
    times = [m.answered_at for m in own if m.status in ANSWERED_YES and m.answered_at is not None]
    return min(times) if times else None


def party_of(session: Session, user: User, incident: Incident, own: list[Match] | None = None) -> Party | None:
    """How `user` takes part in the thread of `incident`, or None if they may not read it. `own`:
    the requests to the user's organisation on this incident, when the caller loaded them already."""
    if own is None:
        own = own_matches(session, user, incident)
    viewer = access.viewer_of(user, incident, own)
    if viewer not in (Viewer.coordinator, Viewer.reporter, Viewer.accepted) or incident.erased_at is not None:
        return None
    if not may_act(user):  # the one access rule: disabled, locked down or suspended reads nothing
        return None
    since = None
    if viewer is Viewer.accepted and not incident.thread_history_shared:
        since = _joined_at(own)
    return Party(viewer, user.organisation_id if viewer is not Viewer.coordinator else None, since)


def require_party(session: Session, user: User, incident: Incident) -> Party:
    party = party_of(session, user, incident)
    if party is None:
        # The same answer as for an incident one may not know of: nothing about the thread leaks.
        raise NotFound("no such incident", field="id")
    return party


def may_read(party: Party, message: Message) -> bool:
    """The one reading rule (see the module's docstring)."""
    if party.viewer is Viewer.reporter:
        return True
    if message.private_to_id is not None:
        return party.viewer is Viewer.accepted and message.private_to_id == party.organisation_id
    if party.viewer is Viewer.coordinator:
        return True
    return party.since is None or message.created_at >= party.since or message.author_organisation_id == \
        party.organisation_id


def responders_on_case(session: Session, incident: Incident) -> list[Organisation]:
    """Responder organisations that took the case (and have not handed it back), by name."""
    ids = set(session.scalars(select(Match.organisation_id).where(Match.incident_id == incident.id,
                                                                  Match.status.in_(ANSWERED_YES))))
    orgs = [session.get(Organisation, org_id) for org_id in ids]
    return sorted(orgs, key=lambda o: (o.name.casefold(), str(o.id)))  # names are encrypted: sorted here


def private_lines(session: Session, user: User, incident: Incident) -> list[Organisation]:
    """Whom `user` may write to privately: the reporter every responder on the case; a responder its
    own line (to the reporter); coordinators nobody."""
    party = require_party(session, user, incident)
    if party.viewer is Viewer.reporter:
        return responders_on_case(session, incident)
    if party.viewer is Viewer.accepted:
        return [user.organisation]
    return []


# -- Words ----------------------------------------------------------------------------------------

def author_label(party: Party, message: Message) -> str:
    """Who wrote a post, in words a reader may know: responders do not learn the reporter's name or
    other responders' names (need to know, as for matches); the reporter and coordinators do."""
    if message.author_role == "coordinator":
        return "A coordinator"
    if message.author_organisation_id is not None and message.author_organisation_id == party.organisation_id:
        return "Your organisation"
    if message.author_role == "reporter":
        if party.viewer is Viewer.coordinator:
            return message.author_organisation.name
        return "The reporting organisation"
    if party.viewer is Viewer.accepted:
        return "Another responder" + (f" ({message.help_type.replace('_', ' ')} help)" if message.help_type else "")
    return message.author_organisation.name if message.author_organisation else "A responder"


def what_it_says(message: Message) -> str | None:
    """Words for a post that carries no text of its own (or a headline for a progress report)."""
    help_name = (message.help_type or "").replace("_", " ")
    return {"covered": f"Reports {help_name} help covered.",
            "handed_back": f"Hands {help_name} help back; other responders are being asked.",
            "progress": f"Progress on {help_name} help:",
            "contact_request": "Asks the reporting organisation to share its contact person.",
            "contact_granted": "Shares the contact person: see the case page.",
            "contact_refused": "Does not share the contact person."}.get(message.kind)


def readers_label(party: Party, message: Message) -> str:
    """Who can read a post, in words: "Only you and Tamarind Street Legal Clinic can read this"."""
    if message.private_to_id is None:
        return "Everyone on the case can read this: the reporting organisation, the responders who took it " \
               "and the coordinators."
    if party.viewer is Viewer.reporter:
        return f"Only you and {message.private_to.name} can read this."
    return "Only you and the reporting organisation can read this."


# -- Reading --------------------------------------------------------------------------------------

def _reader(session: Session, user: User, incident: Incident) -> ThreadReader:
    row = session.get(ThreadReader, (incident.id, user.id))
    if row is None:
        row = ThreadReader(incident_id=incident.id, user_id=user.id)
        session.add(row)
    return row


def thread(session: Session, user: User, incident: Incident, *, now: datetime) -> list[Shown]:
    """The posts `user` may read, oldest first, and marks them read. A coordinator's reading is an
    audit event (the thread is case content), committed with the read mark before it is shown."""
    party = require_party(session, user, incident)
    posts = session.scalars(select(Message).where(Message.incident_id == incident.id)
                            .order_by(Message.seq))
    visible = [m for m in posts if may_read(party, m)]
    reader = _reader(session, user, incident)
    read_at = reader.read_at
    shown = [Shown(m, author_label(party, m), readers_label(party, m), m.author_id == user.id,
                   m.author_id != user.id and (read_at is None or m.created_at > read_at)) for m in visible]
    with one_transaction(session):
        reader.read_at = max([now, *(m.created_at for m in visible)])
        _cancel_waiting_notice(session, reader, now=now)
        if party.viewer is Viewer.coordinator:
            audit.record(session, user, "thread.read", incident, at=now, posts=len(visible))
        commit_keeping(session)  # the page goes on to show the incident read so far
    return shown


def unread_counts(session: Session, user: User, incidents: list[Incident],
                  own: dict[uuid.UUID, list[Match]] | None = None) -> dict[uuid.UUID, int]:
    """For each incident whose thread `user` may read, how many posts by others they have not read.
    Reads no ciphertext: lists and the home page call it for many incidents at once, in a fixed
    number of queries (`own`: the organisation's requests on each incident, if the caller has them).
    Coordinators count only the cases they take part in (as for notices), not every case. The two
    queries below run even for no incident (an empty IN is answered at once), so a page costs the
    same number of statements whatever the person's cases."""
    if own is None:
        own = {i.id: [] for i in incidents}
        if user.organisation_id is not None and incidents:  # one query for all, not one per incident
            for match in session.scalars(select(Match).where(Match.incident_id.in_(own),
                                                             Match.organisation_id == user.organisation_id)):
                own[match.incident_id].append(match)
    parties = {i.id: p for i in incidents if (p := party_of(session, user, i, own.get(i.id, []))) is not None}
    read = dict(session.execute(select(ThreadReader.incident_id, ThreadReader.read_at)
                                .where(ThreadReader.user_id == user.id, ThreadReader.incident_id.in_(parties))).all())
    if user.is_coordinator:
        parties = {incident_id: party for incident_id, party in parties.items() if incident_id in read}
    counts = dict.fromkeys(parties, 0)
    posts = session.scalars(select(Message).where(Message.incident_id.in_(parties)))
    for post in posts:
        since = read.get(post.incident_id)
        if post.author_id != user.id and (since is None or post.created_at > since) \
                and may_read(parties[post.incident_id], post):
            counts[post.incident_id] += 1
    return counts


def set_muted(session: Session, user: User, incident: Incident, muted: bool, *, now: datetime) -> ThreadReader:
    """Mute (or unmute) the "new message" notices of one case for one person."""
    require_party(session, user, incident)
    with one_transaction(session):
        reader = _reader(session, user, incident)
        reader.muted_at = now if muted else None
        session.commit()
    return reader


def is_muted(session: Session, user: User, incident: Incident) -> bool:
    reader = session.get(ThreadReader, (incident.id, user.id))
    return reader is not None and reader.muted_at is not None


def set_history_shared(session: Session, user: User, incident: Incident, shared: bool, *,
                       now: datetime) -> Incident:
    """The reporter's choice whether responders read the thread from its start or from their acceptance."""
    party = require_party(session, user, incident)
    if party.viewer is not Viewer.reporter:
        raise Forbidden("only the reporting organisation decides who reads the earlier conversation")
    with one_transaction(session):
        incident.thread_history_shared = bool(shared)
        audit.record(session, user, "thread.history_shared" if shared else "thread.history_withheld", incident,
                     at=now)
        session.commit()
    return incident


# -- Posting --------------------------------------------------------------------------------------

def clean_body(value: Any, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError("body", "write a message")
        return None
    if not isinstance(value, str):
        raise ValidationError("body", "must be text")
    text = value.strip()
    if len(text) > BODY_MAX:
        raise ValidationError("body", f"use at most {BODY_MAX} characters (now {len(text)})")
    return text


def _private_to(session: Session, user: User, party: Party, incident: Incident, value: Any) -> Organisation | None:
    if value in (None, ""):
        return None
    org_id = parse_id(value, "organisation", "private_to")
    if party.viewer is Viewer.coordinator:
        raise ValidationError("private_to", "coordinators write to everyone on the case")
    if party.viewer is Viewer.accepted:
        if org_id != user.organisation_id:
            raise ValidationError("private_to", "a responder's private line goes to the reporting organisation only")
        return user.organisation
    found = next((o for o in responders_on_case(session, incident) if o.id == org_id), None)
    if found is None:
        raise ValidationError("private_to", "choose a responder that took the case")
    return found


def _check_rate(session: Session, user: User, *, now: datetime) -> None:
    limit = int(settings()["MESSAGE_RATE_LIMIT_COUNT"])
    since = now - timedelta(seconds=float(settings()["MESSAGE_RATE_LIMIT_SECONDS"]))
    posted = session.scalar(select(func.count(Message.id)).where(Message.author_id == user.id,
                                                                  Message.created_at > since))
    if posted >= limit:
        raise RateLimited("you have posted many messages in a short time; wait a few minutes", field="body")


def _lock_incident(session: Session, incident: Incident) -> None:
    """Serialise posts to one thread, so two at once cannot take the same place or both send a
    burst's first notice. A no-op UPDATE of the incident row: a row lock on PostgreSQL, and on
    SQLite it opens the write transaction before anything is read (a second writer waits for it)."""
    session.execute(update(Incident).where(Incident.id == incident.id)
                    .values(thread_history_shared=Incident.thread_history_shared)
                    .execution_options(synchronize_session=False))


def _role(party: Party) -> str:
    return {Viewer.coordinator: "coordinator", Viewer.reporter: "reporter"}.get(party.viewer, "responder")


def _write(session: Session, user: User, party: Party, incident: Incident, kind: str, body: str | None, *,
           now: datetime, private_to: Organisation | None = None, help_type: str | None = None,
           channel: str = "web") -> Message:
    """Add one post inside the caller's transaction and queue the notices; the caller commits."""
    _lock_incident(session, incident)
    seq = (session.scalar(select(func.max(Message.seq)).where(Message.incident_id == incident.id)) or 0) + 1
    message = Message(id=uuid.uuid4(), incident=incident, seq=seq, kind=kind, author_id=user.id,
                      author_organisation_id=party.organisation_id, author_role=_role(party),
                      private_to=private_to, private_to_id=private_to.id if private_to else None,
                      help_type=help_type, channel=channel, created_at=now)
    message.body = body
    session.add(message)
    session.flush()
    reader = _reader(session, user, incident)
    reader.read_at = now  # one's own post is read
    _notify(session, incident, message, author=user, now=now)
    return message


def post(session: Session, user: User, incident: Incident, body: Any, *, now: datetime, private_to: Any = None,
         channel: str = "web") -> Message:
    """Post a message to the thread, or to one private line. One commit: post, notices, audit event."""
    party = require_party(session, user, incident)
    text = clean_body(body)
    target = _private_to(session, user, party, incident, private_to)
    _require_open(incident)
    _check_rate(session, user, now=now)
    with one_transaction(session):
        message = _write(session, user, party, incident, "message", text, now=now, private_to=target,
                         channel=channel)
        audit.record(session, user, "thread.posted", incident, at=now, message=str(message.id),
                     private=target is not None, channel=channel)
        session.commit()
    return message


def _require_open(incident: Incident) -> None:
    if incident.status not in OPEN_FOR_POSTS:
        raise Conflict(f"this case is {incident.status.value}; it takes no more messages", field="status")


def post_by_sms(session: Session, senders: list[User], body: str, *, now: datetime,
                only_if_reader: bool = False) -> tuple[str, str] | None:
    """`K7QF <text>` from a phone: post the text to case K7QF's thread as the sender.

    `senders` are the sender's trusted accounts, as the SMS commands find them (an unknown or
    untrusted number has none and never reaches here). Returns the reply's key and the reference,
    or None when the first word names no case (the SMS is then read as another command; so too,
    with `only_if_reader`, when the sender cannot read that thread, as a report naming a word that
    happens to be a code must still be filed). The text is refused when it is longer than one SMS
    (the web takes long messages). The reply never repeats the text.
    """
    first, _, rest = (body or "").strip().partition(" ")
    code = refs.normalise(first)
    text = rest.strip()
    incident = find_by_ref(session, code) if refs.is_well_formed(code) and text else None
    if incident is None:
        return None
    writers = [u for u in senders if party_of(session, u, incident) is not None]
    if not writers:
        return None if only_if_reader else ("no_thread", code)
    if len({u.organisation_id for u in writers}) > 1:
        return "no_thread", code  # one phone in two organisations on the case: nothing tells them apart
    if not segments.measure(body.strip()).single:
        return "too_long", incident.ref
    try:
        post(session, writers[0], incident, text, now=now, channel="sms")
    except DomainError:
        session.rollback()
        return "not_posted", incident.ref
    return "posted", incident.ref


# -- Responders' progress -------------------------------------------------------------------------

def _own_accepted(session: Session, user: User, incident: Incident, help_type: Any) -> Match:
    code = str(help_type or "").strip().lower()
    mine = [m for m in own_matches(session, user, incident) if m.status is MatchStatus.accepted]
    if not mine:
        raise Forbidden("only a responder working on the case reports progress on it")
    if not code and len(mine) == 1:
        return mine[0]
    match = next((m for m in mine if m.help_type == code), None)
    if match is None:
        raise ValidationError("help_type", "choose a kind of help your organisation took on this case")
    return match


def report_progress(session: Session, user: User, incident: Incident, state: str, body: Any, *, now: datetime,
                    help_type: Any = None, channel: str = "web") -> Message:
    """A responder says what it is doing ("progress"), that its need is covered ("covered"), or hands
    it back ("handed_back"): its match ends, its capacity is free, and the need is asked again at
    once by the escalation tick (its one path for waves and, when none is left, the coordinators)."""
    party = require_party(session, user, incident)
    if party.viewer is not Viewer.accepted:
        raise Forbidden("only a responder working on the case reports progress on it")
    if state not in PROGRESS_KINDS:
        raise ValidationError("state", "must be progress, covered or handed_back")
    text = clean_body(body, required=state == "progress")
    match = _own_accepted(session, user, incident, help_type)
    _require_open(incident)
    _check_rate(session, user, now=now)
    with one_transaction(session):
        if state == "handed_back":
            _hand_back(incident, match, user, now=now)
        elif state == "covered":
            add_to_timeline(incident, "covered", now, actor=user, help_type=match.help_type,
                            organisation_id=str(match.organisation_id))
        message = _write(session, user, party, incident, state, text, now=now, help_type=match.help_type,
                         channel=channel)
        incident.updated_at = now
        audit.record(session, user, f"thread.{state}", incident, at=now, help_type=match.help_type,
                     match=str(match.id))
        session.commit()
    return message


def _hand_back(incident: Incident, match: Match, user: User, *, now: datetime) -> None:
    match.status, match.completed_at = MatchStatus.handed_back, now
    need = next(n for n in incident.needs if n.help_type == match.help_type)
    if incident.status in (Status.open, Status.responding):
        # Due now: the escalation tick asks the next wave (the responder that handed it back is
        # excluded, as everyone already asked is) or alerts the coordinators when none is left.
        need.state, need.next_wave_at = NeedState.seeking, now
    add_to_timeline(incident, "handed_back", now, actor=user, help_type=match.help_type,
                    organisation_id=str(match.organisation_id))


def progress_for(session: Session, user: User, incident: Incident) -> list[Shown]:
    """The responders' reports the case page lists, newest first (the thread's reading rule)."""
    party = party_of(session, user, incident)
    if party is None:
        return []
    posts = session.scalars(select(Message).where(Message.incident_id == incident.id,
                                                  Message.kind.in_(PROGRESS_KINDS))
                            .order_by(Message.seq.desc()))
    return [Shown(m, author_label(party, m), readers_label(party, m), m.author_id == user.id, False)
            for m in posts if may_read(party, m)]


# -- Contacts on request --------------------------------------------------------------------------

def contact_share(session: Session, incident: Incident, org_id: uuid.UUID | None) -> ContactShare | None:
    return session.get(ContactShare, (incident.id, org_id)) if org_id is not None else None


def contact_shares(session: Session, user: User, incident: Incident) -> list[ContactShare]:
    """The reporter's open and decided requests (the reporter and coordinators only)."""
    party = party_of(session, user, incident)
    if party is None or party.viewer is Viewer.accepted:
        return []
    return list(session.scalars(select(ContactShare).where(ContactShare.incident_id == incident.id)
                                .order_by(ContactShare.requested_at, ContactShare.organisation_id)))


def request_contact(session: Session, user: User, incident: Incident, *, now: datetime) -> ContactShare:
    """A responder working on the case asks to learn the reporter's contact person."""
    party = require_party(session, user, incident)
    if party.viewer is not Viewer.accepted or not any(
            m.status is MatchStatus.accepted for m in own_matches(session, user, incident)):
        raise Forbidden("only a responder working on the case asks for the contact person")
    if "contact" in (incident.disclosure or []):
        raise Conflict("the reporter already shares the contact person with responders", field="contact")
    _require_open(incident)
    share = contact_share(session, incident, user.organisation_id)
    if share is not None and share.state in ("requested", "granted"):
        raise Conflict(f"your request is already {share.state}", field="contact")
    with one_transaction(session):
        if share is None:
            share = ContactShare(incident_id=incident.id, organisation_id=user.organisation_id, state="requested",
                                 requested_at=now)
            session.add(share)
        share.state, share.requested_at, share.decided_at = "requested", now, None
        _write(session, user, party, incident, "contact_request", None, now=now, private_to=user.organisation)
        audit.record(session, user, "thread.contact_requested", incident, at=now,
                     organisation=str(user.organisation_id))
        session.commit()
    return share


def decide_contact(session: Session, user: User, incident: Incident, org_id: Any, grant: bool, *,
                   now: datetime) -> ContactShare:
    """The reporter shares (or does not share) the contact person with one responder that asked."""
    party = require_party(session, user, incident)
    if party.viewer is not Viewer.reporter:
        raise Forbidden("only the reporting organisation decides whom it shares its contact person with")
    share = contact_share(session, incident, parse_id(org_id, "request", "organisation_id"))
    if share is None:
        raise NotFound("no such request", field="organisation_id")
    responder = session.get(Organisation, share.organisation_id)
    with one_transaction(session):
        share.state, share.decided_at = ("granted" if grant else "refused"), now
        _write(session, user, party, incident, "contact_granted" if grant else "contact_refused", None, now=now,
               private_to=responder)
        audit.record(session, user, "thread.contact_granted" if grant else "thread.contact_refused", incident,
                     at=now, organisation=str(responder.id))
        session.commit()
    return share


# -- Notices --------------------------------------------------------------------------------------

def _recipients(session: Session, incident: Incident, message: Message, author: User) -> list[User]:
    """The people of the other parties who may read `message`. Coordinators are told once they take
    part (they read or wrote in the thread): the network's coordinators do not all follow every case."""
    orgs = {incident.organisation_id}
    if message.private_to_id is not None:
        orgs.add(message.private_to_id)
    else:
        orgs.update(o.id for o in responders_on_case(session, incident))
    orgs.discard(author.organisation_id)
    people = list(session.scalars(select(User).where(User.organisation_id.in_(orgs), User.active.is_(True)))) \
        if orgs else []
    if message.private_to_id is None:
        following = select(ThreadReader.user_id).where(ThreadReader.incident_id == incident.id)
        people += session.scalars(select(User).where(User.id.in_(following), User.role == Role.coordinator,
                                                     User.active.is_(True)))
    readers = []
    for person in people:
        party = party_of(session, person, incident) if person.id != author.id else None
        if party is not None and may_read(party, message):
            readers.append(person)
    return readers


def _notify(session: Session, incident: Incident, message: Message, *, author: User, now: datetime) -> int:
    """Queue "new message on case <ref>" for each other reader, at most one per batch window each."""
    window = timedelta(seconds=float(settings()["MESSAGE_NOTIFY_BATCH_SECONDS"]))
    queued = 0
    for person in sorted(_recipients(session, incident, message, author), key=lambda u: str(u.id)):
        reader = _reader(session, person, incident)
        if reader.muted_at is not None or (reader.notice_at is not None and reader.notice_at > now):
            continue  # muted, or a notice for this burst is already waiting to go
        due = now if reader.notice_at is None or reader.notice_at + window <= now else reader.notice_at + window
        rows = enqueue(session, person, NOTICE, now=now, incident=incident, ref=incident.ref)
        for row in rows:
            row.next_attempt_at = due  # the rest of a burst is told once, when the window ends
        reader.notice_at = due
        queued += len(rows)
    return queued


def _cancel_waiting_notice(session: Session, reader: ThreadReader, *, now: datetime) -> None:
    """A notice still waiting for the end of its burst's window is pointless once the person has read
    the thread: it is withdrawn (never claimed by a worker: it is not due yet)."""
    if reader.notice_at is None or reader.notice_at <= now:
        return
    session.execute(delete(Notification).where(
        Notification.user_id == reader.user_id, Notification.incident_id == reader.incident_id,
        Notification.template == NOTICE, Notification.status == Delivery.queued, Notification.attempts == 0,
        Notification.next_attempt_at > now))
    reader.notice_at = now  # the window goes on from the reading: the next post is told at its end


# -- Retention ------------------------------------------------------------------------------------

def erase(session: Session, incident: Incident) -> int:
    """Shred the thread with the incident (retention.erase): bodies and authors go; returns how many
    bodies were erased. The kinds and dates stay, as the timeline's do."""
    erased = 0
    for message in session.scalars(select(Message).where(Message.incident_id == incident.id)):
        if message.body_ct is not None:
            message.body_ct = None
            erased += 1
        message.author_id = None
    return erased
