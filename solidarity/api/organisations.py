"""/api/v1/organisations: the member directory, vetting, and each organisation's people and offers."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from solidarity.api import current_api_user
from solidarity.api.schemas import (
    LockdownOut,
    OfferIn,
    OfferOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    OrganisationQuery,
    SmsPinIn,
    SmsPinOut,
    UserIn,
    UserOut,
)
from solidarity.clock import utcnow
from solidarity.errors import Forbidden, NotFound
from solidarity.extensions import db
from solidarity.incidents import lockdown
from solidarity.members import access, service
from solidarity.members.models import Vetting
from solidarity.offers import service as offers

blp = Blueprint("organisations", __name__, url_prefix="/api/v1/organisations",
                description="Member organisations, their people and their offers")


def _visible_org(org_id):
    """Members see vetted organisations and their own; coordinators see all. Others are 404."""
    user = current_api_user()
    org = service.get_organisation(db.session, org_id)
    if not (user.is_coordinator or access.is_member_of(user, org.id) or org.vetting_status is Vetting.vetted):
        raise NotFound("no such organisation", field="id")
    return user, org


@blp.route("")
class Organisations(MethodView):
    @blp.arguments(OrganisationQuery, location="query")
    @blp.response(200, OrganisationOut(many=True))
    def get(self, query):
        """List organisations: all for coordinators, vetted ones and your own for members."""
        user = current_api_user()
        orgs = service.list_organisations(db.session, status=query.get("status"))
        return [o for o in orgs if user.is_coordinator or o.vetting_status is Vetting.vetted
                or access.is_member_of(user, o.id)]

    @blp.arguments(OrganisationIn)
    @blp.response(201, OrganisationOut)
    def post(self, data):
        """Register an applicant organisation with its first admin (coordinators only)."""
        user = current_api_user()
        if not user.is_coordinator:
            raise Forbidden("only coordinators register organisations through the API; others apply on the web")
        admin = data.pop("admin")
        return service.register_organisation(db.session, data, admin, actor=user, now=utcnow())


@blp.route("/<uuid:org_id>")
class Organisation(MethodView):
    @blp.response(200, OrganisationOut)
    def get(self, org_id):
        return _visible_org(org_id)[1]

    @blp.arguments(OrganisationPatch)
    @blp.response(200, OrganisationOut)
    def patch(self, data, org_id):
        """Change the profile (its admins, coordinators); `vetting_status` is for coordinators."""
        user, org = _visible_org(org_id)
        return service.update_organisation(db.session, user, org, data, now=utcnow())


@blp.route("/<uuid:org_id>/vouch")
class Vouch(MethodView):
    @blp.response(200, OrganisationOut)
    def post(self, org_id):
        """Vouch for an applicant as an admin of a vetted organisation; two vouches vet it."""
        user = current_api_user()
        return service.vouch(db.session, user, service.get_organisation(db.session, org_id), now=utcnow())


@blp.route("/<uuid:org_id>/users")
class Users(MethodView):
    @blp.response(200, UserOut(many=True))
    def get(self, org_id):
        """People of the organisation with their contacts: its own members and coordinators only."""
        user, org = _visible_org(org_id)
        if not access.can_read_contacts(user, org.id):
            raise Forbidden("you cannot read this organisation's contacts")
        return org.users

    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, data, org_id):
        user, org = _visible_org(org_id)
        return service.add_user(db.session, user, org, data, now=utcnow())


@blp.route("/<uuid:org_id>/offers")
class Offers(MethodView):
    @blp.response(200, OfferOut(many=True))
    def get(self, org_id):
        user, org = _visible_org(org_id)
        if not (user.is_coordinator or access.is_member_of(user, org.id)):
            raise Forbidden("you cannot read this organisation's offers")
        return offers.list_offers(db.session, org)

    @blp.arguments(OfferIn)
    @blp.response(201, OfferOut)
    def post(self, data, org_id):
        user, org = _visible_org(org_id)
        return offers.create_offer(db.session, user, org, data, now=utcnow())


@blp.route("/<uuid:org_id>/sms-pin")
class SmsPin(MethodView):
    @staticmethod
    def _set(org_id, pin):
        user, org = _visible_org(org_id)
        service.set_sms_pin(db.session, user, org, pin, now=utcnow())
        return {"organisation_id": org.id, "sms_pin_required": org.sms_pin_hash is not None}

    @blp.arguments(SmsPinIn)
    @blp.response(200, SmsPinOut)
    def put(self, data, org_id):
        """Require this PIN in every SMS report and YES/NO answer from the organisation's people
        (its admins, coordinators; audited). The PIN is stored hashed and never shown again."""
        return self._set(org_id, data["pin"])

    @blp.response(200, SmsPinOut)
    def delete(self, org_id):
        """Stop asking for a PIN (its admins, coordinators; audited)."""
        return self._set(org_id, None)


@blp.route("/<uuid:org_id>/lockdown")
class Lockdown(MethodView):
    @staticmethod
    def _target(org_id):
        user = current_api_user()
        if not user.is_coordinator:  # before the lookup: no one else learns which ids exist
            raise Forbidden("only coordinators lock organisations down or re-verify them")
        return user, service.get_organisation(db.session, org_id)

    @blp.response(200, LockdownOut)
    def post(self, org_id):
        """Lock the organisation down (a seized device, a compromised member), coordinators only:
        its sessions and tokens end, its logins see nothing, its SMS is not trusted, responders
        helping it are told to wait."""
        user, org = self._target(org_id)
        done = lockdown.lock_down(db.session, user, org, now=utcnow())
        return {"organisation_id": org.id, "locked_at": org.locked_at, **done}

    @blp.response(200, LockdownOut)
    def delete(self, org_id):
        """Lift the lockdown once the organisation and its numbers are re-verified (coordinators only)."""
        user, org = self._target(org_id)
        lockdown.reverify(db.session, user, org, now=utcnow())
        return {"organisation_id": org.id, "locked_at": None}
