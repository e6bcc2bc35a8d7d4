"""JSON API v1 (flask-smorest): bearer-token auth, one error shape, OpenAPI at /api/v1/openapi.json."""
from __future__ import annotations

from flask import Flask, g, request
from flask_smorest import Api, Blueprint
from marshmallow import RAISE

from solidarity.api.schemas import ErrorSchema
from solidarity.clock import utcnow
from solidarity.errors import DomainError
from solidarity.extensions import csrf, db
from solidarity.members import auth as auth_service
from solidarity.members.models import User


class Unauthorized(DomainError):
    status = 401


def current_api_user() -> User:
    """The user behind the request's bearer token; 401 without a valid one."""
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = auth_service.user_for_token(db.session, token.strip(), now=utcnow())
        if user is None:
            raise Unauthorized("a valid bearer token is required", field="Authorization")
        g.api_user = user
    return g.api_user


class SolidarityApi(Api):
    ERROR_SCHEMA = ErrorSchema  # document our error shape, not flask-smorest's default


def init_app(app: Flask) -> None:
    from solidarity.api import (
        incident_thread,  # noqa: F401 - its routes join incident_work.blp
        incident_work,
        incidents,
        notifications,
        offers,
        organisations,
        webhooks,
    )
    from solidarity.api import indicators as indicators_api
    from solidarity.api import playbook as playbook_api

    # An unknown query parameter is refused (422 naming it) rather than ignored, so a typo such as
    # `?stauts=open` does not silently return everything. Read at parse time by every blueprint.
    parser = Blueprint.ARGUMENTS_PARSER
    parser.DEFAULT_UNKNOWN_BY_LOCATION = {**parser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}

    api = SolidarityApi(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    blueprints = (organisations.blp, offers.blp, incidents.blp, incident_work.blp, notifications.blp,
                  playbook_api.blp, indicators_api.blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer tokens are never sent by a browser on its own, so no CSRF
    names = {blueprint.name for blueprint in blueprints}

    @app.before_request
    def _authenticate_first():
        # The caller is known before the input is read: without a valid token the answer is always
        # 401, never a 422 that would describe an operation's input to someone not signed in.
        if request.blueprint in names:
            current_api_user()

    # Twilio's requests carry a signature that the webhook verifies instead of a CSRF token.
    app.register_blueprint(webhooks.bp)
    csrf.exempt(webhooks.bp)
