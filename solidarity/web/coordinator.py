"""Coordinators vet the network: approve applicants, reject them, suspend members, reinstate them.

Suspending, locking down and rejecting first show what will happen (GET); only the POST, with its
CSRF token, does it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from solidarity.clock import utcnow
from solidarity.errors import Forbidden, ValidationError
from solidarity.extensions import db
from solidarity.incidents import lockdown
from solidarity.members import service
from solidarity.members.models import Vetting
from solidarity.web.forms import ActionForm, RejectForm, VettingForm

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

DONE = {Vetting.vetted: "{name} is a vetted member.", Vetting.suspended: "{name} is suspended.",
        Vetting.applied: "{name} is back among the applicants."}
# What each confirmation page says will happen, in the words of the person who has to decide.
SUSPEND = ["end every session and API token of its people at once",
           "stop them signing in, reporting and being asked for help until you reinstate it"]
LOCK_DOWN = ["end every session and API token of its people at once, and refuse their sign-ins and SMS",
             "withdraw its open requests for help and ask the responders helping it to pause",
             "last until a coordinator re-verifies the organisation"]
REJECT = ["take it off the list of applicants",
          "email its people that the application was not accepted; they read your reason when they sign in",
          "be recorded in the audit trail"]


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


def _confirm(org, form, *, question: str, consequences: list[str], button: str, status: int = 200,
             hidden: dict | None = None):
    fields = [form.reason] if isinstance(form, RejectForm) else []
    return render_template("confirm.html", form=form, fields=fields, question=question, name=org.name,
                           consequences=consequences, button=button, hidden=hidden or {},
                           action=request.path, back=url_for(".organisations")), status


def _done(message: str):
    # No #fragment: the page opens at its top, where the message is.
    flash(message)
    return redirect(url_for(".organisations"))


@bp.route("/organisations/<uuid:org_id>/vetting", methods=["GET", "POST"])
def vetting(org_id):
    org = service.get_organisation(db.session, org_id)
    form = VettingForm()
    if request.method == "GET":  # only suspending needs a confirmation; the list links here for it
        return _confirm(org, form, question="Suspend", consequences=SUSPEND, button="Suspend it",
                        hidden={"status": Vetting.suspended.value})
    if not form.validate_on_submit():
        abort(400, "the form expired; please try again")
    service.set_vetting(db.session, current_user, org, form.status.data or "", now=utcnow())
    return _done(DONE[org.vetting_status].format(name=org.name))


@bp.route("/organisations/<uuid:org_id>/reject", methods=["GET", "POST"])
def reject(org_id):
    org = service.get_organisation(db.session, org_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            service.reject_application(db.session, current_user, org, form.reason.data, now=utcnow())
        except ValidationError as exc:
            form.reason.errors = [e.message for e in exc.errors]
            return _confirm(org, form, question="Reject the application of", consequences=REJECT,
                            button="Reject the application", status=422)
        return _done(f"{org.name} is rejected: its people are told by email.")
    return _confirm(org, form, question="Reject the application of", consequences=REJECT,
                    button="Reject the application", status=400 if form.errors else 200)


@bp.route("/organisations/<uuid:org_id>/lockdown", methods=["GET", "POST"])
def lock_down(org_id):
    """The panic button for a seized device or a compromised member (see incidents/lockdown.py)."""
    org = service.get_organisation(db.session, org_id)
    form = ActionForm()
    if request.method == "GET":
        return _confirm(org, form, question="Lock down", consequences=LOCK_DOWN, button="Lock it down")
    if not form.validate_on_submit():
        abort(400, "the form expired; please try again")
    done = lockdown.lock_down(db.session, current_user, org, now=utcnow())
    return _done(f"{org.name} is locked down: {done['sessions_ended']} sessions and {done['tokens_revoked']} API "
                 f"tokens ended, {done['messages_queued']} messages to responders queued.")


@bp.post("/organisations/<uuid:org_id>/reverify")
def reverify(org_id):
    org = service.get_organisation(db.session, org_id)
    if not ActionForm().validate_on_submit():
        abort(400, "the form expired; please try again")
    lockdown.reverify(db.session, current_user, org, now=utcnow())
    return _done(f"{org.name} is re-verified: its people can sign in and report again.")
