"""/api/v1/indicators: the numbers behind the coordinators' indicators page (coordinators only).

Definitions of each figure are in solidarity/incidents/indicators.py and the README.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from solidarity.api import current_api_user
from solidarity.clock import utcnow
from solidarity.errors import Forbidden
from solidarity.extensions import db
from solidarity.incidents import indicators

blp = Blueprint("indicators_api", __name__, url_prefix="/api/v1/indicators",
                description="How the network answers: incidents, acceptances, covered needs, offers")


class IndicatorsQuery(Schema):
    since = fields.Date(metadata={"description": "first UTC day of the window (YYYY-MM-DD); default: the "
                                                 "first day of the month eleven months before `until`"})
    until = fields.Date(metadata={"description": "last UTC day of the window, included; default: today"})


class MonthOut(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM (UTC)"})
    threat_type = fields.String(required=True)
    incidents = fields.Integer(required=True)


class FirstAcceptanceOut(Schema):
    incidents = fields.Integer(required=True, metadata={"description": "incidents filed in the window"})
    accepted = fields.Integer(required=True, metadata={"description": "of which a responder accepted"})
    median_seconds = fields.Float(required=True, allow_none=True,
                                  metadata={"description": "median time from filing to the first acceptance; "
                                                           "null when no incident had one"})
    p90_seconds = fields.Float(required=True, allow_none=True,
                               metadata={"description": "90th percentile of that time (nearest rank)"})


class AcceptanceOut(Schema):
    asked = fields.Integer(required=True, metadata={"description": "requests sent (notified matches)"})
    accepted = fields.Integer(required=True, metadata={"description": "accepted, including completed"})
    declined = fields.Integer(required=True)
    expired = fields.Integer(required=True)
    waiting = fields.Integer(required=True, metadata={"description": "not answered yet"})
    answered = fields.Integer(required=True, metadata={"description": "accepted + declined"})
    rate = fields.Float(required=True, allow_none=True, metadata={"description": "accepted / answered"})
    response_rate = fields.Float(required=True, allow_none=True, metadata={"description": "answered / asked"})


class NeedsCoveredOut(Schema):
    incidents = fields.Integer(required=True, metadata={"description": "filed in the window, not withdrawn"})
    every = fields.Integer(required=True, metadata={"description": "every need covered by an acceptance"})
    some = fields.Integer(required=True)
    none = fields.Integer(required=True)
    share = fields.Float(required=True, allow_none=True, metadata={"description": "every / incidents"})


class OfferCountOut(Schema):
    help_type = fields.String(required=True)
    region = fields.String(required=True, metadata={"description": "UN M49 sub-region code, or 'world'"})
    offers = fields.Integer(required=True, metadata={"description": "usable offers reaching the region"})


class IndicatorsOut(Schema):
    since = fields.Function(lambda i: i.window.since.isoformat(), required=True)
    until = fields.Function(lambda i: i.window.until.isoformat(), required=True)
    incidents_per_month = fields.List(fields.Nested(MonthOut), required=True,
                                      metadata={"description": "months and threat types with no incident are left out"})
    first_acceptance = fields.Nested(FirstAcceptanceOut, required=True)
    acceptance = fields.Nested(AcceptanceOut, required=True)
    needs_covered = fields.Nested(NeedsCoveredOut, required=True)
    offers = fields.List(fields.Nested(OfferCountOut), required=True,
                         metadata={"description": "as they stand now, whatever the window"})


@blp.route("")
class Indicators(MethodView):
    @blp.arguments(IndicatorsQuery, location="query")
    @blp.response(200, IndicatorsOut)
    def get(self, query):
        """The indicators for incidents filed in a window of whole UTC days (coordinators only)."""
        if not current_api_user().is_coordinator:
            raise Forbidden("only coordinators read the indicators")
        now = utcnow()
        win = indicators.window(query.get("since"), query.get("until"), now=now)
        return indicators.compute(db.session, win, now=now)
