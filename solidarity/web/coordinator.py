"""Coordinators vet the network: approve applicants, suspend members, reinstate them."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from solidarity.clock import utcnow
from solidarity.errors import Forbidden
from solidarity.extensions import db
from solidarity.incidents import lockdown
from solidarity.members import service
from solidarity.members.models import Vetting
from solidarity.web.forms import ActionForm, VettingForm

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

DONE = {Vetting.vetted: "{name} is a vetted member.", Vetting.suspended: "{name} is suspended.",
        Vetting.applied: "{name} is back among the applicants."}


@bp.before_request
@login_required
def _coordinators_only():
    if not current_user.is_coordinator:
        raise Forbidden("only coordinators vet organisations")


@bp.get("/organisations")
def organisations():
    by_status = {status: service.list_organisations(db.session, status=status.value) for status in Vetting}
    return render_template("coordinator/organisations.html", by_status=by_status, Vetting=Vetting,
                           action=VettingForm(), vouches_to_vet=service.VOUCHES_TO_VET)


@bp.post("/organisations/<uuid:org_id>/vetting")
def vetting(org_id):
    org = service.get_organisation(db.session, org_id)
    form = VettingForm()
    if not form.validate_on_submit():
        abort(400, "the form expired; please try again")
    service.set_vetting(db.session, current_user, org, form.status.data or "", now=utcnow())
    flash(DONE[org.vetting_status].format(name=org.name))
    return redirect(url_for(".organisations") + f"#{org.vetting_status.value}")


@bp.post("/organisations/<uuid:org_id>/lockdown")
def lock_down(org_id):
    """The panic button for a seized device or a compromised member (see incidents/lockdown.py)."""
    org = service.get_organisation(db.session, org_id)
    if not ActionForm().validate_on_submit():
        abort(400, "the form expired; please try again")
    done = lockdown.lock_down(db.session, current_user, org, now=utcnow())
    flash(f"{org.name} is locked down: {done['sessions_ended']} sessions and {done['tokens_revoked']} API tokens "
          f"ended, {done['messages_queued']} messages to responders queued.")
    return redirect(url_for(".organisations") + f"#{org.vetting_status.value}")


@bp.post("/organisations/<uuid:org_id>/reverify")
def reverify(org_id):
    org = service.get_organisation(db.session, org_id)
    if not ActionForm().validate_on_submit():
        abort(400, "the form expired; please try again")
    lockdown.reverify(db.session, current_user, org, now=utcnow())
    flash(f"{org.name} is re-verified: its people can sign in and report again.")
    return redirect(url_for(".organisations") + f"#{org.vetting_status.value}")
