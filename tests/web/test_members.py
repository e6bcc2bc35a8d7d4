"""Applying, the organisation page, its profile and people, one's account, and vouching."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from solidarity import create_app
from solidarity.clock import utcnow
from solidarity.extensions import limiter
from solidarity.members import phones, service
from solidarity.members.models import Organisation, Role, SignInSession, User, Vetting
from solidarity.notify import links
from tests.factories import PASSWORD
from tests.web.pages import BUDGET, errors_by_field, post, sign_in, weight

NEW_PASSWORD = "a different long passphrase"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def application(**overrides) -> dict:
    data = {"name": "Tamarind Street Legal Clinic", "country": "KE", "languages": "sw, en",
            "consent_share_contacts": "y", "admin_name": "Wanjiru Odhiambo", "admin_email": "Wanjiru@Tamarind.example",
            "admin_phone": "+254 712 345678", "admin_password": PASSWORD}
    data.update(overrides)
    return data


def test_the_login_page_links_to_the_application(client):
    assert 'href="/apply"' in client.get("/login").get_data(as_text=True)


def test_an_organisation_applies_and_its_admin_can_sign_in(client, session):
    response = post(client, "/apply", application())
    assert response.status_code == 302 and response.location == "/login"
    assert "has applied to join" in client.get("/login").get_data(as_text=True)
    org = session.scalars(select(Organisation)).one()
    assert (org.name, org.country, org.region, org.languages) == ("Tamarind Street Legal Clinic", "KE", "014",
                                                                  ["sw", "en"])
    assert org.vetting_status is Vetting.applied and org.consent_share_contacts is True
    admin = org.users[0]
    assert admin.role is Role.org_admin and admin.email == "wanjiru@tamarind.example"
    # The number is not the admin's until the code texted to it comes back (tests/members/test_phones.py).
    assert admin.phone is None
    assert phones.open_claim(session, admin, now=utcnow()).phone == "+254712345678"
    # The password works once the emailed link proved the mailbox (tests/web/test_no_enumeration.py).
    refused = post(client, "/login", {"email": admin.email, "password": PASSWORD})
    assert refused.status_code == 400 and "Email or password is wrong." in refused.get_data(as_text=True)
    confirm = links.CONFIRM_PATH + links.make_confirm_token(client.application.config["SECRET_KEY"], admin.id,
                                                            now=utcnow())
    assert post(client, confirm, {}).status_code == 302
    sign_in(client, admin)
    page = client.get("/organisation").get_data(as_text=True)
    assert "Tamarind Street Legal Clinic" in page and "Waiting to be vetted" in page


def test_an_invalid_application_names_every_field_and_writes_nothing(client, session):
    response = post(client, "/apply", application(name=" ", country="", languages="sw, xx", admin_name="",
                                                   admin_email="not-an-email", admin_phone="0712",
                                                   admin_password="short"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = errors_by_field(html)
    assert set(errors) == {"name", "country", "languages", "admin_name", "admin_email", "admin_phone",
                           "admin_password"}
    assert errors["country"] == ["is required"] and "xx" in errors["languages"][0]
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    # What was chosen comes back, the password does not.
    assert '<option selected value="sw">Swahili</option>' in html and "short" not in html
    assert count(session, Organisation) == 0 and count(session, User) == 0


def test_an_application_needs_a_password_and_never_says_an_email_is_registered(client, session, make):
    taken = make.admin_of(make.org())
    response = post(client, "/apply", application(admin_password="", admin_email=taken.email))
    assert response.status_code == 422
    assert errors_by_field(response.get_data(as_text=True)) == {"admin_password": ["is required"]}
    assert count(session, Organisation) == 1


def test_a_post_without_its_csrf_token_is_refused(client, session):
    response = client.post("/apply", data=application())
    assert response.status_code == 400
    assert count(session, Organisation) == 0


@pytest.fixture
def limited_client(app, app_config):
    # Limits are off in tests; Flask-Limiter reads that once, when an app is built, so build one with them on.
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "APPLY_RATE_LIMIT": "2 per hour"})
    try:
        yield limited.test_client()
    finally:
        limiter.reset()
        limiter.enabled = False


def test_applications_are_rate_limited(limited_client):
    for _ in range(2):
        assert post(limited_client, "/apply", application(name="")).status_code == 422
    response = post(limited_client, "/apply", application())
    assert response.status_code == 429
    assert limited_client.get("/apply").status_code == 200  # reading the form is not limited


@pytest.fixture
def org_with_people(make):
    org = make.org(country="SN", languages=("fr", "wo"))
    return org, make.admin_of(org), make.user(org, role="member", phone="+221771234567")


def test_members_see_their_organisation_and_only_admins_may_change_it(client, session, make, org_with_people):
    org, admin, member = org_with_people
    make.offer(org, "legal", notes="Two lawyers on call")
    sign_in(client, member)
    page = client.get("/organisation").get_data(as_text=True)
    assert org.name in page and "Senegal" in page and "French, Wolof" in page
    assert member.email in page and "+221771234567" in page and admin.email in page
    assert "Legal" in page and "Two lawyers on call" in page
    assert "Edit the profile" not in page and "Add a person" not in page and "Add an offer" not in page
    assert client.get(f"/organisations/{org.id}").status_code == 200
    assert client.get(f"/organisations/{org.id}/edit").status_code == 403
    assert post(client, f"/organisations/{org.id}/edit", {"name": "Taken over"}, page="/account").status_code == 403
    assert client.get(f"/organisations/{org.id}/users/new").status_code == 403
    session.refresh(org)
    assert org.name != "Taken over"


def test_an_admin_edits_the_profile(client, session, org_with_people):
    org, admin, _ = org_with_people
    sign_in(client, admin)
    path = f"/organisations/{org.id}/edit"
    form = client.get(path).get_data(as_text=True)
    assert '<option selected value="fr">French</option>' in form
    assert '<option selected value="wo">Wolof</option>' in form
    assert '<option selected value="SN">' in form  # languages and countries picked by name, not typed as codes
    response = post(client, path, {"name": "Baobab Rights Watch", "country": "ML", "languages": "fr, bm"})
    assert response.status_code == 302 and response.location == "/organisation"
    session.refresh(org)
    assert (org.name, org.country, org.region, org.languages) == ("Baobab Rights Watch", "ML", "011", ["fr", "bm"])
    assert org.consent_share_contacts is False  # an unticked box is a no


def test_an_invalid_profile_is_shown_again_and_nothing_changes(client, session, org_with_people):
    org, admin, _ = org_with_people
    sign_in(client, admin)
    response = post(client, f"/organisations/{org.id}/edit", {"name": "", "country": "XX", "languages": ""})
    assert response.status_code == 422
    assert set(errors_by_field(response.get_data(as_text=True))) == {"name", "country", "languages"}
    session.refresh(org)
    assert org.country == "SN" and org.languages == ["fr", "wo"]


def test_an_admin_adds_a_person_who_can_then_sign_in(app, client, session, org_with_people):
    org, admin, _ = org_with_people
    sign_in(client, admin)
    path = f"/organisations/{org.id}/users/new"
    response = post(client, path, {"name": "Fatou Diop", "email": "fatou@baobab.example", "phone": "",
                                   "role": "org_admin", "preferred_language": "fr", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.location == "/organisation"
    added = service.find_user_by_email(session, "fatou@baobab.example")
    assert added.name == "Fatou Diop"
    assert added.organisation_id == org.id and added.role is Role.org_admin and added.preferred_language == "fr"
    sign_in(app.test_client(), added, NEW_PASSWORD)


def test_an_invalid_person_is_not_added(client, session, org_with_people):
    org, admin, member = org_with_people
    sign_in(client, admin)
    response = post(client, f"/organisations/{org.id}/users/new", {
        "name": "", "email": member.email, "phone": "+1 555", "role": "coordinator", "preferred_language": "fr",
        "password": "short"})
    assert response.status_code == 422
    assert set(errors_by_field(response.get_data(as_text=True))) == {"name", "email", "phone", "role", "password"}
    assert count(session, User) == 3  # the coordinator who vetted the organisation, its admin, its member


def test_a_person_edits_their_account(client, session, org_with_people):
    _, _, member = org_with_people
    sign_in(client, member)
    form = client.get("/account").get_data(as_text=True)
    assert f'value="{member.email}"' in form and 'value="+221771234567"' in form
    response = post(client, "/account", {"name": "Awa Ndiaye", "email": "awa@baobab.example", "phone": "",
                                         "preferred_language": "fr", "notify_email": "y",
                                             "current_password": PASSWORD})
    assert response.status_code == 302 and response.location == "/account"
    session.refresh(member)
    assert (member.name, member.email, member.phone, member.preferred_language) == (
        "Awa Ndiaye", "awa@baobab.example", None, "fr")
    assert member.notify_sms is False and member.notify_email is True


def test_an_invalid_account_change_keeps_the_old_values(client, session, org_with_people):
    _, admin, member = org_with_people
    sign_in(client, member)
    response = post(client, "/account", {"name": "Awa", "email": admin.email, "phone": "12",
                                         "preferred_language": "xx", "notify_sms": "y",
                                         "current_password": PASSWORD})
    assert response.status_code == 422
    assert set(errors_by_field(response.get_data(as_text=True))) == {"email", "phone", "preferred_language"}
    session.refresh(member)
    assert member.name != "Awa" and member.phone == "+221771234567"


def test_changing_the_password_signs_out_the_other_devices(app, client, session, org_with_people):
    _, _, member = org_with_people
    other_device = app.test_client()
    sign_in(other_device, member)
    sign_in(client, member)
    wrong = post(client, "/account/password", {"current_password": "not my password", "password": "short"})
    assert wrong.status_code == 422
    assert set(errors_by_field(wrong.get_data(as_text=True))) == {"current_password", "password"}
    response = post(client, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302  # back to the sign-in page
    assert count(session, SignInSession) == 2
    sign_in(app.test_client(), member, NEW_PASSWORD)


def test_vetted_admins_vouch_and_the_second_vouch_vets(app, client, session, make):
    applicant = make.org("Kivuli Rights Desk", vetted=False)
    first, second = make.admin_of(make.org()), make.admin_of(make.org())
    sign_in(client, first)
    page = client.get("/applicants").get_data(as_text=True)
    assert "Kivuli Rights Desk" in page and "No vouches yet." in page
    assert post(client, f"/applicants/{applicant.id}/vouch", page="/applicants").status_code == 302
    again = post(client, f"/applicants/{applicant.id}/vouch", page="/applicants")
    assert again.status_code == 302 and "already vouched" in client.get("/applicants").get_data(as_text=True)
    session.refresh(applicant)
    assert applicant.vetting_status is Vetting.applied and len(applicant.vouches) == 1

    other = app.test_client()
    sign_in(other, second)
    post(other, f"/applicants/{applicant.id}/vouch", page="/applicants")
    session.refresh(applicant)
    assert applicant.vetting_status is Vetting.vetted
    assert "Nobody is waiting to join." in other.get("/applicants").get_data(as_text=True)


@pytest.mark.parametrize("who", ["member of a vetted organisation", "admin of an applicant", "coordinator"])
def test_only_admins_of_vetted_organisations_vouch(client, session, make, who):
    applicant = make.org(vetted=False)
    user = {"member of a vetted organisation": lambda: make.user(make.org()),
            "admin of an applicant": lambda: make.admin_of(make.org(vetted=False)),
            "coordinator": make.coordinator}[who]()
    sign_in(client, user)
    assert client.get("/applicants").status_code == 403
    assert post(client, f"/applicants/{applicant.id}/vouch", page="/account").status_code == 403
    session.refresh(applicant)
    assert applicant.vouches == []


def test_pages_are_light_and_script_free(client, make, org_with_people):
    org, admin, _ = org_with_people
    make.offer(org, "legal")
    for path in ("/apply", "/login"):
        html = client.get(path).get_data()
        assert weight(client, html) < BUDGET and b"<script" not in html and b"style=" not in html, path
    sign_in(client, admin)
    for path in ("/organisation", f"/organisations/{org.id}/edit", f"/organisations/{org.id}/users/new",
                 "/account", "/account/password", "/applicants", f"/organisations/{org.id}/offers/new"):
        response = client.get(path)
        html = response.get_data()
        assert response.status_code == 200, path
        assert weight(client, html) < BUDGET and b"<script" not in html and b"style=" not in html, path
