"""Coordinators vet organisations; the navigation follows each person's role."""
from __future__ import annotations

import re

from solidarity.members import service
from solidarity.members.models import Vetting
from tests.web.pages import BUDGET, post, sign_in, weight

PAGE = "/coordinator/organisations"


def nav(html: str) -> list[str]:
    block = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r"<a [^>]*>([^<]+)</a>", block)


def test_coordinators_see_organisations_by_vetting_status(client, session, make, now):
    applicant = make.org("Kivuli Rights Desk", vetted=False)
    vetted = make.org("Baobab Rights Watch")
    service.vouch(session, make.admin_of(vetted), applicant, now=now)
    sign_in(client, make.coordinator())
    html = client.get(PAGE).get_data(as_text=True)
    applying, vetted_part = html.split('id="applied"')[1].split('id="vetted"')
    assert "Kivuli Rights Desk" in applying and "Vouched for by Baobab Rights Watch." in applying
    assert "Approve" in applying and "Baobab Rights Watch</bdi></a>" in vetted_part and "Suspend" in vetted_part
    assert weight(client, html.encode()) < BUDGET and "<script" not in html


def test_a_coordinator_approves_suspends_and_reinstates(client, session, make):
    org = make.org(vetted=False)
    sign_in(client, make.coordinator())
    path = f"/coordinator/organisations/{org.id}/vetting"
    for status, expected in (("vetted", Vetting.vetted), ("suspended", Vetting.suspended),
                             ("vetted", Vetting.vetted)):
        response = post(client, path, {"status": status}, page=PAGE)
        assert response.status_code == 302 and response.location == PAGE  # no #fragment: the message shows at the top
        session.refresh(org)
        assert org.vetting_status is expected


def test_an_unknown_vetting_status_is_refused(client, session, make):
    org = make.org(vetted=False)
    sign_in(client, make.coordinator())
    response = post(client, f"/coordinator/organisations/{org.id}/vetting", {"status": "promoted"}, page=PAGE)
    assert response.status_code == 422 and "vetting_status" in response.get_data(as_text=True)
    session.refresh(org)
    assert org.vetting_status is Vetting.applied


def test_a_coordinator_opens_any_organisation_and_has_none_of_their_own(client, make):
    org = make.org("Baobab Rights Watch")
    sign_in(client, make.coordinator())
    assert client.get("/organisation").location == PAGE
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "Baobab Rights Watch" in html and "Edit the profile" in html


def test_the_navigation_follows_the_role(app, make):
    vetted, applicant = make.org(), make.org(vetted=False)
    expected = {
        make.coordinator(): {"Organisations", "My account"},
        make.admin_of(vetted): {"My organisation", "Applicants", "My account"},
        make.admin_of(applicant): {"My organisation", "My account"},
        make.user(vetted): {"My organisation", "My account"},
    }
    for user, shown in expected.items():
        client = app.test_client()
        sign_in(client, user)
        items = set(nav(client.get("/account").get_data(as_text=True)))
        mine = {"Organisations", "My organisation", "Applicants", "My account"}
        assert items & mine == shown, user.role


def test_the_current_page_is_marked_in_the_navigation(client, make):
    sign_in(client, make.admin_of(make.org()))
    html = client.get("/account").get_data(as_text=True)
    assert '<a href="/account" aria-current="page">My account</a>' in html
    assert 'href="/organisation" aria-current' not in html
