"""/api/v1/incidents/{id}/messages, /progress, /thread/..., /contact-requests: the case conversation
for API clients. Registered on the workspace's blueprint; the same service (incidents/messages.py)
and the same reading rule as the incident page."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from solidarity.api import current_api_user
from solidarity.api.incident_work import _incident, blp, errors
from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.incidents import messages, service


class PostOut(Schema):
    id = fields.Function(lambda s: str(s.message.id), required=True)
    kind = fields.Function(lambda s: s.message.kind, required=True, metadata={
        "description": "message, progress, covered, handed_back, contact_request, contact_granted or contact_refused"})
    author = fields.String(required=True, metadata={"description": "who wrote it, in words you may know"})
    readers = fields.String(required=True, metadata={"description": "who can read it, in words"})
    private_to_id = fields.Function(lambda s: str(s.message.private_to_id) if s.message.private_to_id else None,
                                    allow_none=True,
                                    metadata={"description": "set on a private line: the responder organisation"})
    help_type = fields.Function(lambda s: s.message.help_type, allow_none=True)
    says = fields.String(allow_none=True, metadata={"description": "words for a post without text of its own"})
    body = fields.String(allow_none=True)
    channel = fields.Function(lambda s: s.message.channel, required=True)
    created_at = fields.Function(lambda s: s.message.created_at.isoformat(), required=True)
    mine = fields.Boolean(required=True)
    unread = fields.Boolean(required=True)


class MessageIn(Schema):
    body = fields.String(required=True, metadata={"description": f"at most {messages.BODY_MAX} characters"})
    private_to = fields.UUID(allow_none=True, metadata={
        "description": "a private line: the reporter names a responder on the case; a responder its own "
                       "organisation (to the reporter only)"})


class ProgressIn(Schema):
    state = fields.String(required=True, validate=validate.OneOf(messages.PROGRESS_KINDS),
                          metadata={"description": "progress, covered, or handed_back (frees your capacity; others "
                                                   "are asked)"})
    body = fields.String(allow_none=True, metadata={"description": "required for progress"})
    help_type = fields.String(allow_none=True, validate=validate.Length(max=40),
                              metadata={"description": "the need, when your organisation took more than one"})


class MuteIn(Schema):
    muted = fields.Boolean(required=True)


class HistoryIn(Schema):
    shared = fields.Boolean(required=True, metadata={
        "description": "whether responders who join later read the conversation from its start"})


class DecisionIn(Schema):
    share = fields.Boolean(required=True)


class ShareOut(Schema):
    organisation_id = fields.UUID(required=True)
    state = fields.String(required=True, metadata={"description": "requested, granted or refused"})
    requested_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)


class UnreadOut(Schema):
    incident_id = fields.UUID(required=True)
    ref = fields.String(required=True)
    unread = fields.Integer(required=True)


def _shown(party, message):
    """The post as its author sees it, by the party they were when writing (handing a need back
    ends it, and the answer must still describe the post)."""
    return messages.Shown(message, messages.author_label(party, message), messages.readers_label(party, message),
                          True, False)


@blp.route("/<uuid:incident_id>/messages")
class Thread(MethodView):
    @blp.response(200, PostOut(many=True))
    @errors(401, 404)
    def get(self, incident_id):
        """The conversation as you may read it, oldest first; marks it read. A coordinator's reading is
        audited. 404 for anyone not on the case (only asked, declined, handed back, locked down)."""
        user, incident = _incident(incident_id)
        return messages.thread(db.session, user, incident, now=utcnow())

    @blp.arguments(MessageIn)
    @blp.response(201, PostOut)
    @errors(401, 404, 409, 422, 429)
    def post(self, data, incident_id):
        """Write to everyone on the case, or on a private line. The others are told "new message on
        case <ref>" (never the text), at most once per person per few minutes."""
        user, incident = _incident(incident_id)
        party = messages.require_party(db.session, user, incident)
        message = messages.post(db.session, user, incident, data["body"], private_to=data.get("private_to"),
                                channel="api", now=utcnow())
        return _shown(party, message)


@blp.route("/<uuid:incident_id>/progress")
class Progress(MethodView):
    @blp.arguments(ProgressIn)
    @blp.response(201, PostOut)
    @errors(401, 403, 404, 409, 422, 429)
    def post(self, data, incident_id):
        """A responder working on the case: what it is doing, that its need is covered, or that it hands
        the need back (its request ends, its capacity is free, the next wave is asked)."""
        user, incident = _incident(incident_id)
        party = messages.require_party(db.session, user, incident)
        message = messages.report_progress(db.session, user, incident, data["state"], data.get("body"),
                                           help_type=data.get("help_type"), channel="api", now=utcnow())
        return _shown(party, message)


@blp.route("/<uuid:incident_id>/thread/mute")
class Mute(MethodView):
    @blp.arguments(MuteIn)
    @blp.response(204)
    @errors(401, 404, 422)
    def put(self, data, incident_id):
        """Mute (or unmute) the new-message notices of this case for yourself."""
        user, incident = _incident(incident_id)
        messages.set_muted(db.session, user, incident, data["muted"], now=utcnow())


@blp.route("/<uuid:incident_id>/thread/history")
class History(MethodView):
    @blp.arguments(HistoryIn)
    @blp.response(204)
    @errors(401, 403, 404, 422)
    def put(self, data, incident_id):
        """The reporting organisation decides whether responders who join later read the earlier conversation."""
        user, incident = _incident(incident_id)
        messages.set_history_shared(db.session, user, incident, data["shared"], now=utcnow())


@blp.route("/<uuid:incident_id>/contact-requests")
class ContactRequests(MethodView):
    @blp.response(200, ShareOut(many=True))
    @errors(401, 404)
    def get(self, incident_id):
        """Responders' requests for the contact person and their decisions (reporter and coordinators)."""
        user, incident = _incident(incident_id)
        messages.require_party(db.session, user, incident)
        return messages.contact_shares(db.session, user, incident)

    @blp.response(201, ShareOut)
    @errors(401, 403, 404, 409)
    def post(self, incident_id):
        """A responder working on the case asks the reporter to share its contact person."""
        user, incident = _incident(incident_id)
        return messages.request_contact(db.session, user, incident, now=utcnow())


@blp.route("/<uuid:incident_id>/contact-requests/<uuid:org_id>")
class ContactDecision(MethodView):
    @blp.arguments(DecisionIn)
    @blp.response(200, ShareOut)
    @errors(401, 403, 404, 422)
    def put(self, data, incident_id, org_id):
        """The reporter shares (or does not share) its contact person with one responder that asked."""
        user, incident = _incident(incident_id)
        return messages.decide_contact(db.session, user, incident, org_id, data["share"], now=utcnow())


@blp.route("/unread")
class Unread(MethodView):
    @blp.response(200, UnreadOut(many=True))
    @errors(401)
    def get(self):
        """Cases whose conversation has posts you have not read, with how many."""
        user = current_api_user()
        found = service.list_incidents(db.session, user)
        counts = messages.unread_counts(db.session, user, found)
        return [{"incident_id": i.id, "ref": i.ref, "unread": counts[i.id]} for i in found if counts.get(i.id)]
