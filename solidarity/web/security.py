"""Two-factor set-up, and the account controls a lost phone or a departure calls for: a coordinator
resets someone's two-factor, an organisation admin or a coordinator disables an account.

Coordinators must have two-factor on: until they do, every page sends them to set it up.
"""
from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import StringField

from solidarity import audit
from solidarity.clock import utcnow
from solidarity.errors import Forbidden, ValidationError
from solidarity.extensions import db
from solidarity.http import domain_error, wants_json
from solidarity.members import auth as auth_service
from solidarity.members import service, twofactor
from solidarity.web.forms import ActionForm, ServiceForm

bp = Blueprint("security", __name__)

# What a coordinator without two-factor may still reach: the set-up page itself, signing out, and
# the static files these pages need.
_BEFORE_ENROLMENT = {"security.two_factor", "auth.logout", "static"}


class EnrolForm(ServiceForm):
    code = StringField("Code from the app", render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ActiveForm(ActionForm):
    active = StringField()  # the value of the button pressed: "1" to enable, "0" to disable


@bp.before_app_request
def _coordinators_enrol_first():
    if (current_user.is_authenticated and current_user.is_coordinator and not current_user.two_factor_enabled
            and request.endpoint not in _BEFORE_ENROLMENT and not wants_json()):
        flash("Coordinators sign in with a second factor. Set it up to continue.")
        return redirect(url_for("security.two_factor"))
    return None


@bp.app_errorhandler(Forbidden)
def _denied(exc: Forbidden):
    """Every refusal, on a page or in the API, is an audit event: probing for other organisations'
    records is how a compromised account shows itself. The route's pattern and the ids in it are
    recorded, never the raw path, which can hold a signed link's token."""
    response = domain_error(exc)  # rolls back whatever the refused request had pending
    actor = g.get("api_user") or (current_user if current_user.is_authenticated else "anonymous")
    ids = {key: str(value) for key, value in (request.view_args or {}).items() if key.endswith("_id")}
    audit.record(db.session, actor, "access.denied", at=utcnow(), method=request.method,
                 route=request.url_rule.rule if request.url_rule else None, reason=exc.message[:200], **ids)
    db.session.commit()
    return response


def qr_data_uri(text: str) -> str:
    """The QR code as an SVG data URI: an <img> the strict CSP allows (img-src data:), no script."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    if current_user.two_factor_enabled:
        return render_template("security/two_factor_on.html",
                               left=twofactor.recovery_codes_left(db.session, current_user))
    form = EnrolForm()
    codes = form.submit(lambda: twofactor.confirm_enrolment(db.session, current_user, form.code.data, now=utcnow()))
    if codes is not None:
        return render_template("security/recovery_codes.html", codes=codes)
    secret = twofactor.begin_enrolment(db.session, current_user, now=utcnow())
    uri = twofactor.provisioning_uri(current_user, secret)
    return render_template("security/enrol.html", form=form, secret=secret, qr=qr_data_uri(uri)), form.status


@bp.post("/users/<uuid:user_id>/two-factor/reset")
@login_required
def reset_two_factor(user_id):
    user = service.get_user(db.session, user_id)
    if not ActionForm().validate_on_submit():
        abort(400, "the form expired; please try again")
    ended = twofactor.reset(db.session, current_user, user, now=utcnow())
    flash(f"Two-factor sign-in of {user.name} is reset; {ended} session(s) ended. "
          "They can set it up again after signing in.")
    return redirect(_people_url(user))


@bp.post("/users/<uuid:user_id>/active")
@login_required
def set_active(user_id):
    user = service.get_user(db.session, user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400, "the form expired; please try again")
    if form.active.data not in ("0", "1"):
        raise ValidationError("active", "must be 1 (enable) or 0 (disable)")
    auth_service.set_active(db.session, current_user, user, form.active.data == "1", now=utcnow())
    flash(f"{user.name} can sign in again." if user.active else
          f"{user.name} is disabled: every session and API token of theirs has ended.")
    return redirect(_people_url(user))


def _people_url(user) -> str:
    if user.organisation_id is None:
        return url_for("home.index")
    return url_for("members.organisation", org_id=user.organisation_id)  # opens at the top, where the message is
