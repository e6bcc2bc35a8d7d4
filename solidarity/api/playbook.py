"""/api/v1/playbook/plays: play versions to read, and the coordinators' drafting and publishing.

A list item is one play version; `{id}` is a version id, the same id an incident's
`play_version_id` holds.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from solidarity.api import current_api_user
from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.playbook import service
from solidarity.playbook.models import THREAT_TYPES, Actor, VersionStatus

blp = Blueprint("plays", __name__, url_prefix="/api/v1/playbook",
                description="The playbook: what to do, and who does it, for each threat type")


class StepIn(Schema):
    actor = fields.String(required=True, validate=validate.OneOf([a.value for a in Actor]))
    help_type = fields.String(allow_none=True, validate=validate.Length(max=40))
    text = fields.String(required=True, validate=validate.Length(max=service.MAX_STEP))
    checklist = fields.List(fields.String(validate=validate.Length(max=service.MAX_ITEM)),
                            validate=validate.Length(max=service.MAX_ITEMS))


class StepOut(Schema):
    id = fields.UUID(required=True)
    position = fields.Integer(required=True)
    actor = fields.Function(lambda s: s.actor.value, required=True,
                            metadata={"description": "affected, responders or coordinators"})
    help_type = fields.String(allow_none=True)
    text = fields.String(required=True)
    checklist = fields.List(fields.String(), required=True)


class VersionPatch(Schema):
    title = fields.String(validate=validate.Length(max=service.MAX_TITLE))
    summary = fields.String(validate=validate.Length(max=service.MAX_SUMMARY))
    help_types = fields.List(fields.String(validate=validate.Length(max=40)), validate=validate.Length(max=20))
    sources = fields.List(fields.String(validate=validate.Length(max=service.MAX_SOURCE)),
                          validate=validate.Length(max=service.MAX_SOURCES))
    steps = fields.List(fields.Nested(StepIn), validate=validate.Length(max=service.MAX_STEPS))


class PlayIn(VersionPatch):
    threat_type = fields.String(required=True, validate=validate.OneOf(THREAT_TYPES))
    title = fields.String(required=True, validate=validate.Length(max=service.MAX_TITLE))
    summary = fields.String(required=True, validate=validate.Length(max=service.MAX_SUMMARY))
    help_types = fields.List(fields.String(validate=validate.Length(max=40)), required=True,
                             validate=validate.Length(max=20))
    sources = fields.List(fields.String(validate=validate.Length(max=service.MAX_SOURCE)), required=True,
                          validate=validate.Length(max=service.MAX_SOURCES))
    steps = fields.List(fields.Nested(StepIn), required=True, validate=validate.Length(max=service.MAX_STEPS))


class VersionOut(Schema):
    id = fields.UUID(required=True)
    play_id = fields.UUID(required=True)
    slug = fields.Function(lambda v: v.play.slug, required=True)
    threat_type = fields.Function(lambda v: v.play.threat_type, required=True)
    number = fields.Integer(required=True)
    status = fields.Function(lambda v: v.status.value, required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    help_types = fields.List(fields.String(), required=True,
                             metadata={"description": "help types an incident following this play needs"})
    sources = fields.List(fields.String(), required=True)
    steps = fields.List(fields.Nested(StepOut), required=True)
    created_by = fields.Function(lambda v: str(v.created_by_id) if v.created_by_id else "system", required=True)
    reviewed_by_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    retired_at = fields.DateTime(allow_none=True)


class PlayQuery(Schema):
    threat_type = fields.String(validate=validate.OneOf(THREAT_TYPES))
    status = fields.String(validate=validate.OneOf([s.value for s in VersionStatus]),
                           metadata={"description": "coordinators only, except `published`"})


def _version(version_id):
    user = current_api_user()
    return user, service.get_version(db.session, user, version_id)


@blp.route("/plays")
class Plays(MethodView):
    @blp.arguments(PlayQuery, location="query")
    @blp.response(200, VersionOut(many=True))
    def get(self, query):
        """Play versions: published ones for members; drafts and versions in review too for coordinators."""
        return service.list_versions(db.session, current_api_user(), **query)

    @blp.arguments(PlayIn)
    @blp.response(201, VersionOut)
    def post(self, data):
        """Start a new play for a threat type; its version 1 is a draft (coordinators)."""
        threat_type = data.pop("threat_type")
        return service.draft_play(db.session, current_api_user(), threat_type, data, now=utcnow())


@blp.route("/plays/<uuid:version_id>")
class PlayVersionView(MethodView):
    @blp.response(200, VersionOut)
    def get(self, version_id):
        """One version; drafts are visible to coordinators only (404 to others)."""
        return _version(version_id)[1]

    @blp.arguments(VersionPatch)
    @blp.response(200, VersionOut)
    def patch(self, data, version_id):
        """Change a draft or a version in review (which goes back to draft). Published versions never change."""
        user, version = _version(version_id)
        return service.update_draft(db.session, user, version, data, now=utcnow())


@blp.route("/plays/<uuid:version_id>/drafts")
class Drafts(MethodView):
    @blp.response(201, VersionOut)
    def post(self, version_id):
        """Open the play's next version as a draft copy of its latest one (coordinators; one open draft)."""
        user, version = _version(version_id)
        return service.new_version(db.session, user, version.play, now=utcnow())


@blp.route("/plays/<uuid:version_id>/submit")
class Submit(MethodView):
    @blp.response(200, VersionOut)
    def post(self, version_id):
        """Submit a draft for review."""
        user, version = _version(version_id)
        return service.submit_for_review(db.session, user, version, now=utcnow())


@blp.route("/plays/<uuid:version_id>/publish")
class Publish(MethodView):
    @blp.response(200, VersionOut)
    def post(self, version_id):
        """Publish a version in review; the play's previous published version is retired.

        The publisher must not be its author, unless the network has only one active coordinator.
        """
        user, version = _version(version_id)
        return service.publish(db.session, user, version, now=utcnow())


@blp.route("/plays/<uuid:version_id>/retire")
class Retire(MethodView):
    @blp.response(200, VersionOut)
    def post(self, version_id):
        """Retire a published version without a successor."""
        user, version = _version(version_id)
        return service.retire(db.session, user, version, now=utcnow())
