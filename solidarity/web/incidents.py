"""Incident pages: report one, list the ones you may know of, and the workspace where people follow
one and act on it (its play as a checklist, matches, updates, needs, status, reviews).

Thin views over incidents.service, incidents.workspace and incidents.reviews. Bad input to the
workspace's small forms raises the service's error, which http.py shows as a 4xx page naming the
field. The report form is deliberately plain HTML (no script) and
light, because it is filled in on cheap phones over bad connections, often in a hurry.
"""
from __future__ import annotations

from datetime import timezone

import pycountry
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from solidarity.clock import utcnow
from solidarity.errors import Forbidden, RateLimited, ValidationError
from solidarity.extensions import db
from solidarity.geo import country_name
from solidarity.http import intake_allowances, within_allowances
from solidarity.incidents import access, reviews, service, workspace
from solidarity.incidents import messages as thread
from solidarity.incidents.models import DISCLOSABLE, SEVERITIES, THREAT_TYPES
from solidarity.incidents.service import IncidentDraft
from solidarity.matching.models import RATINGS
from solidarity.members.models import Organisation
from solidarity.playbook.models import THREAT_LABELS

bp = Blueprint("incidents", __name__)

DISCLOSURE_LABELS = {"summary": "the summary", "details": "the details",
                     "contact": "the contact person's name, phone and email"}


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


_THREATS = _choices([("", "Choose…"), *((t, THREAT_LABELS.get(t, t)) for t in THREAT_TYPES)])
_COUNTRIES = _choices(sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1]))


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IncidentForm(FlaskForm):
    # Choices are not enforced here: the service checks every field at once and names each error.
    threat_type = SelectField("What is happening?", validate_choice=False,
                              choices=_THREATS)
    severity = RadioField("How serious is it?", validate_choice=False,
                          choices=_choices((str(n), f"{n} · {word}") for n, word in SEVERITIES.items()))
    country = SelectField("Country where it happens", validate_choice=False, choices=_COUNTRIES)
    occurred_at = DateTimeLocalField("When did it happen? (UTC, optional)", format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()])
    needs = Checkboxes("What help do you need?", validate_choice=False)
    summary = TextAreaField("Summary", render_kw={"rows": 3, "maxlength": service.SUMMARY_MAX})
    details = TextAreaField("Details", render_kw={"rows": 8})
    disclosure = Checkboxes("A responder who accepts may see", validate_choice=False,
                            choices=_choices((d, DISCLOSURE_LABELS[d]) for d in DISCLOSABLE))
    contact_user_id = SelectField("Contact person", validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs.choices = _choices((h, h.replace("_", " ")) for h in current_app.config["HELP_TYPES"])
        org = current_user.organisation
        self.contact_user_id.choices = _choices((str(u.id), u.name) for u in org.users if u.active) if org else []
        if not self.is_submitted():
            self.country.data = org.country if org else None
            self.contact_user_id.data = str(current_user.id)

    def draft(self) -> IncidentDraft:
        occurred = self.occurred_at.data
        return IncidentDraft(
            threat_type=self.threat_type.data, severity=self.severity.data, country=self.country.data,
            needs=self.needs.data or [], summary=self.summary.data, details=self.details.data,
            disclosure=self.disclosure.data or [],
            occurred_at=occurred.replace(tzinfo=timezone.utc) if occurred else None,
            contact_user_id=self.contact_user_id.data or None, channel="web")

    def show_errors(self, exc: ValidationError) -> None:
        _show_errors(self, exc)


class ActionForm(FlaskForm):
    """Status changes and answers: the button pressed carries the action; CSRF is the point."""

    note = TextAreaField("Note (optional)", render_kw={"rows": 2, "maxlength": service.NOTE_MAX})


class UpdateForm(FlaskForm):
    # Its own id: the status form on the same page has a "note" too.
    note = TextAreaField("Post an update", id="update-note", render_kw={"rows": 3, "maxlength": service.NOTE_MAX})


class NeedForm(FlaskForm):
    help_type = SelectField("We also need", validate_choice=False)


class ReviewForm(FlaskForm):
    # Choices and ranges are the service's to check: it names the failing field.
    subject_organisation_id = HiddenField()
    rating = StringField()  # radio buttons written out in the template, one per rating
    note = TextAreaField("A short note (optional)", render_kw={"rows": 2, "maxlength": reviews.NOTE_MAX})


class MessageForm(FlaskForm):
    body = TextAreaField("Write to the case", render_kw={"rows": 3, "maxlength": thread.BODY_MAX})
    # Choices come from the service (who may be written to privately); it checks the value.
    private_to = SelectField("Who can read it", validate_choice=False)


class ProgressForm(FlaskForm):
    help_type = SelectField("For", validate_choice=False)
    body = TextAreaField("What we are doing", render_kw={"rows": 3, "maxlength": thread.BODY_MAX})


PROGRESS_STATES = {"progress": "Post progress", "covered": "We have it covered",
                   "handed_back": "Hand it back (others are asked)"}


def _show_errors(form: FlaskForm, exc: ValidationError) -> None:
    """The service's errors next to the fields they name (the rest above the form)."""
    for error in exc.errors:
        target = form._fields.get(error.field)
        (target.errors if target is not None else form.form_errors).append(error.message)


def _checked(form: FlaskForm) -> None:
    if not form.validate_on_submit():
        abort(400, "the form expired; please try again")


@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def new():
    form = IncidentForm()
    if not form.is_submitted():
        return render_template("incidents/new.html", form=form)
    if form.validate():
        draft = form.draft()
        try:
            checked = []  # validate_draft's answer, for file_incident not to ask it again
            incident = within_allowances(
                intake_allowances(current_user),
                validate=lambda: checked.append(service.validate_draft(db.session, current_user, draft, now=utcnow())),
                act=lambda: service.file_incident(db.session, current_user, draft, now=utcnow(), checked=checked[0]))
        except ValidationError as exc:
            form.show_errors(exc)
        except RateLimited as exc:
            # The typed report comes back whole, with when it can be sent and whom to call meanwhile.
            db.session.rollback()
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
            return render_template("incidents/new.html", form=form, limited=exc), 429, headers
        else:
            flash(f"Your report is filed. Its reference is {incident.ref}.")
            return redirect(url_for("incidents.show", incident_id=incident.id))
    elif not form.csrf_token.errors:
        # The form could not parse a field (a malformed date): still show every other error now.
        try:
            service.validate_draft(db.session, current_user, form.draft(), now=utcnow())
        except ValidationError as exc:
            form.show_errors(exc)
    return render_template("incidents/new.html", form=form), 422


@bp.get("/incidents")
@login_required
def index():
    status = request.args.get("status") or None
    found = service.list_incidents(db.session, current_user, status=status)
    rows = [service.describe(db.session, current_user, incident) for incident in found]
    return render_template("incidents/index.html", rows=rows, status=status, severities=SEVERITIES,
                           country_name=country_name, unread=thread.unread_counts(db.session, current_user, found))


@bp.get("/incidents/<uuid:incident_id>")
@login_required
def show(incident_id):
    incident, viewer = service.visible_incident(db.session, current_user, incident_id)
    return _workspace(incident, viewer)


def _workspace(incident, viewer, *, status: int = 200, update_form: UpdateForm | None = None,
               message_form: MessageForm | None = None, progress_form: ProgressForm | None = None):
    """The incident page. A small form sent back with a mistake (an update, a message, progress)
    comes back filled in, its error beside it, with the status given (422)."""
    shown = service.reveal(db.session, current_user, incident, now=utcnow())
    manages = access.can_change_status(viewer)
    need_form = NeedForm()
    asked = {n.help_type for n in incident.needs}
    need_form.help_type.choices = _choices((h, h.replace("_", " ")) for h in current_app.config["HELP_TYPES"]
                                           if h not in asked)
    matches = service.visible_matches(db.session, current_user, incident)
    return render_template("incidents/show.html", incident=shown, form=ActionForm(), matches=matches,
                           all_matches=access.sees_all_matches(viewer), manages=manages,
                           active=incident.status in service.ACTIVE,
                           final=incident.status in service.READ_ONLY,
                           transitions=service.allowed_transitions(incident) if manages else [],
                           checklist=workspace.checklist(db.session, current_user, incident),
                           update_form=update_form or UpdateForm(), need_form=need_form, review_form=ReviewForm(),
                           reviews_due=reviews.due(db.session, current_user, incident),
                           reviews_written=reviews.visible_reviews(db.session, current_user, incident),
                           ratings=RATINGS,
                           severities=SEVERITIES, country_name=country_name,
                           disclosure_labels=DISCLOSURE_LABELS, threat_labels=THREAT_LABELS,
                           **_conversation(incident, matches, message_form, progress_form)), status


def _conversation(incident, matches, message_form: MessageForm | None, progress_form: ProgressForm | None) -> dict:
    """What the page's conversation sections show (incidents/_thread.html); nothing for non-parties."""
    party = thread.party_of(db.session, current_user, incident)
    if party is None:
        return {"party": None}
    message_form = message_form or MessageForm(formdata=None)
    lines = thread.private_lines(db.session, current_user, incident)
    names = {o.id: "Only the reporting organisation" if party.viewer is access.Viewer.accepted else f"Only {o.name}"
             for o in lines}
    message_form.private_to.choices = _choices([("", "Everyone on the case"), *((str(k), v) for k, v in names.items())])
    mine = [m.help_type for m in matches
            if m.status.value == "accepted" and m.organisation_id == current_user.organisation_id]
    progress_form = progress_form or ProgressForm(formdata=None)
    progress_form.help_type.choices = _choices((h, h.replace("_", " ")) for h in mine)
    share = thread.contact_share(db.session, incident, current_user.organisation_id)
    return {"party": party, "posts": thread.thread(db.session, current_user, incident, now=utcnow()),
            "message_form": message_form, "progress_form": progress_form, "progress_states": PROGRESS_STATES,
            "progress": thread.progress_for(db.session, current_user, incident), "works_on": mine,
            "muted": thread.is_muted(db.session, current_user, incident),
            "open_for_posts": incident.status in thread.OPEN_FOR_POSTS,
            "history_shared": incident.thread_history_shared,
            "contact_share": share, "contact_shares": thread.contact_shares(db.session, current_user, incident),
            "org_name": lambda org_id: db.session.get(Organisation, org_id).name}


def _back(incident_id, anchor: str):
    return redirect(url_for("incidents.show", incident_id=incident_id, _anchor=anchor))


@bp.post("/incidents/<uuid:incident_id>/steps/<step_id>")
@login_required
def mark_step(incident_id, step_id):
    """Tick (done=1) or untick (done=0) one step of the incident's play."""
    incident, _ = service.visible_incident(db.session, current_user, incident_id)
    _checked(ActionForm())
    done = request.form.get("done")
    if done not in ("0", "1"):
        raise ValidationError("done", "must be 1 (done) or 0 (not done)")
    workspace.mark(db.session, current_user, incident, step_id, done == "1", now=utcnow())
    return _back(incident.id, "play")


@bp.post("/incidents/<uuid:incident_id>/updates")
@login_required
def post_update(incident_id):
    incident, viewer = service.visible_incident(db.session, current_user, incident_id)
    form = UpdateForm()
    _checked(form)
    try:
        service.add_note(db.session, current_user, incident, form.note.data, now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        form.note.errors = [e.message for e in exc.errors]
        return _workspace(incident, viewer, status=422, update_form=form)
    flash("Your update is on the timeline.")
    return _back(incident.id, "timeline")


@bp.post("/incidents/<uuid:incident_id>/needs")
@login_required
def add_need(incident_id):
    incident, _ = service.visible_incident(db.session, current_user, incident_id)
    form = NeedForm()
    _checked(form)
    need = service.add_need(db.session, current_user, incident, form.help_type.data, now=utcnow())
    flash(f"Asked for {need.help_type.replace('_', ' ')} help; responders who fit are being told.")
    return _back(incident.id, "needs")


@bp.post("/incidents/<uuid:incident_id>/needs/remove")
@login_required
def remove_need(incident_id):
    incident, _ = service.visible_incident(db.session, current_user, incident_id)
    _checked(ActionForm())
    help_type = request.form.get("help_type", "")
    service.remove_need(db.session, current_user, incident, help_type, now=utcnow())
    flash(f"No longer asking for {help_type.replace('_', ' ')} help.")
    return _back(incident.id, "needs")


@bp.post("/incidents/<uuid:incident_id>/reviews")
@login_required
def review(incident_id):
    incident, _ = service.visible_incident(db.session, current_user, incident_id)
    form = ReviewForm()
    _checked(form)
    reviews.leave_review(db.session, current_user, incident, form.subject_organisation_id.data, form.rating.data,
                         form.note.data, now=utcnow())
    flash("Thank you: your review is saved.")
    return _back(incident.id, "reviews")


@bp.post("/incidents/<uuid:incident_id>/status")
@login_required
def change_status(incident_id):
    incident, _ = service.visible_incident(db.session, current_user, incident_id)
    form = ActionForm()
    if form.validate_on_submit():
        service.change_status(db.session, current_user, incident, request.form.get("status", ""),
                              note=form.note.data, now=utcnow())
        flash(f"The incident is now {incident.status.value}.")
    else:
        flash("That did not go through; please try again.")
    return redirect(url_for("incidents.show", incident_id=incident.id))


WITHDRAW = ["close the case for good: nothing on it can change afterwards",
            "withdraw the requests still waiting for an answer and stop asking for more help",
            "tell the organisations helping you that the case is withdrawn",
            "stop its check-ins"]


@bp.route("/incidents/<uuid:incident_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(incident_id):
    """Withdrawing cannot be undone, so GET asks first; the POST (CSRF) withdraws, as change_status."""
    incident, viewer = service.visible_incident(db.session, current_user, incident_id)
    if not access.can_change_status(viewer):
        raise Forbidden("only the reporting organisation and the coordinators change an incident's status")
    form = ActionForm()
    if form.validate_on_submit():
        service.change_status(db.session, current_user, incident, "withdrawn", note=form.note.data, now=utcnow())
        flash("The incident is withdrawn.")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    return render_template("confirm.html", form=form, fields=[form.note], question="Withdraw case",
                           name=incident.ref, consequences=WITHDRAW, button="Withdraw the case", hidden={},
                           action=request.path, back=url_for("incidents.show", incident_id=incident.id)
                           ), 400 if form.errors else 200


@bp.post("/matches/<uuid:match_id>/answer")
@login_required
def answer(match_id):
    match = service.visible_match(db.session, current_user, match_id)
    form = ActionForm()
    choice = request.form.get("answer")
    if form.validate_on_submit() and choice in ("accept", "decline"):
        service.answer_match(db.session, current_user, match, choice == "accept", now=utcnow())
        flash("Thank you: you took the case." if choice == "accept" else "Declined; someone else is asked.")
    else:
        flash("That did not go through; please try again.")
    return redirect(url_for("incidents.show", incident_id=match.incident_id))


# -- The case conversation (incidents/messages.py) -----------------------------------------------------

def _in_thread(incident_id):
    """The incident, for someone who may read its conversation: everyone else gets 404 first,
    before their input is looked at."""
    incident, viewer = service.visible_incident(db.session, current_user, incident_id)
    thread.require_party(db.session, current_user, incident)
    return incident, viewer


@bp.post("/incidents/<uuid:incident_id>/messages")
@login_required
def post_message(incident_id):
    """Post to the thread or a private line. Bad input: the page again, with the text kept, 422."""
    incident, viewer = _in_thread(incident_id)
    form = MessageForm()
    _checked(form)
    return _posted(incident, viewer, "message_form", form, "Your message is in the conversation.",
                   lambda: thread.post(db.session, current_user, incident, form.body.data,
                                       private_to=form.private_to.data or None, now=utcnow()))


@bp.post("/incidents/<uuid:incident_id>/progress")
@login_required
def report_progress(incident_id):
    """A responder's progress, "covered" or "handed back" (the button pressed carries `state`)."""
    incident, viewer = _in_thread(incident_id)
    form = ProgressForm()
    _checked(form)
    state = request.form.get("state", "")
    done = {"handed_back": "Handed back: other responders are being asked.",
            "covered": "Noted: you have it covered."}.get(state, "Your progress is in the conversation.")
    return _posted(incident, viewer, "progress_form", form, done,
                   lambda: thread.report_progress(db.session, current_user, incident, state, form.body.data,
                                                  help_type=form.help_type.data or None, now=utcnow()))


def _posted(incident, viewer, name: str, form: FlaskForm, done: str, action):
    """Run a posting action; on bad input show the page again with the form's text and errors (422)."""
    try:
        action()
    except ValidationError as exc:
        _show_errors(form, exc)
        return _workspace(incident, viewer, status=422, **{name: form})
    flash(done)
    return _back(incident.id, "thread")


def _flag(name: str) -> bool:
    value = request.form.get(name)
    if value not in ("0", "1"):
        raise ValidationError(name, "must be 1 (yes) or 0 (no)")
    return value == "1"


@bp.post("/incidents/<uuid:incident_id>/thread/mute")
@login_required
def mute_thread(incident_id):
    incident, _ = _in_thread(incident_id)
    _checked(ActionForm())
    muted = _flag("muted")
    thread.set_muted(db.session, current_user, incident, muted, now=utcnow())
    flash("You will not be told of new messages on this case." if muted else "You will be told of new messages.")
    return _back(incident.id, "thread")


@bp.post("/incidents/<uuid:incident_id>/thread/history")
@login_required
def share_history(incident_id):
    incident, _ = _in_thread(incident_id)
    _checked(ActionForm())
    thread.set_history_shared(db.session, current_user, incident, _flag("shared"), now=utcnow())
    flash("Saved: who reads the earlier conversation.")
    return _back(incident.id, "thread")


@bp.post("/incidents/<uuid:incident_id>/contact")
@login_required
def request_contact(incident_id):
    incident, _ = _in_thread(incident_id)
    _checked(ActionForm())
    thread.request_contact(db.session, current_user, incident, now=utcnow())
    flash("Asked: the reporting organisation decides whether to share its contact person.")
    return _back(incident.id, "thread")


@bp.post("/incidents/<uuid:incident_id>/contact/<uuid:org_id>")
@login_required
def decide_contact(incident_id, org_id):
    incident, _ = _in_thread(incident_id)
    _checked(ActionForm())
    grant = _flag("share")
    thread.decide_contact(db.session, current_user, incident, org_id, grant, now=utcnow())
    flash("The contact person is shared." if grant else "The contact person is not shared.")
    return _back(incident.id, "thread")
