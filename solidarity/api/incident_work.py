"""/api/v1/incidents/{id}/...: the workspace's actions for API clients: needs, the play's checklist,
after-action reviews. The same services and the same access rules as the web workspace."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from solidarity.api import current_api_user
from solidarity.api.schemas import ErrorSchema
from solidarity.clock import utcnow
from solidarity.errors import NotFound
from solidarity.extensions import db
from solidarity.incidents import reviews, service, workspace

blp = Blueprint("incident_work_api", __name__, url_prefix="/api/v1/incidents",
                description="What an incident still needs, its play's checklist, and its after-action reviews")

_MEANING = {401: "no valid bearer token", 403: "you may see this but not do that",
            404: "no such record, or not one you may know of", 409: "not allowed in the current status",
            422: "invalid input; each error names its field", 429: "too many posts in a short time; nothing written"}


def errors(*codes: int):
    def decorate(func):
        for code in codes:
            func = blp.alt_response(code, schema=ErrorSchema, description=_MEANING[code])(func)
        return func
    return decorate


def _incident(incident_id):
    user = current_api_user()
    return user, service.visible_incident(db.session, user, incident_id)[0]


class NeedIn(Schema):
    help_type = fields.String(required=True, validate=validate.Length(max=40))


class IncidentNeedOut(Schema):
    help_type = fields.String(required=True)
    state = fields.Function(lambda n: n.state.value, required=True,
                            metadata={"description": "seeking, covered or exhausted"})
    wave = fields.Integer(required=True)


class ChecklistStepOut(Schema):
    step_id = fields.Function(lambda s: str(s.step.id), required=True)
    position = fields.Function(lambda s: s.step.position, required=True)
    actor = fields.Function(lambda s: s.step.actor.value, required=True)
    help_type = fields.Function(lambda s: s.step.help_type, allow_none=True)
    text = fields.Function(lambda s: s.step.text, required=True)
    checklist = fields.Function(lambda s: list(s.step.checklist), required=True)
    done = fields.Boolean(required=True)
    done_at = fields.Function(lambda s: s.progress.done_at.isoformat() if s.done else None, allow_none=True)
    can_mark = fields.Boolean(required=True, metadata={"description": "whether you may tick or untick it"})


class ChecklistOut(Schema):
    play_version_id = fields.Function(lambda c: str(c.version.id), required=True,
                                      metadata={"description": "the version the incident was given"})
    title = fields.Function(lambda c: c.version.title, required=True)
    done = fields.Integer(required=True)
    steps = fields.List(fields.Nested(ChecklistStepOut), required=True)


class MarkIn(Schema):
    done = fields.Boolean(required=True)


class ReviewIn(Schema):
    subject_organisation_id = fields.UUID(required=True,
                                          metadata={"description": "the organisation whose part you review"})
    rating = fields.Integer(required=True, strict=True, metadata={"description": "1 (poor) to 5 (excellent)"})
    note = fields.String(allow_none=True, metadata={"description": "at most 1,000 characters; stored encrypted"})


class ReviewOut(Schema):
    id = fields.UUID(required=True)
    role = fields.Function(lambda r: r.role.value, required=True,
                           metadata={"description": "reporter (rating a responder) or responder"})
    author_organisation_id = fields.UUID(required=True)
    subject_organisation_id = fields.UUID(required=True)
    rating = fields.Integer(required=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


@blp.route("/<uuid:incident_id>/needs")
class Needs(MethodView):
    @blp.arguments(NeedIn)
    @blp.response(201, IncidentNeedOut)
    @errors(401, 403, 404, 409, 422)
    def post(self, data, incident_id):
        """Ask for one more kind of help (reporting organisation and coordinators); responders are asked at once."""
        user, incident = _incident(incident_id)
        return service.add_need(db.session, user, incident, data["help_type"], now=utcnow())


@blp.route("/<uuid:incident_id>/needs/<help_type>")
class Need(MethodView):
    @blp.response(204)
    @errors(401, 403, 404, 409, 422)
    def delete(self, incident_id, help_type):
        """Stop asking for a kind of help nobody has taken yet; its open requests are withdrawn."""
        user, incident = _incident(incident_id)
        service.remove_need(db.session, user, incident, help_type, now=utcnow())


@blp.route("/<uuid:incident_id>/checklist")
class Checklist(MethodView):
    @blp.response(200, ChecklistOut)
    @errors(401, 404)
    def get(self, incident_id):
        """The incident's play, as the version it was given, with each step's progress. 404 when it has
        no play, or for an organisation only asked to help (progress is incident data)."""
        user, incident = _incident(incident_id)
        found = workspace.checklist(db.session, user, incident)
        if found is None:
            raise NotFound("this incident has no checklist you may see", field="id")
        return found


@blp.route("/<uuid:incident_id>/checklist/<step_id>")
class ChecklistStep(MethodView):
    @blp.arguments(MarkIn)
    @blp.response(200, ChecklistOut)
    @errors(401, 403, 404, 409, 422)
    def put(self, data, incident_id, step_id):
        """Tick (done true) or untick one step: reporter and coordinators any step; responders
        that took the case the responders' steps. Not once the incident is closed or withdrawn (409)."""
        user, incident = _incident(incident_id)
        workspace.mark(db.session, user, incident, step_id, data["done"], now=utcnow())
        return workspace.checklist(db.session, user, incident)


@blp.route("/<uuid:incident_id>/reviews")
class Reviews(MethodView):
    @blp.response(200, ReviewOut(many=True))
    @errors(401, 404)
    def get(self, incident_id):
        """After-action reviews: all for coordinators, those your organisation wrote for anyone else."""
        user, incident = _incident(incident_id)
        return reviews.visible_reviews(db.session, user, incident)

    @blp.arguments(ReviewIn)
    @blp.response(201, ReviewOut)
    @errors(401, 403, 404, 409, 422)
    def post(self, data, incident_id):
        """Review a resolved incident: the reporting organisation rates each responder that took the case
        (the rating counts in matching); each such responder rates the case with the reporter."""
        user, incident = _incident(incident_id)
        return reviews.leave_review(db.session, user, incident, data["subject_organisation_id"], data["rating"],
                                    data.get("note"), now=utcnow())
