"""Answer links from emails: sign-in first, a confirm page, a CSRF-protected post, and one use only."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.matching.models import Match, MatchStatus
from solidarity.notify import links
from tests import factories
from tests.conftest import CSRF_RE


def sign_in(client, user) -> None:
    assert factories.sign_in(client, user).status_code == 302


@pytest.fixture
def asked(make, session, now):
    reporter_org = make.org(country="KE")
    responder_org = make.org(country="KE")
    make.offer(responder_org, "legal")
    incident = make.incident(make.admin_of(reporter_org), now=utcnow())
    match = session.scalar(select(Match))
    return incident, match, make.admin_of(responder_org)


def link_path(app, match, user, accept=True, at=None):
    token = links.make_token(app.config["SECRET_KEY"], links.AnswerLink(match.id, user.id, accept), now=at or utcnow())
    return links.PATH + token


def test_the_link_leads_through_sign_in_to_a_confirm_page(app, client, session, asked):
    incident, match, responder = asked
    path = link_path(app, match, responder)
    first = client.get(path)
    assert first.status_code == 302 and first.location.startswith("/login?next=" + quote(path, safe=""))
    sign_in(client, responder)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Accept case {incident.ref}?" in html
    assert "Police at the office" not in html  # the summary waits until the answer
    session.expire_all()
    assert match.status is MatchStatus.notified  # looking changes nothing

    token = CSRF_RE.search(html).group(1)
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 302 and done.location.endswith(f"/incidents/{incident.id}")
    session.expire_all()
    assert (match.status, match.answered_by_id) == (MatchStatus.accepted, responder.id)

    again = client.get(path)
    assert again.status_code == 409 and "already answered" in again.get_data(as_text=True)


def test_decline_link(app, client, session, asked):
    incident, match, responder = asked
    path = link_path(app, match, responder, accept=False)
    sign_in(client, responder)
    html = client.get(path).get_data(as_text=True)
    assert f"Decline case {incident.ref}?" in html
    client.post(path, data={"csrf_token": CSRF_RE.search(html).group(1)})
    session.expire_all()
    assert match.status is MatchStatus.declined


def test_a_post_without_the_csrf_token_answers_nothing(app, client, session, asked):
    _, match, responder = asked
    path = link_path(app, match, responder)
    sign_in(client, responder)
    assert client.post(path, data={}).status_code == 400
    session.expire_all()
    assert match.status is MatchStatus.notified


def test_a_colleague_who_opens_the_link_answers_as_themselves(app, client, make, session, asked):
    incident, match, responder = asked
    colleague = make.user(responder.organisation)
    sign_in(client, colleague)
    path = link_path(app, match, responder)
    html = client.get(path).get_data(as_text=True)
    assert f"Accept case {incident.ref}?" in html
    assert "sent to a colleague" in html and f"You answer as yourself, <bdi>{colleague.name}</bdi>" in html
    done = client.post(path, data={"csrf_token": CSRF_RE.search(html).group(1)})
    assert done.status_code == 302
    session.expire_all()
    assert (match.status, match.answered_by_id) == (MatchStatus.accepted, colleague.id)


def test_someone_of_another_organisation_cannot_use_the_link(app, client, make, session, asked):
    _, match, responder = asked
    sign_in(client, make.admin_of(make.org()))
    response = client.get(link_path(app, match, responder))
    assert response.status_code == 403 and "sent to someone else" in response.get_data(as_text=True)
    assert client.post(link_path(app, match, responder), data={}).status_code in (400, 403)
    session.expire_all()
    assert match.status is MatchStatus.notified


@pytest.mark.parametrize("broken", ["expired", "tampered"])
def test_expired_or_tampered_links_are_refused(app, client, session, asked, broken):
    _, match, responder = asked
    if broken == "expired":
        path = link_path(app, match, responder, at=utcnow() - timedelta(days=3, minutes=1))
    else:
        path = link_path(app, match, responder)[:-3] + "xyz"
    sign_in(client, responder)
    response = client.get(path)
    assert response.status_code == 400
    assert ("expired" if broken == "expired" else "not valid") in response.get_data(as_text=True)
