"""Check-in pages: set one up for an incident, confirm "we are safe" with one button, stop it.

Thin views over escalation.checkins. The confirm button is the web twin of the SMS `OK <ref>`.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import IntegerField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from solidarity.clock import utcnow
from solidarity.errors import Forbidden, ValidationError
from solidarity.escalation import checkins
from solidarity.extensions import db, settings
from solidarity.incidents import access, service
from solidarity.matching.models import Match, MatchStatus
from solidarity.members.models import Organisation
from solidarity.members.service import by_name

bp = Blueprint("checkins", __name__)


class CheckInForm(FlaskForm):
    interval_hours = IntegerField("Check on us every (hours)", validators=[Optional()],
                                  render_kw={"min": checkins.INTERVAL_HOURS[0], "max": checkins.INTERVAL_HOURS[1]})
    grace_minutes = IntegerField("Then wait this long for our OK before raising the alarm (minutes)",
                                 validators=[Optional()],
                                 render_kw={"min": checkins.GRACE_MINUTES[0], "max": checkins.GRACE_MINUTES[1]})
    # Choices are not enforced here: the service checks them and names the field.
    responder_org_ids = SelectMultipleField("If we go silent, alert these responders as well as the coordinators",
                                            validate_choice=False, widget=ListWidget(prefix_label=False),
                                            option_widget=CheckboxInput())

    def show_errors(self, exc: ValidationError) -> None:
        for error in exc.errors:
            target = self._fields.get(error.field)
            (target.errors if target is not None else self.form_errors).append(error.message)


class ButtonForm(FlaskForm):
    """Confirm and stop carry nothing but the CSRF token."""


def _managed_incident(incident_id):
    incident, viewer = service.visible_incident(db.session, current_user, incident_id)
    if not access.can_change_status(viewer):
        raise Forbidden("only the reporting organisation and coordinators set up its check-ins")
    return incident


def _responder_choices(incident) -> list[SelectChoice]:
    """Organisations that took this case: they already know it, so alerting them discloses nothing new."""
    took = select(Match.organisation_id).where(Match.incident_id == incident.id,
                                              Match.status == MatchStatus.accepted)
    orgs = db.session.scalars(select(Organisation).where(Organisation.id.in_(took))
                              .options(selectinload(Organisation.data_key)))
    return [SelectChoice(str(org.id), org.name) for org in by_name(orgs)]


@bp.route("/incidents/<uuid:incident_id>/checkins", methods=["GET", "POST"])
@login_required
def for_incident(incident_id):
    incident = _managed_incident(incident_id)
    form = CheckInForm()
    form.responder_org_ids.choices = _responder_choices(incident)
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                checkin = checkins.request_checkins(
                    db.session, current_user, incident=incident, interval_hours=form.interval_hours.data,
                    grace_minutes=form.grace_minutes.data, responder_org_ids=form.responder_org_ids.data or [],
                    now=utcnow())
            except ValidationError as exc:
                form.show_errors(exc)
            else:
                return redirect(url_for("checkins.for_incident", incident_id=incident.id, started=checkin.ref))
        status = 422
    elif form.grace_minutes.data is None:
        form.grace_minutes.data = settings()["CHECKIN_GRACE_MINUTES"]
    running = checkins.visible_checkins(db.session, current_user, incident=incident)
    return render_template("checkins/incident.html", incident=incident, form=form, running=running,
                           button=ButtonForm(), started=request.args.get("started")), status


@bp.get("/checkins")
@login_required
def index():
    return render_template("checkins/index.html", rows=checkins.visible_checkins(db.session, current_user),
                           button=ButtonForm())


def _back(checkin):
    if checkin.incident_id is not None and current_user.organisation_id == checkin.organisation_id:
        return redirect(url_for("checkins.for_incident", incident_id=checkin.incident_id))
    return redirect(url_for("checkins.index"))


@bp.post("/checkins/<uuid:checkin_id>/confirm")
@login_required
def confirm(checkin_id):
    checkin = checkins.get_checkin(db.session, checkin_id)
    if ButtonForm().validate_on_submit():
        # By reference, as the SMS does: the service decides whether this user may confirm it.
        checkins.confirm_checkin(db.session, current_user, checkin.ref, now=utcnow())
    return _back(checkin)


@bp.post("/checkins/<uuid:checkin_id>/stop")
@login_required
def stop(checkin_id):
    checkin = checkins.get_checkin(db.session, checkin_id)
    if ButtonForm().validate_on_submit():
        checkins.stop_checkins(db.session, current_user, checkin, now=utcnow())
    return _back(checkin)
