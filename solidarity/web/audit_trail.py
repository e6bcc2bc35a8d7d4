"""The audit trail in the coordinators' console: newest first, one action at a time if asked."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from solidarity import audit
from solidarity.errors import Forbidden, ValidationError
from solidarity.extensions import db
from solidarity.text import is_whole

bp = Blueprint("audit_trail", __name__, url_prefix="/coordinator")

PER_PAGE = 50


@bp.before_request
@login_required
def _coordinators_only():
    if not current_user.is_coordinator:
        raise Forbidden("only coordinators read the audit trail")


def _page() -> int:
    raw = request.args.get("page", "1")
    if not is_whole(raw) or not 1 <= int(raw) <= 100_000:
        raise ValidationError("page", "must be a whole number from 1")
    return int(raw)


@bp.get("/audit")
def index():
    action = request.args.get("action", "").strip()
    known = audit.actions(db.session)
    if action and action not in known:
        raise ValidationError("action", "is not an action in the trail")
    page = _page()
    events, more = audit.list_events(db.session, action=action or None, page=page, per_page=PER_PAGE)
    return render_template("coordinator/audit.html", events=events, more=more, page=page, action=action,
                           actions=known)
