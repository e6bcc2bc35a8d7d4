from tests.factories import bearer


def test_create_org_and_offer_via_api(client, make):
    coord = make.coordinator()
    token = make.token(coord)
    r = client.post("/api/v1/organisations", headers=bearer(token), json={
        "name": "Haki Watch", "country": "ke", "languages": ["sw", "en"],
        "admin": {"name": "Amina", "email": "Amina@Haki.example", "phone": "+254 712 345678"}})
    assert r.status_code == 201, r.json
    assert r.json["region"] == "014"
