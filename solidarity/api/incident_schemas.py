"""Shapes of incidents and matches in the API. They check types; incidents.service checks meaning.

Output schemas list every field any viewer may get; each response carries only those the caller
may see (incidents.access), so a field missing from a response means "not yours to see".
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from solidarity.incidents.models import Status

STATUSES = [s.value for s in Status]


class IncidentIn(Schema):
    threat_type = fields.String(required=True, validate=validate.Length(max=40),
                                metadata={"description": "deregistration, media_attack, raid, asset_freeze, "
                                                         "expulsion, detention, political_upheaval or other"})
    severity = fields.Integer(required=True, strict=True,
                              metadata={"description": "1 watch, 2 serious, 3 urgent, 4 life or liberty at risk"})
    country = fields.String(required=True, validate=validate.Length(max=8),
                            metadata={"description": "ISO 3166-1 alpha-2 code of where it happens"})
    needs = fields.List(fields.String(validate=validate.Length(max=40)), validate=validate.Length(max=20),
                        load_default=list,
                        metadata={"description": "help types; empty: those the play for the threat type calls for"})
    summary = fields.String(allow_none=True, metadata={"description": "at most 500 characters; stored encrypted"})
    details = fields.String(allow_none=True, metadata={"description": "at most 20,000 characters; stored encrypted"})
    disclosure = fields.List(fields.String(validate=validate.Length(max=20)), validate=validate.Length(max=10),
                             load_default=list,
                             metadata={"description": "what a responder who accepts may see: summary, details, "
                                                      "contact"})
    occurred_at = fields.AwareDateTime(allow_none=True)
    contact_user_id = fields.UUID(allow_none=True,
                                  metadata={"description": "a person of your organisation; default: you"})


class IncidentPatch(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    note = fields.String(allow_none=True, metadata={"description": "at most 2,000 characters; stored encrypted"})


class IncidentQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=100)


class NeedOut(Schema):
    help_type = fields.String(required=True)
    state = fields.String(metadata={"description": "seeking, covered or exhausted"})
    wave = fields.Integer()
    next_wave_at = fields.DateTime(allow_none=True)


class OrganisationRef(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)


class ContactOut(Schema):
    name = fields.String(required=True)
    phone = fields.String(allow_none=True)
    email = fields.String(required=True)


class TimelineOut(Schema):
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    actor = fields.String(required=True)
    data = fields.Dict(required=True)
    note = fields.String(allow_none=True)


class IncidentOut(Schema):
    viewer = fields.String(required=True,
                           metadata={"description": "how you see it: coordinator, reporter, accepted or asked"})
    id = fields.UUID(required=True)
    ref = fields.String(required=True, metadata={"description": "reference code used in SMS"})
    threat_type = fields.String(required=True)
    severity = fields.Integer(required=True)
    country = fields.String(required=True)
    needs = fields.List(fields.Nested(NeedOut), required=True)
    region = fields.String()
    status = fields.String()
    channel = fields.String()
    occurred_at = fields.DateTime(allow_none=True)
    disclosure = fields.List(fields.String())
    organisation = fields.Nested(OrganisationRef)
    summary = fields.String(allow_none=True)
    details = fields.String(allow_none=True)
    contact = fields.Nested(ContactOut, allow_none=True)
    timeline = fields.List(fields.Nested(TimelineOut))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class MatchOut(Schema):
    id = fields.UUID(required=True)
    incident_id = fields.UUID(required=True)
    help_type = fields.String(required=True)
    organisation_id = fields.UUID(required=True)
    organisation_name = fields.Function(lambda m: m.organisation.name, required=True)
    wave = fields.Integer(required=True)
    score = fields.Float(required=True, allow_none=True,
                         metadata={"description": "coordinators only (null for others): it counts the ratings in"})
    reasons = fields.List(fields.String(), required=True,
                          metadata={"description": "why it was asked, in words; ratings for coordinators only"})
    status = fields.Function(lambda m: m.status.value, required=True,
                             metadata={"description": "proposed, notified, accepted, declined, expired, completed"})
    created_at = fields.DateTime(required=True)
    answered_at = fields.DateTime(allow_none=True)
