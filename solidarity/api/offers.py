"""/api/v1/offers/{id}: change or withdraw one offer."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from solidarity.api import current_api_user
from solidarity.api.schemas import OfferOut, OfferPatch
from solidarity.clock import utcnow
from solidarity.errors import NotFound
from solidarity.extensions import db
from solidarity.members import access
from solidarity.offers import service as offers

blp = Blueprint("offers_api", __name__, url_prefix="/api/v1/offers", description="Offers of help")


def _own_offer(offer_id):
    user = current_api_user()
    offer = offers.get_offer(db.session, offer_id)
    if not (user.is_coordinator or access.is_member_of(user, offer.organisation_id)):
        raise NotFound("no such offer", field="id")  # do not confirm that another org's offer exists
    return user, offer


@blp.route("/<uuid:offer_id>")
class Offer(MethodView):
    @blp.arguments(OfferPatch)
    @blp.response(200, OfferOut)
    def patch(self, data, offer_id):
        user, offer = _own_offer(offer_id)
        return offers.update_offer(db.session, user, offer, data, now=utcnow())

    @blp.response(204)
    def delete(self, offer_id):
        user, offer = _own_offer(offer_id)
        offers.withdraw_offer(db.session, user, offer, now=utcnow())
