"""Sign in (password, then the two-factor code when it is on) and out.

Throttled per client address and per account: the address limit slows one machine guessing many
accounts, the account limit slows many machines (a botnet, forged addresses) guessing one.
"""
from __future__ import annotations

import hashlib
import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired

from solidarity.clock import utcnow
from solidarity.extensions import db, limiter
from solidarity.members import auth as auth_service
from solidarity.members import service as members
from solidarity.members import twofactor
from solidarity.members.models import User

bp = Blueprint("auth", __name__)

# Kept in the signed cookie between the password and the code step. Only a user id and a time:
# without the code it grants nothing, and it goes stale quickly.
PENDING = "pending_second_factor"
PENDING_SECONDS = 300


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired()],
                       description="The 6-digit code of your authenticator app, or one of your recovery codes.",
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _account_key() -> str:
    # The account's own lookup key (members/contact.py normalises once for lookups, limits and
    # uniqueness), so no spelling of an address (case, fullwidth, punycode, a trailing dot) gets a
    # fresh allowance. A keyed hash: the limiter's storage (Redis in production) holds no address.
    typed = request.form.get("email") or ""
    key = members.email_lookup_key(typed) or "invalid:" + hashlib.sha256(typed.strip().casefold().encode()).hexdigest()
    return "login-account:" + key


def _pending_key() -> str:
    return "login-account-code:" + str((session.get(PENDING) or {}).get("user"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        now = utcnow()
        user = auth_service.authenticate(db.session, form.email.data, form.password.data, now=now)
        if user is None:
            form.password.errors.append("Email or password is wrong.")
        else:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a fresh session on sign-in: nothing planted before it survives
            if user.two_factor_enabled:
                session[PENDING] = {"user": str(user.id), "at": now.timestamp(), "next": next_url}
                return redirect(url_for("auth.second_factor"))
            _sign_in(user)
            return redirect(next_url or url_for("home.index"))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


def _pending_user() -> User | None:
    pending = session.get(PENDING) or {}
    if not pending or utcnow().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, uuid.UUID(pending["user"]))
    return user if user is not None and user.active and user.two_factor_enabled else None


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_pending_key)
def second_factor():
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("Please sign in again.")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        now = utcnow()
        method = twofactor.verify(db.session, user, form.code.data, now=now)
        if method is None:
            form.code.errors.append("This code is wrong or was already used.")
        else:
            next_url = session[PENDING].get("next")
            session.clear()
            auth_service.complete_second_factor(db.session, user, method, now=now)
            _sign_in(user)
            if method == "recovery_code":
                flash(f"You used a recovery code; {twofactor.recovery_codes_left(db.session, user)} are left.")
            return redirect(next_url or url_for("home.index"))
    return render_template("auth/code.html", form=form), 200 if not form.errors else 400


def _sign_in(user: User) -> None:
    auth_service.start_session(db.session, user, now=utcnow())
    login_user(user)


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
