"""Sign in (password, then the two-factor code when it is on) and out.

Throttled per client address and per account: the address limit slows one machine guessing many
accounts, the account limit slows many machines (a botnet, forged addresses) guessing one.
"""
from __future__ import annotations

import hashlib
import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired

from solidarity.clock import utcnow, wait_in_words
from solidarity.errors import RateLimited, ValidationError
from solidarity.extensions import db, limiter
from solidarity.http import Allowance, safe_next, within_allowances
from solidarity.members import auth as auth_service
from solidarity.members import service as members
from solidarity.members import twofactor
from solidarity.members.access import may_act
from solidarity.members.models import User
from solidarity.notify import recovery

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
            next_url = safe_next(request.args.get("next"))
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
    # Locked down or suspended between the password and the code: refused like an expired step.
    return user if may_act(user) and user.two_factor_enabled else None


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
            next_url = safe_next(session[PENDING].get("next"))
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


class ForgotForm(FlaskForm):
    email = EmailField("Email of your account", validators=[DataRequired("Enter the email you sign in with.")])


class ResetForm(FlaskForm):
    password = PasswordField("New password", description="At least 12 characters.",
                             validators=[DataRequired("Choose a new password.")],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("The new password again", validators=[DataRequired("Type the new password again.")],
                            render_kw={"autocomplete": "new-password"})


def _reset_address_allowance() -> list[Allowance]:
    # Hashed so the limiter's storage never holds the address either.
    digest = hashlib.sha256(get_remote_address().encode()).hexdigest()
    return [Allowance("PASSWORD_RESET_RATE_LIMIT_ADDRESS", f"reset-address:{digest}", "requests from your network")]


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a reset link. The answer is the same page whether or not the address has an account."""
    form = ForgotForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 200 if not form.errors else 400
    try:
        within_allowances(_reset_address_allowance(), validate=lambda: None,
                          act=lambda: recovery.request_reset(db.session, form.email.data, now=utcnow()))
    except RateLimited as exc:
        return render_template("auth/forgot.html", form=form, limited=exc), 429, {"Retry-After": str(exc.retry_after)}
    return render_template("auth/forgot_sent.html", minutes=wait_in_words(recovery.max_age().total_seconds()))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password with an emailed link. Showing the form changes nothing (mail scanners
    open links); only sending it does. Afterwards the person signs in, with their code if it is on."""
    form = ResetForm()
    try:
        recovery.user_for_token(db.session, token, now=utcnow())
    except recovery.BadResetLink as exc:
        db.session.rollback()
        return render_template("auth/reset_bad.html", message=exc.message), 400
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            form.confirm.errors.append("The two passwords are not the same. Type them again.")
        else:
            try:
                recovery.reset_password(db.session, token, form.password.data, now=utcnow())
            except ValidationError as exc:
                form.password.errors.extend(e.message for e in exc.errors)
            else:
                if current_user.is_authenticated:
                    logout_user()
                session.clear()
                flash("Your password is changed, and your account is signed out everywhere. Sign in with "
                      "your new password.")
                return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 200 if not form.errors else 400

