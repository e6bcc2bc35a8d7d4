"""Adding, editing, confirming and withdrawing offers on the organisation page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from solidarity.offers.models import Offer
from tests.web.pages import errors_by_field, post, sign_in


@pytest.fixture
def admin_client(client, make):
    org = make.org(country="CO", languages=("es",))
    sign_in(client, make.admin_of(org))
    client.org = org
    return client


def offers_of(session, org) -> list[Offer]:
    session.expire_all()
    return list(session.scalars(select(Offer).where(Offer.organisation_id == org.id)))


def test_a_new_offer_starts_where_the_organisation_is(admin_client):
    org = admin_client.org
    form = admin_client.get(f"/organisations/{org.id}/offers/new").get_data(as_text=True)
    assert '<option selected value="CO">Colombia</option>' in form and 'value="es"' in form
    assert 'value="005"' in form and "South America" in form  # regions are offered by name
    for help_type in ("legal", "digital_security", "emergency_funds", "relocation"):
        assert f'value="{help_type}"' in form


def test_an_admin_adds_an_offer(admin_client, session):
    org = admin_client.org
    response = post(admin_client, f"/organisations/{org.id}/offers/new", {
        "help_type": "digital_security", "countries": ["CO", "VE"], "regions": ["013"], "languages": "es, en",
        "capacity": "3", "notes": "Device checks within 24 hours"})
    assert response.status_code == 302 and response.location == "/organisation"  # the message at the top
    [offer] = offers_of(session, org)
    assert (offer.help_type, offer.countries, offer.regions, offer.worldwide) == (
        "digital_security", ["CO", "VE"], ["013"], False)
    assert (offer.languages, offer.capacity, offer.active, offer.notes) == (["en", "es"], 3, True,
                                                                            "Device checks within 24 hours")
    page = admin_client.get("/organisation").get_data(as_text=True)
    assert "Digital security" in page and "Colombia, Venezuela" in page and "Central America" in page
    assert "up to 3 cases at once" in page and "Device checks within 24 hours" in page


def test_an_invalid_offer_names_each_field_and_writes_nothing(admin_client, session):
    org = admin_client.org
    response = post(admin_client, f"/organisations/{org.id}/offers/new", {
        "help_type": "astrology", "regions": ["999"], "languages": "zz", "capacity": "0"})
    assert response.status_code == 422
    errors = errors_by_field(response.get_data(as_text=True))
    assert set(errors) == {"help_type", "regions", "languages", "capacity"}
    nowhere = post(admin_client, f"/organisations/{org.id}/offers/new", {"help_type": "legal", "languages": "es",
                                                                        "capacity": "2.5"})
    assert nowhere.status_code == 422
    assert set(errors_by_field(nowhere.get_data(as_text=True))) == {"capacity"}
    uncovered = post(admin_client, f"/organisations/{org.id}/offers/new", {"help_type": "legal", "languages": "es",
                                                                          "capacity": "2"})
    assert errors_by_field(uncovered.get_data(as_text=True)) == {
        "countries": ["cover at least one country or region, or set worldwide"]}
    assert offers_of(session, org) == []


def test_an_admin_edits_and_pauses_an_offer(admin_client, session, make):
    org = admin_client.org
    offer = make.offer(org, "legal", capacity=1)
    confirmed = offer.confirmed_at
    path = f"/offers/{offer.id}/edit"
    form = admin_client.get(path).get_data(as_text=True)
    assert '<option selected value="CO">' in form and 'name="active" type="checkbox" value="y"' in form
    response = post(admin_client, path, {"help_type": "legal", "worldwide": "y", "languages": "es", "capacity": "4"})
    assert response.status_code == 302
    [saved] = offers_of(session, org)
    assert saved.worldwide and saved.countries == [] and saved.capacity == 4
    assert saved.active is False and saved.confirmed_at >= confirmed
    assert "paused" in admin_client.get("/organisation").get_data(as_text=True)


def test_an_invalid_edit_changes_nothing(admin_client, session, make):
    offer = make.offer(admin_client.org, "legal", capacity=2)
    response = post(admin_client, f"/offers/{offer.id}/edit", {"help_type": "legal", "languages": "es",
                                                               "capacity": "500", "active": "y"})
    assert response.status_code == 422
    assert set(errors_by_field(response.get_data(as_text=True))) == {"capacity"}
    [kept] = offers_of(session, admin_client.org)
    assert kept.capacity == 2 and kept.countries == ["CO"]


def test_an_admin_confirms_an_offer_as_current(admin_client, session, make):
    offer = make.offer(admin_client.org, "relocation")
    offer.confirmed_at -= timedelta(days=200)
    session.commit()
    stale = offer.confirmed_at
    assert "not matched since" in admin_client.get("/organisation").get_data(as_text=True)
    response = post(admin_client, f"/offers/{offer.id}/confirm", page="/organisation")
    assert response.status_code == 302
    [confirmed] = offers_of(session, admin_client.org)
    assert "not matched since" not in admin_client.get("/organisation").get_data(as_text=True)
    assert confirmed.confirmed_at - stale > timedelta(days=199)


def test_withdrawing_asks_first_then_removes_the_offer(admin_client, session, make):
    offer = make.offer(admin_client.org, "diplomatic")
    path = f"/offers/{offer.id}/withdraw"
    question = admin_client.get(path)
    assert question.status_code == 200 and "Withdraw the diplomatic offer?" in question.get_data(as_text=True)
    assert len(offers_of(session, admin_client.org)) == 1
    response = post(admin_client, path)
    assert response.status_code == 302 and response.location == "/organisation"  # the message at the top
    assert session.scalar(select(func.count()).select_from(Offer)) == 0
