"""Request and response shapes. They check types; the domain services check meaning (codes, rules)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import object_session

from solidarity.clock import utcnow
from solidarity.geo import region_name
from solidarity.members import phones
from solidarity.offers.service import MAX_CAPACITY


class FieldErrorSchema(Schema):
    field = fields.String(required=True, metadata={"description": "dotted field name, '' for the request"})
    message = fields.String(required=True)


class ErrorSchema(Schema):
    errors = fields.List(fields.Nested(FieldErrorSchema), required=True)


class UserIn(Schema):
    name = fields.String(required=True, validate=validate.Length(max=200))
    email = fields.String(required=True, validate=validate.Length(max=320))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    preferred_language = fields.String(validate=validate.Length(max=8))
    notify_sms = fields.Boolean()
    notify_email = fields.Boolean()
    role = fields.String(validate=validate.OneOf(["org_admin", "member"]))
    password = fields.String(load_only=True, validate=validate.Length(max=1024))


class UserOut(Schema):
    id = fields.UUID(required=True)
    organisation_id = fields.UUID(allow_none=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(allow_none=True)
    preferred_language = fields.String(required=True)
    notify_sms = fields.Boolean(required=True)
    notify_email = fields.Boolean(required=True)
    role = fields.Function(lambda u: u.role.value, required=True)
    active = fields.Boolean(required=True)
    # `phone` is the proven number only; a number given since waits for its SMS code to come back.
    phone_pending = fields.Function(lambda u: phones.open_claim(object_session(u), u, now=utcnow()) is not None,
                                    required=True)


class OrganisationIn(Schema):
    name = fields.String(required=True, validate=validate.Length(max=200))
    country = fields.String(required=True, validate=validate.Length(max=8))
    languages = fields.List(fields.String(validate=validate.Length(max=8)), required=True,
                            validate=validate.Length(max=20))
    consent_share_contacts = fields.Boolean()
    admin = fields.Nested(UserIn, required=True)


class OrganisationPatch(Schema):
    name = fields.String(validate=validate.Length(max=200))
    country = fields.String(validate=validate.Length(max=8))
    languages = fields.List(fields.String(validate=validate.Length(max=8)), validate=validate.Length(max=20))
    consent_share_contacts = fields.Boolean()
    vetting_status = fields.String(validate=validate.OneOf(["applied", "vetted", "suspended"]))


class OrganisationOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True)
    region = fields.String(required=True)
    region_name = fields.Function(lambda o: region_name(o.region), required=True)
    languages = fields.List(fields.String(), required=True)
    vetting_status = fields.Function(lambda o: o.vetting_status.value, required=True)
    vetted_at = fields.DateTime(allow_none=True)
    vouched_by = fields.Function(lambda o: [str(v.voucher_id) for v in o.vouches], required=True)
    consent_share_contacts = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class OrganisationQuery(Schema):
    status = fields.String(validate=validate.OneOf(["applied", "vetted", "suspended", "rejected"]))


class OfferIn(Schema):
    help_type = fields.String(required=True, validate=validate.Length(max=40))
    countries = fields.List(fields.String(validate=validate.Length(max=8)), validate=validate.Length(max=250))
    regions = fields.List(fields.String(validate=validate.Length(max=8)), validate=validate.Length(max=30))
    worldwide = fields.Boolean()
    languages = fields.List(fields.String(validate=validate.Length(max=8)), required=True,
                            validate=validate.Length(max=20))
    # The range is the service's rule (checked with the other fields, so all errors come at once);
    # the schema only refuses non-integers such as 2.5, which marshmallow would otherwise truncate.
    capacity = fields.Integer(strict=True, metadata={"minimum": 1, "maximum": MAX_CAPACITY})
    active = fields.Boolean()
    notes = fields.String(allow_none=True, validate=validate.Length(max=4000))


class OfferPatch(OfferIn):
    help_type = fields.String(validate=validate.Length(max=40))
    languages = fields.List(fields.String(validate=validate.Length(max=8)), validate=validate.Length(max=20))


class OfferOut(Schema):
    id = fields.UUID(required=True)
    organisation_id = fields.UUID(required=True)
    help_type = fields.String(required=True)
    countries = fields.List(fields.String(), required=True)
    regions = fields.List(fields.String(), required=True)
    worldwide = fields.Boolean(required=True)
    languages = fields.List(fields.String(), required=True)
    capacity = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    notes = fields.String(allow_none=True)
    confirmed_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class SmsPinIn(Schema):
    pin = fields.String(required=True, validate=validate.Length(max=40),
                        metadata={"description": "4 to 8 digits; an empty string removes the PIN"})


class SmsPinOut(Schema):
    """Whether SMS reports and answers from the organisation's people must carry its PIN."""

    organisation_id = fields.UUID(required=True)
    sms_pin_required = fields.Boolean(required=True)


class LockdownOut(Schema):
    """An organisation's lockdown state; the counts say what locking it down did."""

    organisation_id = fields.UUID(required=True)
    locked_at = fields.DateTime(required=True, allow_none=True)
    sessions_ended = fields.Integer()
    tokens_revoked = fields.Integer()
    requests_withdrawn = fields.Integer()
    messages_queued = fields.Integer()
