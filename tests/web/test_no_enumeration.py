"""Issue 11, finding 5: /apply and sign-in answer the same for registered and unknown addresses;
the owner of a registered address is told by email instead."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from solidarity.audit import AuditEvent
from solidarity.clock import utcnow
from solidarity.members import service
from solidarity.members.models import Organisation, User
from solidarity.notify import links, messages
from solidarity.notify.models import Channel, Notification
from tests.conftest import csrf_token
from tests.factories import PASSWORD

TOKEN = re.compile(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]+"')


def application(email: str, **overrides) -> dict:
    return {"name": "Mango Tree Collective", "country": "KE", "languages": "en", "admin_name": "Achieng",
            "admin_email": email, "admin_phone": "", "admin_password": PASSWORD, **overrides}


def submit(app, path: str, data: dict):
    client = app.test_client()
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, path)})
    follow = client.get(response.location) if response.status_code == 302 else None
    return response, follow


def _page(response, typed: str) -> str:
    return TOKEN.sub(r'\1TOKEN"', response.get_data(as_text=True)).replace(typed, "TYPED")


def notices(session) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.template == "registration_attempt")))


def test_apply_answers_byte_for_byte_the_same_for_a_registered_address(app, session, make):
    owner = make.admin_of(make.org())
    fresh, fresh_next = submit(app, "/apply", application("nobody@mango.example"))
    known, known_next = submit(app, "/apply", application(owner.email))
    assert (known.status_code, known.location) == (fresh.status_code, fresh.location) == (302, "/login")
    assert known.get_data() == fresh.get_data()
    assert _page(known_next, owner.email) == _page(fresh_next, "nobody@mango.example")
    # Nothing is written for the registered address: one new organisation, the fresh one.
    assert session.scalar(select(func.count()).select_from(Organisation)) == 2
    assert session.scalar(select(func.count()).select_from(User).where(User.email_index == owner.email_index)) == 1


def test_apply_with_an_input_error_answers_the_same_too(app, make):
    owner = make.admin_of(make.org())
    fresh, _ = submit(app, "/apply", application("nobody@mango.example", admin_password=""))
    known, _ = submit(app, "/apply", application(owner.email, admin_password=""))
    assert known.status_code == fresh.status_code == 422
    assert _page(known, owner.email) == _page(fresh, "nobody@mango.example")
    assert "already registered" not in known.get_data(as_text=True)


def test_the_owner_is_told_by_email_once_an_hour(app, session, make):
    owner = make.admin_of(make.org())
    for _ in range(3):
        submit(app, "/apply", application(owner.email.upper()))
    rows = notices(session)
    assert [(r.user_id, r.channel) for r in rows] == [(owner.id, Channel.email)]
    body = messages.render("registration_attempt", Channel.email, {}, "en", user_id=owner.id, match_id=None,
                           config=app.config, now=rows[0].created_at).body
    assert "Someone tried to register with your email address" in body


def test_a_fresh_application_sends_no_notice(app, session):
    submit(app, "/apply", application("nobody@mango.example"))
    assert notices(session) == []


def test_sign_in_answers_the_same_for_a_registered_and_an_unknown_address(app, make):
    owner = make.admin_of(make.org())
    wrong = {"password": "not the password at all"}
    known, _ = submit(app, "/login", {"email": owner.email, **wrong})
    unknown, _ = submit(app, "/login", {"email": "nobody@mango.example", **wrong})
    assert known.status_code == unknown.status_code == 400
    assert _page(known, owner.email) == _page(unknown, "nobody@mango.example")


def test_signing_in_after_applying_tells_nothing_either(app, session, make):
    """Apply with an address, then sign in with the password just chosen: refused alike for a
    registered address and a new one, until the new one's owner follows the emailed link."""
    owner = make.admin_of(make.org())
    for email in (owner.email, "nobody@mango.example"):
        submit(app, "/apply", application(email))
    known, _ = submit(app, "/login", {"email": owner.email, "password": PASSWORD + "x"})
    fresh, _ = submit(app, "/login", {"email": "nobody@mango.example", "password": PASSWORD})
    assert known.status_code == fresh.status_code == 400
    assert _page(known, owner.email) == _page(fresh, "nobody@mango.example")


def _confirm_link(app, session, email: str) -> str:
    user = service.find_user_by_email(session, email)
    row = session.scalar(select(Notification).where(Notification.template == "confirm_email",
                                                    Notification.user_id == user.id))
    assert row.channel is Channel.email and row.params == {}  # the link is signed at send time only
    body = messages.render(row.template, row.channel, row.params, "en", user_id=user.id, match_id=None,
                           config=app.config, now=utcnow()).body
    return re.search(r"https?://\S+(/apply/confirm/\S+)", body).group(1)


def test_the_emailed_link_confirms_the_address_once_then_the_password_works(app, session):
    submit(app, "/apply", application("nobody@mango.example"))
    path = _confirm_link(app, session, "nobody@mango.example")
    client = app.test_client()
    assert client.get(path).status_code == 200  # a GET only shows the button: mail scanners follow links
    assert service.find_user_by_email(session, "nobody@mango.example").email_confirmed_at is None
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 302
    signed_in, _ = submit(app, "/login", {"email": "nobody@mango.example", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 302  # harmless again
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action == "user.email_confirmed")))
    assert actions == ["user.email_confirmed"]


def test_a_forged_or_expired_link_confirms_nothing(app, session):
    submit(app, "/apply", application("nobody@mango.example"))
    user = service.find_user_by_email(session, "nobody@mango.example")
    secret = app.config["SECRET_KEY"]
    expired = links.make_confirm_token(secret, user.id, now=utcnow() - links.CONFIRM_MAX_AGE - timedelta(minutes=1))
    answer = links.make_token(secret, links.AnswerLink(uuid.uuid4(), user.id, True), now=utcnow())
    client = app.test_client()
    for token in (expired, answer, "not-a-token", links.make_confirm_token("another secret", user.id, now=utcnow())):
        assert client.get(links.CONFIRM_PATH + token).status_code == 400
    session.refresh(user)
    assert user.email_confirmed_at is None
