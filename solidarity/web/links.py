"""Answer links from alert emails: /answer/<token> -> sign in -> confirm (POST, CSRF) -> answer_match.

The link alone does nothing: a GET only shows what would be answered, the answer needs the signed-in
person the email was sent to and a form post. Expired, forged and used links end on a page that
says so and points to the incident page, where the request can still be answered.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from solidarity.clock import utcnow
from solidarity.errors import Forbidden
from solidarity.extensions import db
from solidarity.incidents import access
from solidarity.incidents import service as incidents
from solidarity.matching.models import PENDING
from solidarity.notify import links, messages

bp = Blueprint("links", __name__)


class ConfirmForm(FlaskForm):
    """No fields: the token says what to answer; the form carries the CSRF token."""


@bp.route(links.PATH + "<token>", methods=["GET", "POST"])
@login_required
def answer(token: str):
    config = current_app.config
    link = links.read_token(config["SECRET_KEY"], token, now=utcnow(), max_age=messages.answer_link_max_age(config))
    match = incidents.get_match(db.session, link.match_id)
    # A colleague of the person it was sent to (a forwarded email, a shared inbox, the home page's
    # buttons) may answer as themselves: they could do the same from the incident page. Anyone else
    # learns nothing about the request.
    colleague = link.user_id != current_user.id
    if colleague and not access.can_answer(current_user, match):
        raise Forbidden("This link was sent to someone else. Sign out and sign in as that person, or answer "
                        "from the incident page.", field="token")
    incident = incidents.get_incident(db.session, match.incident_id)
    if match.status not in PENDING:
        return render_template("links/answered.html", ref=incident.ref, status=match.status.value,
                               said=incidents.answered_already(db.session, match, now=utcnow()),
                               incident_id=incident.id), 409
    form = ConfirmForm()
    if form.validate_on_submit():
        incidents.answer_match(db.session, current_user, match, link.accept, now=utcnow())
        flash(f"Thank you: you accepted case {incident.ref}." if link.accept
              else f"You declined case {incident.ref}; someone else is asked.")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    return render_template("links/confirm.html", form=form, accept=link.accept, ref=incident.ref,
                           help_type=match.help_type, colleague=colleague), 200 if not form.errors else 400
