"""An organisation's offers: add, edit, confirm as still current, withdraw. Thin views over offers.service."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template
from flask_login import current_user, login_required

from solidarity.clock import utcnow
from solidarity.errors import Forbidden
from solidarity.extensions import db
from solidarity.members import access
from solidarity.offers import service
from solidarity.offers.models import Offer
from solidarity.web.forms import ActionForm, OfferForm
from solidarity.web.members import managed_org, organisation_url

bp = Blueprint("offers", __name__)


def _managed_offer(offer_id) -> Offer:
    offer = service.get_offer(db.session, offer_id)
    if not access.can_manage_org(current_user, offer.organisation_id):
        raise Forbidden("only the organisation's admins and the coordinators change its offers")
    return offer


def _label(offer: Offer) -> str:
    return offer.help_type.replace("_", " ")


def _back(offer: Offer):
    return redirect(organisation_url(offer.organisation))  # opens at the top, where the message is


@bp.route("/organisations/<uuid:org_id>/offers/new", methods=["GET", "POST"])
@login_required
def new(org_id):
    org = managed_org(org_id)
    form = OfferForm().fill_defaults(org)
    offer = form.submit(lambda: service.create_offer(db.session, current_user, org,
                                                     form.offer_data(with_active=False), now=utcnow()))
    if offer is not None:
        flash(f"Your {_label(offer)} offer is listed. Matching asks you when an incident needs it.")
        return _back(offer)
    return render_template("offers/edit.html", form=form, org=org, offer=None), form.status


@bp.route("/offers/<uuid:offer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(offer_id):
    offer = _managed_offer(offer_id)
    form = OfferForm().fill(offer)
    if form.submit(lambda: service.update_offer(db.session, current_user, offer,
                                                form.offer_data(with_active=True), now=utcnow())):
        flash(f"The {_label(offer)} offer is saved and counts as confirmed from today.")
        return _back(offer)
    return render_template("offers/edit.html", form=form, org=offer.organisation, offer=offer), form.status


@bp.post("/offers/<uuid:offer_id>/confirm")
@login_required
def confirm(offer_id):
    offer = _managed_offer(offer_id)
    if not ActionForm().validate_on_submit():
        abort(400, "the form expired; please try again")
    service.confirm_offer(db.session, current_user, offer, now=utcnow())
    flash(f"Thank you: the {_label(offer)} offer is confirmed as current.")
    return _back(offer)


@bp.route("/offers/<uuid:offer_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(offer_id):
    """GET asks first (no script for a confirm() box); the POST withdraws."""
    offer = _managed_offer(offer_id)
    form = ActionForm()
    if form.validate_on_submit():
        back = _back(offer)
        service.withdraw_offer(db.session, current_user, offer, now=utcnow())
        flash(f"The {_label(offer)} offer is withdrawn: matching no longer asks you for it.")
        return back
    return render_template("offers/withdraw.html", form=form, offer=offer,
                           back=organisation_url(offer.organisation)), 400 if form.errors else 200
