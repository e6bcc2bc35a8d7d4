"""Signing in on the web (server-side sessions) and bearer tokens on the API."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.extensions import db
from solidarity.members import auth
from solidarity.members.models import ApiToken, SignInSession
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer
from tests.rawdb import leaks, raw_dump

COOKIE = "solidarity_session"


def _sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client, "/login")})


def test_home_needs_a_signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_in_opens_a_server_side_session(client, make):
    admin = make.admin_of(make.org())
    response = _sign_in(client, admin.email.upper())  # emails are matched case-insensitively
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    sessions = db.session.scalars(select(SignInSession).where(SignInSession.user_id == admin.id)).all()
    assert len(sessions) == 1 and sessions[0].ended_at is None
    cookie = client.get_cookie(COOKIE)
    assert sessions[0].id not in cookie.value  # the database keeps only a digest of the cookie's secret
    assert cookie.http_only and cookie.same_site == "Lax"


@pytest.mark.parametrize("password", ["wrong password, long enough", "", PASSWORD.upper()])
def test_a_wrong_password_does_not_sign_in(client, make, password):
    admin = make.admin_of(make.org())
    response = _sign_in(client, admin.email, password)
    assert response.status_code == 400
    assert client.get("/").status_code == 302
    assert db.session.scalars(select(SignInSession)).all() == []


def test_an_unknown_email_fails_like_a_wrong_password(client, make):
    make.org()
    response = _sign_in(client, "nobody@nowhere.example")
    assert response.status_code == 400
    assert "Email or password is wrong." in response.get_data(as_text=True)


def test_a_deactivated_user_cannot_sign_in(client, make):
    admin = make.admin_of(make.org())
    admin.active = False
    db.session.commit()
    assert _sign_in(client, admin.email).status_code == 400


def test_logout_ends_the_session_so_a_replayed_cookie_is_refused(app, client, make):
    admin = make.admin_of(make.org())
    _sign_in(client, admin.email)
    stolen = client.get_cookie(COOKIE).value
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302

    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen)
    response = replay.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert db.session.scalars(select(SignInSession.ended_at)).one() is not None


def test_a_cookie_copied_before_logout_works_until_then(app, client, make):
    """The counterpart of the replay test: the copied cookie is a valid session until logout ends it."""
    admin = make.admin_of(make.org())
    _sign_in(client, admin.email)
    copy = app.test_client()
    copy.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    assert copy.get("/").status_code == 200


def test_logout_needs_a_csrf_token(client, make):
    _sign_in(client, make.admin_of(make.org()).email)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_sessions_end_after_idle_and_absolute_timeouts(make, now):
    user = make.admin_of(make.org())
    secret = auth.start_session(db.session, user, now=now)
    limits = {"idle": timedelta(minutes=30), "absolute": timedelta(hours=12)}
    assert auth.load_session(db.session, secret, now=now + timedelta(minutes=29), **limits) is user
    assert auth.load_session(db.session, secret, now=now + timedelta(minutes=31), **limits) is user  # touched at 29
    assert auth.load_session(db.session, secret, now=now + timedelta(minutes=62), **limits) is None
    assert auth.load_session(db.session, secret, now=now + timedelta(minutes=63), **limits) is None

    long = auth.start_session(db.session, user, now=now)
    for minutes in range(20, 12 * 60, 20):  # never idle, but open for too long
        assert auth.load_session(db.session, long, now=now + timedelta(minutes=minutes), **limits) is user
    assert auth.load_session(db.session, long, now=now + timedelta(hours=12, minutes=1), **limits) is None


def test_deactivating_a_user_ends_their_open_session(client, make):
    admin = make.admin_of(make.org())
    _sign_in(client, admin.email)
    admin.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


# -- API tokens -----------------------------------------------------------------------------------

def test_a_bearer_token_authenticates_api_calls(client, make):
    admin = make.admin_of(make.org())
    token = make.token(admin)
    assert token.startswith(auth.TOKEN_PREFIX)
    response = client.get("/api/v1/organisations", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert db.session.scalars(select(ApiToken.last_used_at)).one() is not None


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Bearer sol_not-a-real-token", "Bearer not-even-our-prefix",
    "Basic dXNlcjpwYXNz", "Token {token}", "{token}"])
def test_missing_or_bad_authorization_gets_401_naming_the_field(client, make, header):
    token = make.token(make.admin_of(make.org()))
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    response = client.get("/api/v1/organisations", headers=headers)
    assert response.status_code == 401
    assert response.json == {"errors": [{"field": "Authorization", "message": "a valid bearer token is required"}]}


def test_a_revoked_token_gets_401(client, make, now):
    admin = make.admin_of(make.org())
    revoked, kept = make.token(admin), auth.create_token(db.session, admin, name="laptop", now=now)
    assert auth.revoke_tokens(db.session, "cli", admin, name="test", now=now) == 1
    assert client.get("/api/v1/organisations", headers=bearer(revoked)).status_code == 401
    assert client.get("/api/v1/organisations", headers=bearer(kept)).status_code == 200


def test_a_deactivated_users_token_gets_401(client, make):
    admin = make.admin_of(make.org())
    token = make.token(admin)
    admin.active = False
    db.session.commit()
    assert client.get("/api/v1/organisations", headers=bearer(token)).status_code == 401


def test_tokens_are_stored_only_as_digests(make):
    admin = make.admin_of(make.org())
    token = make.token(admin)
    stored = db.session.scalars(select(ApiToken.token_hash)).one()
    assert token not in stored
    db.session.remove()
    assert leaks(raw_dump(db.engine), [token, token.removeprefix(auth.TOKEN_PREFIX)]) == []


def test_session_protection_refuses_the_cookie_from_another_browser(app, client, make):
    _sign_in(client, make.admin_of(make.org()).email)
    elsewhere = app.test_client()
    elsewhere.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    assert elsewhere.get("/", headers={"User-Agent": "a different browser"}).status_code == 302
