"""Joining the network, one's organisation (profile, people, offers), one's account, and vouching.

Thin views: a form, one service call, then a redirect, or the form again with each error beside
its field (422). The services decide who may change what; the views only refuse early to show a
form that could never be sent.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from solidarity.clock import utcnow
from solidarity.errors import Conflict, Forbidden
from solidarity.escalation.freshness import offer_expires_at
from solidarity.extensions import db, limiter
from solidarity.geo import country_name, region_name
from solidarity.members import access, phones, service
from solidarity.members import auth as auth_service
from solidarity.members.models import Organisation, User, Vetting
from solidarity.notify import links
from solidarity.offers import service as offers
from solidarity.web.forms import (
    AccountForm,
    ActionForm,
    ApplyForm,
    NewUserForm,
    OrganisationForm,
    PasswordForm,
    PhoneCodeForm,
    PinForm,
    language_name,
)

bp = Blueprint("members", __name__)


@bp.app_template_filter("country_name")
def _country_name(code: str) -> str:
    return country_name(code)


@bp.app_template_filter("region_name")
def _region_name(code: str) -> str:
    return region_name(code)


@bp.app_template_filter("language_names")
def _language_names(codes) -> str:
    return ", ".join(language_name(code) for code in codes)


def _apply_limit() -> str:
    return current_app.config["APPLY_RATE_LIMIT"]


@bp.route("/apply", methods=["GET", "POST"])
@limiter.limit(_apply_limit, methods=["POST"])
def apply():
    form = ApplyForm()
    # A coordinator may register an organisation on its behalf; the audit trail then names them.
    actor = current_user if current_user.is_authenticated and current_user.is_coordinator else None
    # The same answer whether the address is registered or not (its owner is told by email instead).
    name = form.submit(lambda: service.apply(db.session, form.org_data(), form.admin_data(), actor=actor,
                                             now=utcnow()))
    if name is not None:
        flash(f"Thank you: {name} has applied to join. We sent you an email: follow its link to confirm your "
              "address, then sign in and add your offers. A coordinator, or two member organisations vouching "
              "for you, will vet the application.")
        return redirect(url_for("coordinator.organisations") if actor else url_for("auth.login"))
    return render_template("members/apply.html", form=form), form.status


@bp.route(links.CONFIRM_PATH + "<token>", methods=["GET", "POST"])
def confirm_email(token):
    """The link emailed to an applicant. A GET only shows a button (mail scanners follow links)."""
    user = db.session.get(User, links.read_confirm_token(current_app.config["SECRET_KEY"], token, now=utcnow()))
    if user is None:
        raise links.BadLink("this link is not valid")
    form = ActionForm()
    if form.validate_on_submit():
        service.confirm_email(db.session, user, now=utcnow())
        flash("Your email address is confirmed. Sign in with the password you chose.")
        return redirect(url_for("auth.login"))
    return render_template("members/confirm_email.html", form=form, token=token), 200 if not form.errors else 400


def organisation_url(org: Organisation) -> str:
    if current_user.organisation_id == org.id:
        return url_for("members.my_organisation")
    return url_for("members.organisation", org_id=org.id)


def readable_org(org_id: uuid.UUID) -> Organisation:
    org = service.get_organisation(db.session, org_id)
    if not access.can_read_contacts(current_user, org.id):
        raise Forbidden("only the organisation's own people and the coordinators see this page")
    return org


def managed_org(org_id: uuid.UUID) -> Organisation:
    org = service.get_organisation(db.session, org_id)
    if not access.can_manage_org(current_user, org.id):
        raise Forbidden("only the organisation's admins and the coordinators change it")
    return org


def _show(org: Organisation):
    return render_template(
        "members/organisation.html", org=org, own=current_user.organisation_id == org.id,
        users=sorted(org.users, key=lambda u: (not u.active, u.name.casefold())),
        offers=offers.list_offers(db.session, org), expires_at=offer_expires_at, now=utcnow(),
        can_manage=access.can_manage_org(current_user, org.id), action=ActionForm())


@bp.get("/organisation")
@login_required
def my_organisation():
    if current_user.organisation is None:  # coordinators belong to the network, not to one member
        return redirect(url_for("coordinator.organisations"))
    return _show(current_user.organisation)


@bp.get("/organisations/<uuid:org_id>")
@login_required
def organisation(org_id):
    return _show(readable_org(org_id))


@bp.route("/organisations/<uuid:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(org_id):
    org = managed_org(org_id)
    form = OrganisationForm().fill(org)
    if form.submit(lambda: service.update_organisation(db.session, current_user, org, form.org_data(),
                                                       now=utcnow())):
        flash("The profile is saved.")
        return redirect(organisation_url(org))
    return render_template("members/edit.html", form=form, org=org), form.status


@bp.route("/organisations/<uuid:org_id>/sms-pin", methods=["GET", "POST"])
@login_required
def sms_pin(org_id):
    org = managed_org(org_id)
    form = PinForm()
    if form.submit(lambda: service.set_sms_pin(db.session, current_user, org, form.pin.data, now=utcnow())):
        flash("SMS reports and answers now need the PIN." if org.sms_pin_hash else "SMS no longer needs a PIN.")
        return redirect(organisation_url(org))
    return render_template("members/sms_pin.html", form=form, org=org), form.status


@bp.route("/organisations/<uuid:org_id>/users/new", methods=["GET", "POST"])
@login_required
def new_user(org_id):
    org = managed_org(org_id)
    form = NewUserForm()
    user = form.submit(lambda: service.add_user(db.session, current_user, org, form.user_data(), now=utcnow()))
    if user is not None:
        flash(f"{user.name} can now sign in with {user.email} and the first password you chose. "
              "Give it to them in person; they change it under My account.")
        return redirect(organisation_url(org))  # no #fragment: the page opens at the top, where the message is
    return render_template("members/new_user.html", form=form, org=org), form.status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm().fill(current_user)
    if form.submit(lambda: service.update_user(db.session, current_user, current_user, form.user_data(),
                                               now=utcnow())):
        flash("Your account is saved.")
        return redirect(url_for("members.account"))
    return _account_page(form, PhoneCodeForm(formdata=None, prefix="confirm"))


def _account_page(form, code_form):
    pending = phones.open_claim(db.session, current_user, now=utcnow()) is not None
    return render_template("members/account.html", form=form, code_form=code_form, pending_phone=pending), \
        max(form.status, code_form.status)


@bp.post("/account/phone")
@login_required
def confirm_phone():
    """The code texted to a new number: until it comes back the number gets no alerts and its SMS
    count for no one (members/phones.py)."""
    code_form = PhoneCodeForm(prefix="confirm")
    if code_form.submit(lambda: phones.confirm(db.session, current_user, code_form.code.data, now=utcnow())):
        flash("Your phone number is confirmed: urgent requests now come to it by SMS.")
        return redirect(url_for("members.account"))
    return _account_page(AccountForm(formdata=None).fill(current_user, always=True), code_form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.submit(lambda: auth_service.change_password(
            db.session, current_user, form.current_password.data, form.password.data, now=utcnow(),
            keep_session=current_user.get_id())):
        flash("Your password is changed, and every other device you were signed in on is signed out.")
        return redirect(url_for("members.account"))
    return render_template("members/password.html", form=form), form.status


def _require_voucher() -> None:
    if not access.can_vouch(current_user):
        raise Forbidden("only admins of vetted member organisations vouch for applicants")


@bp.get("/applicants")
@login_required
def applicants():
    _require_voucher()
    found = service.list_organisations(db.session, status=Vetting.applied.value)
    return render_template("members/applicants.html", applicants=found, action=ActionForm(),
                           mine=current_user.organisation_id)


@bp.post("/applicants/<uuid:org_id>/vouch")
@login_required
def vouch(org_id):
    _require_voucher()
    applicant = service.get_organisation(db.session, org_id)
    if ActionForm().validate_on_submit():
        try:
            service.vouch(db.session, current_user, applicant, now=utcnow())
        except Conflict as exc:
            db.session.rollback()
            flash(f"{applicant.name}: {exc.message}.")
        else:
            missing = service.VOUCHES_TO_VET - len(applicant.vouches)
            flash(f"{applicant.name} is now a vetted member." if applicant.vetting_status is Vetting.vetted
                  else f"You vouched for {applicant.name}. It is vetted after {missing} more vouch(es) from "
                       "other members, or a coordinator's approval.")
    else:
        flash("The form expired; please try again.")
    return redirect(url_for("members.applicants"))
