"""The signed-in landing page: a to-do list (escalation/todo.py), not a welcome."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from solidarity.clock import utcnow
from solidarity.escalation import todo
from solidarity.extensions import db
from solidarity.incidents import messages as thread
from solidarity.incidents import service
from solidarity.incidents.models import SEVERITIES
from solidarity.notify import links, messages
from solidarity.playbook.models import THREAT_LABELS

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    now = utcnow()
    found = todo.for_user(db.session, current_user, now=now)
    secret = current_app.config["SECRET_KEY"]

    def answer_url(match, accept: bool) -> str:
        # The same signed link as in the request email, made for whoever is signed in: one tap
        # leads to the same confirmation page, and the same rules answer it.
        return links.PATH + links.make_token(secret, links.AnswerLink(match.id, current_user.id, accept), now=now)

    return render_template("home.html", todo=found, answer_url=answer_url, due=lambda c: todo.checkin_due(c, now),
                           severities=SEVERITIES, threat_labels=THREAT_LABELS, status_names=messages.STATUS_NAMES,
                           **_unread(found))


def _unread(found: todo.Todo) -> dict:
    """Cases with messages the person has not read (incidents/_unread.html): for members those on
    the to-do list (their own and those they help with), for coordinators those they take part in."""
    if current_user.is_coordinator:
        incidents, own = service.list_incidents(db.session, current_user), None
    else:
        incidents, own = found.threads()
    counts = thread.unread_counts(db.session, current_user, incidents, own)
    return {"unread_cases": [(i, counts[i.id]) for i in incidents if counts.get(i.id)]}
