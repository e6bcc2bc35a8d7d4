"""The navigation in base.html: the pages the signed-in person's role can use, in the order they are needed.

A page appears only once its blueprint is registered, so a part of the service that is switched off
(or not built yet) leaves no dead link. To add a page, add a line to NAV.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user

from solidarity.members import access
from solidarity.members.models import User, Vetting


class Item(NamedTuple):
    endpoint: str
    label: str
    shown_to: Callable[[User], bool]


def _everyone(user: User) -> bool:
    return True


def _coordinator(user: User) -> bool:
    return user.is_coordinator


def _member(user: User) -> bool:
    return user.organisation_id is not None


def _vetted_member(user: User) -> bool:
    # Only vetted organisations file incidents: an applicant would meet a form it cannot send.
    return user.organisation is not None and user.organisation.vetting_status is Vetting.vetted


NAV = (
    Item("incidents.new", "Report an incident", _vetted_member),
    Item("incidents.index", "Incidents", _everyone),
    Item("console.index", "Console", _coordinator),
    Item("coordinator.organisations", "Organisations", _coordinator),
    Item("audit_trail.index", "Audit trail", _coordinator),
    Item("members.my_organisation", "My organisation", _member),
    Item("members.applicants", "Applicants", access.can_vouch),
    Item("playbook.index", "Playbook", _everyone),
    Item("members.account", "My account", _everyone),
)


def nav_items() -> list[dict]:
    if not has_request_context() or not current_user.is_authenticated:
        return []
    registered = current_app.view_functions
    return [{"url": url_for(item.endpoint), "label": item.label, "current": request.endpoint == item.endpoint}
            for item in NAV if item.endpoint in registered and item.shown_to(current_user)]


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"nav_items": nav_items()})
