"""The audit trail in the coordinators' console: newest first, one action at a time if asked."""
from __future__ import annotations

import uuid

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from solidarity import audit
from solidarity.errors import DecryptionError, Forbidden, ValidationError
from solidarity.extensions import db
from solidarity.incidents.models import Incident
from solidarity.members.models import Organisation, User
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
                           actions=known, names=_names(events), action_label=action_label)


ROLES = {"coordinator": "coordinator", "org_admin": "administrator", "member": "member"}


def action_label(action: str) -> str:
    """"organisation.locked_down" -> "Organisation: locked down": words, not a key."""
    thing, _, what = action.partition(".")
    return f"{thing.replace('_', ' ').capitalize()}: {what.replace('_', ' ').replace('.', ' ')}" if what else thing


def _ids(values) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def _names(events) -> dict[str, str]:
    """People by name and role, organisations by name, incidents by reference, for the page's events:
    three queries whatever the page holds, names decrypted in Python."""
    names: dict[str, str] = {}
    ids = _ids({e.actor_id for e in events if e.actor_id} | {e.target_id for e in events if e.target_id})
    if not ids:
        return names
    for user in db.session.scalars(select(User).where(User.id.in_(ids))):
        try:
            where = f", {user.organisation.name}" if user.organisation is not None else ""
            names[str(user.id)] = f"{user.name} ({ROLES.get(user.role.value, user.role.value)}{where})"
        except DecryptionError:  # erased (its key destroyed): the stored label stays
            continue
    for org in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))):
        try:
            names[str(org.id)] = org.name
        except DecryptionError:
            continue
    for incident in db.session.scalars(select(Incident).where(Incident.id.in_(ids))):
        names[str(incident.id)] = f"case {incident.ref}"
    return names
