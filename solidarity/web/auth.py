"""Sign in and out."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from solidarity.clock import utcnow
from solidarity.extensions import db, limiter
from solidarity.members import auth as auth_service

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = auth_service.authenticate(db.session, form.email.data, form.password.data, now=utcnow())
        if user is None:
            form.password.errors.append("Email or password is wrong.")
        else:
            session.clear()  # a fresh session on sign-in: nothing planted before it survives
            auth_service.start_session(db.session, user, now=utcnow())
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    auth_service.end_session(db.session, current_user.get_id(), now=utcnow())
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an open redirect after sign-in is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
