"""Password recovery: "Forgot password?" sends a signed, single-use, short-lived link by email."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity import create_app
from solidarity.audit import AuditEvent
from solidarity.clock import utcnow
from solidarity.extensions import db, limiter
from solidarity.notify import dispatcher, messages, recovery
from solidarity.notify.models import Channel, Delivery, Failure, Notification
from tests.conftest import csrf_token
from tests.factories import bearer, sign_in, totp_code

NEW = "a brand new long passphrase"


def ask(client, email: str):
    return client.post("/forgot", data={"email": email, "csrf_token": csrf_token(client, "/forgot")})


def resets() -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.template == "password_reset")))


def link_in(row: Notification, app) -> str:
    rendered = messages.render(row.template, row.channel, row.params, "en", user_id=row.user_id, match_id=None,
                               config=app.config, now=utcnow())
    [url] = re.findall(r"https?://\S+/reset/\S+", rendered.body)
    assert url in rendered.html
    return url[url.index("/reset/"):]


def choose(client, path: str, password: str = NEW, confirm: str | None = None):
    return client.post(path, data={"password": password, "confirm": confirm or password,
                                   "csrf_token": csrf_token(client, path)})


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def without_csrf(page) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page.get_data(as_text=True))


@pytest.fixture
def member(make):
    return make.user(make.org())


def test_the_sign_in_page_offers_it(client):
    assert 'href="/forgot"' in client.get("/login").get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(client, member):
    known, unknown = ask(client, member.email), ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert without_csrf(known) == without_csrf(unknown)
    assert "If an account uses this address, we have sent it a link" in known.get_data(as_text=True)
    assert [r.user_id for r in resets()] == [member.id]
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.password_reset_refused")).all()
    assert [e.target_id for e in refused] == [None]


def test_the_link_goes_by_email_only_and_never_falls_back_to_sms(app, client, make):
    org = make.org()
    texter = make.user(org, phone="+254712000321")
    texter.notify_sms, texter.notify_email = True, False
    db.session.commit()
    ask(client, texter.email)
    [row] = resets()
    assert row.channel is Channel.email and row.status is Delivery.queued
    assert "reset" not in str(row.params).lower() and "/reset/" not in str(row.params)  # no link at rest
    assert dispatcher.fail(db.session, row, Failure.permanent, "bounced", now=utcnow()) is None
    with pytest.raises(ValueError):
        messages.render(row.template, Channel.sms, row.params, "en", user_id=row.user_id, match_id=None,
                        config=app.config, now=utcnow())


def test_the_link_works_once_and_ends_every_session_and_token(app, client, make, member):
    device = app.test_client()
    sign_in(device, member)
    token = bearer(make.token(member))
    ask(client, member.email)
    path = link_in(resets()[0], app)
    assert client.get(path).status_code == 200  # opening it (a mail scanner) changes nothing
    done = choose(client, path)
    assert done.status_code == 302 and done.location == "/login"
    assert device.get("/").location.startswith("/login")
    assert client.get("/api/v1/organisations", headers=token).status_code == 401
    assert sign_in(client, member, NEW).status_code == 302
    again = app.test_client()
    used = again.get(path)
    assert used.status_code == 400 and "does not work any more" in used.get_data(as_text=True)
    assert 'href="/forgot"' in used.get_data(as_text=True)
    assert again.post(path, data={"password": "another long passphrase", "confirm": "another long passphrase"}
                      ).status_code == 400
    assert sign_in(app.test_client(), member, "another long passphrase").status_code != 302
    assert "auth.password_reset_requested" in actions() and "user.password_reset" in actions()


def test_a_refused_password_keeps_the_link_usable(app, client, member):
    ask(client, member.email)
    path = link_in(resets()[0], app)
    short = choose(client, path, "short")
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    mismatch = choose(client, path, NEW, "a different long passphrase")
    assert mismatch.status_code == 400 and "not the same" in mismatch.get_data(as_text=True)
    assert choose(client, path).status_code == 302


def test_an_expired_or_tampered_link_does_not_work(app, client, member):
    old = recovery.make_url("", app.config["SECRET_KEY"], recovery.ResetLink(member.id, recovery.fingerprint(member)),
                            asked_at=utcnow() - recovery.max_age() - timedelta(seconds=1))
    assert client.get(old).status_code == 400
    fresh = recovery.make_url("", app.config["SECRET_KEY"],
                              recovery.ResetLink(member.id, recovery.fingerprint(member)), asked_at=utcnow())
    assert client.get(fresh[:-2] + "xx").status_code == 400
    assert client.get(fresh).status_code == 200


def test_two_factor_is_still_asked_afterwards(app, client, make):
    user = make.admin_of(make.org())
    make.enrol(user)
    ask(client, user.email)
    assert choose(client, link_in(resets()[0], app)).status_code == 302
    step = client.post("/login", data={"email": user.email, "password": NEW,
                                       "csrf_token": csrf_token(client, "/login")})
    assert step.status_code == 302 and step.location == "/login/code"
    assert client.post("/login/code", data={"code": totp_code(user), "csrf_token": csrf_token(client, "/login/code")}
                       ).location == "/"


def test_one_account_gets_a_few_emails_whoever_asks(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_PER_ACCOUNT", 2)
    for _ in range(4):
        assert ask(app.test_client(), member.email).status_code == 200  # the same answer every time
    assert len(resets()) == 2
    assert actions().count("auth.password_reset_throttled") == 2


def test_asking_is_limited_per_client_address(app_config, member):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "PASSWORD_RESET_RATE_LIMIT_ADDRESS": "2 per hour"})
    try:
        client = limited.test_client()
        for email in ("a@example.org", "b@example.org"):
            assert ask(client, email).status_code == 200
        refused = ask(client, "c@example.org")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert re.search(r"You can send again in \d+ (minute|hour)s?\.", refused.get_data(as_text=True))
    finally:
        limiter.reset()
        limiter.enabled = False


def test_operators_print_a_one_time_link(app, client, member):
    result = app.test_cli_runner().invoke(args=["users", "reset-password", member.email])
    assert result.exit_code == 0, result.output
    url = next(line for line in result.output.splitlines() if "/reset/" in line)
    path = url[url.index("/reset/"):]
    assert choose(client, path).status_code == 302
    assert app.test_client().get(path).status_code == 400
    assert "auth.password_reset_link_issued" in actions()
    unknown = app.test_cli_runner().invoke(args=["users", "reset-password", "nobody@example.org"])
    assert unknown.exit_code != 0
