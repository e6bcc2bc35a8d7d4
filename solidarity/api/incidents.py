"""/api/v1/incidents and /api/v1/matches: report incidents, follow them, answer requests for help.

Anyone who may not know an incident or match exists gets 404, not 403; 403 is for people who
can see it but not do that (a responder changing the status, a reporter answering for a responder).
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from solidarity.api import current_api_user
from solidarity.api.incident_schemas import IncidentIn, IncidentOut, IncidentPatch, IncidentQuery, MatchOut
from solidarity.api.schemas import ErrorSchema
from solidarity.clock import utcnow
from solidarity.errors import ValidationError
from solidarity.extensions import db
from solidarity.http import intake_allowances, within_allowances
from solidarity.incidents import service
from solidarity.incidents.service import IncidentDraft

blp = Blueprint("incidents_api", __name__, url_prefix="/api/v1",
                description="Incidents, the responders matched to them, and their answers")

_MEANING = {401: "no valid bearer token", 403: "you may see this but not do that",
            404: "no such record, or not one you may know of", 409: "not allowed in the current status",
            429: "too many reports from your account or organisation; nothing was filed",
            422: "invalid input; each error names its field"}


def errors(*codes: int):
    """Document our error body for each status code a route can answer with."""
    def decorate(func):
        for code in codes:
            func = blp.alt_response(code, schema=ErrorSchema, description=_MEANING[code])(func)
        return func
    return decorate


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.arguments(IncidentQuery, location="query")
    @blp.response(200, IncidentOut(many=True))
    @errors(401, 422)
    def get(self, query):
        """Incidents you may know of, newest first: your organisation's, those you were asked about;
        all for coordinators. Lists never carry encrypted fields: fetch one incident for those."""
        user = current_api_user()
        found = service.list_incidents(db.session, user, status=query.get("status"), limit=query["limit"])
        return [service.describe(db.session, user, incident) for incident in found]

    @blp.arguments(IncidentIn)
    @blp.response(201, IncidentOut)
    @errors(401, 403, 422, 429)
    def post(self, data):
        """Report an incident for your organisation; the first responders are asked at once. A 429
        carries Retry-After (seconds); a report refused for its input does not count against the limit."""
        user = current_api_user()
        draft = IncidentDraft(**data, channel="api")
        checked = []  # validate_draft's answer, for file_incident not to ask it again
        incident = within_allowances(
            intake_allowances(user),
            validate=lambda: checked.append(service.validate_draft(db.session, user, draft, now=utcnow())),
            act=lambda: service.file_incident(db.session, user, draft, now=utcnow(), checked=checked[0]))
        return service.reveal(db.session, user, incident, now=utcnow())


@blp.route("/incidents/<uuid:incident_id>")
class Incident(MethodView):
    @blp.response(200, IncidentOut)
    @errors(401, 404)
    def get(self, incident_id):
        """One incident, with the fields you may see. Showing encrypted fields to anyone but the
        reporting organisation is written to the audit trail."""
        user = current_api_user()
        incident, _ = service.visible_incident(db.session, user, incident_id)
        return service.reveal(db.session, user, incident, now=utcnow())

    @blp.arguments(IncidentPatch)
    @blp.response(200, IncidentOut)
    @errors(401, 403, 404, 409, 422)
    def patch(self, data, incident_id):
        """Change the status (with an optional note) or add a note: reporting organisation and coordinators."""
        user = current_api_user()
        incident, _ = service.visible_incident(db.session, user, incident_id)
        if data.get("status"):
            service.change_status(db.session, user, incident, data["status"], note=data.get("note"), now=utcnow())
        elif data.get("note"):
            service.add_note(db.session, user, incident, data["note"], now=utcnow())
        else:
            raise ValidationError("status", "give a new status, a note, or both")
        return service.reveal(db.session, user, incident, now=utcnow())


@blp.route("/incidents/<uuid:incident_id>/matches")
class IncidentMatches(MethodView):
    @blp.response(200, MatchOut(many=True))
    @errors(401, 404)
    def get(self, incident_id):
        """Who was asked, with score, reasons, wave and status. Responders see only their own."""
        user = current_api_user()
        incident, _ = service.visible_incident(db.session, user, incident_id)
        return service.visible_matches(db.session, user, incident)


def _answer(match_id, accept: bool):
    user = current_api_user()
    match = service.visible_match(db.session, user, match_id)
    return service.show_match(user, service.answer_match(db.session, user, match, accept, now=utcnow()))


@blp.route("/matches/<uuid:match_id>/accept")
class AcceptMatch(MethodView):
    @blp.response(200, MatchOut)
    @errors(401, 403, 404, 409)
    def post(self, match_id):
        """Take the case for your organisation: you then see what the reporter chose to disclose."""
        return _answer(match_id, True)


@blp.route("/matches/<uuid:match_id>/decline")
class DeclineMatch(MethodView):
    @blp.response(200, MatchOut)
    @errors(401, 403, 404, 409)
    def post(self, match_id):
        """Decline; the next candidate is asked at once."""
        return _answer(match_id, False)
