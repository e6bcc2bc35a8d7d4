"""The signed-in landing page."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from solidarity.extensions import db
from solidarity.incidents import messages, service

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    return render_template("home.html", **_unread())


def _unread() -> dict:
    """Cases with messages the person has not read (home/_unread.html)."""
    found = service.list_incidents(db.session, current_user)
    counts = messages.unread_counts(db.session, current_user, found)
    return {"unread_cases": [(i, counts[i.id]) for i in found if counts.get(i.id)]}
