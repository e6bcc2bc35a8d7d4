"""The playbook pages: read plays (everyone signed in), draft, review and publish them (coordinators)."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from solidarity.clock import utcnow
from solidarity.errors import Forbidden, ValidationError
from solidarity.extensions import db
from solidarity.playbook import service
from solidarity.playbook.models import THREAT_LABELS, THREAT_TYPES, PlayVersion
from solidarity.playbook.steps_text import FORMAT_HINT, format_steps, parse_steps

bp = Blueprint("playbook", __name__, url_prefix="/playbook")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VersionForm(FlaskForm):
    title = StringField("Title")
    summary = TextAreaField("Summary", render_kw={"rows": 3})
    help_types = CheckboxesField("Help this play calls for")
    steps = TextAreaField("Steps", render_kw={"rows": 16, "spellcheck": "true"})
    sources = TextAreaField("Sources", render_kw={"rows": 5})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.help_types.choices = [SelectChoice(h, h.replace("_", " ")) for h in current_app.config["HELP_TYPES"]]

    def data_for_service(self) -> dict:
        """The form as the service's input. Steps that do not parse are reported together with
        whatever else is wrong, so one round trip shows every problem."""
        self._step_lines: list[int] = []
        data = {"title": self.title.data, "summary": self.summary.data, "help_types": self.help_types.data or [],
                "sources": [line.strip() for line in (self.sources.data or "").splitlines() if line.strip()]}
        try:
            steps = parse_steps(self.steps.data or "")
        except ValidationError as exc:
            errors = list(exc.errors)
            try:
                service.clean_version_data(data, partial=True)
            except ValidationError as others:
                errors += others.errors
            raise ValidationError(errors) from exc
        self._step_lines = [s.pop("line") for s in steps]
        return {**data, "steps": steps}

    def show_errors(self, exc: ValidationError) -> None:
        """Put field errors next to their fields; a step's error names the line it came from."""
        for error in exc.errors:
            name, _, rest = error.field.partition(".")
            message = error.message
            if name == "steps" and rest:
                index, _, part = rest.partition(".")
                line = self._step_lines[int(index)] if index.isdigit() and int(index) < len(self._step_lines) else "?"
                message = f"line {line}: {part + ' ' if part else ''}{message}"
            target = self._fields.get(name) if name in (*service.FIELDS, "threat_type") else None
            (target.errors if target is not None else self.form_errors).append(message)


class NewPlayForm(VersionForm):
    threat_type = SelectField("Threat type", choices=[SelectChoice(t, THREAT_LABELS[t]) for t in THREAT_TYPES])


class ActionForm(FlaskForm):
    """Buttons that change state: only the CSRF token."""


def _require_coordinator() -> None:
    if not current_user.is_coordinator:
        raise Forbidden("only coordinators write plays")


def _version(version_id) -> PlayVersion:
    return service.get_version(db.session, current_user, version_id)


@bp.get("")
@login_required
def index():
    versions = service.list_versions(db.session, current_user)
    by_threat = {t: [v for v in versions if v.play.threat_type == t] for t in THREAT_TYPES}
    return render_template("playbook/index.html", by_threat=by_threat, labels=THREAT_LABELS)


@bp.get("/<uuid:version_id>")
@login_required
def show(version_id):
    version = _version(version_id)
    context = {}
    if current_user.is_coordinator:
        context = {"history": service.history(db.session, version.play),
                   "open_draft": service.open_draft(db.session, version.play), "action": ActionForm()}
    return render_template("playbook/show.html", version=version, labels=THREAT_LABELS, **context)


def _save(form: VersionForm, write: Callable[[dict], PlayVersion]) -> PlayVersion | None:
    try:
        return write(form.data_for_service())
    except ValidationError as exc:
        db.session.rollback()
        form.show_errors(exc)
        return None


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _require_coordinator()
    form = NewPlayForm()
    if form.validate_on_submit():
        version = _save(form, lambda data: service.draft_play(db.session, current_user, form.threat_type.data,
                                                              data, now=utcnow()))
        if version is not None:
            flash(f"Draft version {version.number} saved. Submit it for review when it is ready.")
            return redirect(url_for(".show", version_id=version.id))
    return render_template("playbook/edit.html", form=form, version=None, hint=FORMAT_HINT), \
        422 if form.errors or form.form_errors else 200


@bp.route("/<uuid:version_id>/edit", methods=["GET", "POST"])
@login_required
def edit(version_id):
    _require_coordinator()
    version = _version(version_id)
    if version.frozen:
        flash(f"Version {version.number} is {version.status.value} and cannot change; draft a new version.")
        return redirect(url_for(".show", version_id=version.id))
    form = VersionForm()
    if not form.is_submitted():
        form.title.data, form.summary.data = version.title, version.summary
        form.help_types.data = list(version.help_types)
        form.sources.data = "\n".join(version.sources)
        form.steps.data = format_steps(version.steps)
    elif form.validate_on_submit():
        saved = _save(form, lambda data: service.update_draft(db.session, current_user, version, data,
                                                              now=utcnow()))
        if saved is not None:
            flash(f"Draft version {saved.number} saved.")
            return redirect(url_for(".show", version_id=saved.id))
    return render_template("playbook/edit.html", form=form, version=version, hint=FORMAT_HINT), \
        422 if form.errors or form.form_errors else 200


def _action(version_id, do: Callable[[PlayVersion], PlayVersion], message: str):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, "the form expired; please try again")
    version = do(_version(version_id))
    flash(message.format(number=version.number))
    return redirect(url_for(".show", version_id=version.id))


@bp.post("/<uuid:version_id>/draft")
@login_required
def draft(version_id):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, "the form expired; please try again")
    version = service.new_version(db.session, current_user, _version(version_id).play, now=utcnow())
    flash(f"Version {version.number} is a draft copy of the latest version. Edit it below.")
    return redirect(url_for(".edit", version_id=version.id))


@bp.post("/<uuid:version_id>/submit")
@login_required
def submit(version_id):
    return _action(version_id, lambda v: service.submit_for_review(db.session, current_user, v, now=utcnow()),
                   "Version {number} is waiting for review.")


@bp.post("/<uuid:version_id>/publish")
@login_required
def publish(version_id):
    return _action(version_id, lambda v: service.publish(db.session, current_user, v, now=utcnow()),
                   "Version {number} is published. New incidents follow it from now on.")


RETIRE = ["stop new incidents of this kind following it: they get no play until another version is published",
          "leave the incidents already following it as they are"]


@bp.route("/<uuid:version_id>/retire", methods=["GET", "POST"])
@login_required
def retire(version_id):
    """GET asks first: retiring without a successor leaves new incidents of the kind without a play."""
    if request.method == "POST":
        return _action(version_id, lambda v: service.retire(db.session, current_user, v, now=utcnow()),
                       "Version {number} is retired.")
    version = _version(version_id)
    if not current_user.is_coordinator:
        raise Forbidden("only coordinators retire plays")
    return render_template("confirm.html", form=ActionForm(), question=f"Retire version {version.number} of",
                           name=THREAT_LABELS.get(version.play.threat_type, version.play.threat_type) + " play",
                           consequences=RETIRE, button="Retire it", hidden={}, action=request.path,
                           back=url_for(".show", version_id=version.id))
