"""Server-rendered pages. Work without JavaScript; every form carries a CSRF token."""
from __future__ import annotations

from flask import Flask, current_app

from solidarity.clock import utcnow
from solidarity.extensions import db, login_manager
from solidarity.members import auth as auth_service


def init_app(app: Flask) -> None:
    from solidarity.web import audit_trail as audit_web
    from solidarity.web import auth, checkins, console, coordinator, home, incidents, links, members, metrics, nav
    from solidarity.web import labels as labels_web
    from solidarity.web import notifications as notifications_web
    from solidarity.web import offers as offers_web
    from solidarity.web import playbook as playbook_web
    from solidarity.web import security as security_web

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    labels_web.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(security_web.bp)
    app.register_blueprint(audit_web.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(playbook_web.bp)
    app.register_blueprint(checkins.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(offers_web.bp)
    app.register_blueprint(coordinator.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(notifications_web.bp)
    app.register_blueprint(metrics.bp)
    nav.init_app(app)


def _load_user(secret: str):
    return auth_service.load_session(db.session, secret, now=utcnow(),
                                     idle=current_app.config["SESSION_IDLE_TIMEOUT"],
                                     absolute=current_app.config["SESSION_ABSOLUTE_TIMEOUT"])
