"""/api/v1/incidents/{id}/notifications: every message about an incident and how it fared (coordinators)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from solidarity.api import current_api_user
from solidarity.errors import Forbidden
from solidarity.extensions import db
from solidarity.incidents import service as incidents
from solidarity.notify import service as notify

blp = Blueprint("notifications_api", __name__, url_prefix="/api/v1",
                description="Delivery of SMS and email about an incident")


class NotificationOut(Schema):
    id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    recipient = fields.Function(lambda n: n.user.name, required=True)
    channel = fields.Function(lambda n: n.channel.value, required=True)
    template = fields.String(required=True)
    status = fields.Function(lambda n: n.status.value, required=True)
    failure = fields.Function(lambda n: n.failure.value if n.failure else None, allow_none=True,
                              metadata={"description": "why it failed: permanent, retries_spent, ambiguous, "
                                                       "undelivered, opted_out, no_address, inactive"})
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    match_id = fields.UUID(allow_none=True)
    fallback_of_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


@blp.route("/incidents/<uuid:incident_id>/notifications")
class IncidentNotifications(MethodView):
    @blp.response(200, NotificationOut(many=True))
    def get(self, incident_id):
        """Each notification about the incident: channel, status, attempts, last error (coordinators only)."""
        user = current_api_user()
        if not user.is_coordinator:
            raise Forbidden("only coordinators see delivery records")
        incident = incidents.get_incident(db.session, incident_id)
        return notify.for_incident(db.session, incident.id)
