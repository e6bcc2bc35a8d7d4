"""The coordinators' view of an incident's notifications: who was told what, how, and what failed."""
from __future__ import annotations

from collections import Counter

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from solidarity.errors import Forbidden
from solidarity.extensions import db
from solidarity.incidents import service as incidents
from solidarity.notify import service as notify

bp = Blueprint("notifications", __name__, url_prefix="/coordinator")


@bp.get("/incidents/<uuid:incident_id>/notifications")
@login_required
def incident(incident_id):
    if not current_user.is_coordinator:
        raise Forbidden("only coordinators see delivery records")
    found = incidents.get_incident(db.session, incident_id)
    rows = notify.for_incident(db.session, found.id)
    return render_template("notifications/incident.html", incident=found, rows=rows,
                           counts=Counter(row.status.value for row in rows))
