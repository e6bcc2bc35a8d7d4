"""Issue 11, finding 4: one normalisation of every identifier (members/contact.py), used by the
user lookup, the sign-in throttle's account key, the blind index and uniqueness alike. One test per
look-alike class: each spelling must be the same identity everywhere."""
from __future__ import annotations

import pytest

from solidarity import create_app
from solidarity.errors import ValidationError
from solidarity.extensions import limiter
from solidarity.members import service
from solidarity.members.contact import clean_email, clean_phone, email_key
from tests.conftest import csrf_token
from tests.factories import PASSWORD

CANONICAL = "finn.muller@bücher.example"
# What a person (or an attacker wanting a fresh allowance) may type for the same mailbox.
LOOKALIKES = {
    "case": "Finn.Muller@BÜCHER.Example",
    "fullwidth letters (NFKC)": "ｆｉｎｎ.ｍｕｌｌｅｒ@ｂüｃｈｅｒ.ｅｘａｍｐｌｅ",
    "ligature (NFKC)": "ﬁnn.muller@bücher.example",
    "punycode domain (IDNA)": "finn.muller@xn--bcher-kva.example",
    "trailing dot in the domain": "finn.muller@bücher.example.",
    "surrounding spaces": "  finn.muller@bücher.example\u00a0",
}


@pytest.mark.parametrize("spelling", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_each_lookalike_email_is_the_same_address(spelling):
    assert clean_email(spelling) == CANONICAL


@pytest.mark.parametrize("spelling", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_each_lookalike_email_finds_the_account_and_cannot_register_again(make, session, now, spelling):
    org = make.org()
    user = service.add_user(session, make.admin_of(org), org, {"name": "Finn", "email": CANONICAL}, now=now)
    assert service.find_user_by_email(session, spelling).id == user.id
    with pytest.raises(ValidationError) as caught:
        service.add_user(session, make.admin_of(org), org, {"name": "Twin", "email": spelling}, now=now)
    assert caught.value.errors[0].field == "email"


def test_stored_ascii_addresses_keep_their_index():
    # Compatibility: for addresses valid before this normalisation the result is what was stored.
    assert clean_email("Amina@Haki.Example") == "amina@haki.example"
    assert clean_email("user@xn--bcher-kva.example") == "user@bücher.example"


def test_not_an_address_finds_no_one(session):
    for typed in ("", "finn", "finn@", "finn@bücher..example", None):
        assert email_key(typed) is None
        assert service.find_user_by_email(session, typed) is None


@pytest.mark.parametrize("typed, region", [
    ("+254712345678", None),        # international
    ("+254 712 345 678", None),     # spaced
    ("+254-712-345-678", None),     # dashed
    ("0712 345 678", "KE"),         # national, read in the organisation's country
    ("(0712) 345-678", "KE"),
    ("＋２５４７１２３４５６７８", None),  # fullwidth digits
    (" +254712345678 ", None),
])
def test_each_phone_spelling_is_one_number(typed, region):
    assert clean_phone(typed, region=region) == "+254712345678"


def test_a_national_number_needs_a_country(make, session, now):
    with pytest.raises(ValidationError):
        clean_phone("0712 345 678")
    org = make.org(country="KE")
    user = service.add_user(session, make.admin_of(org), org, {"name": "P", "email": "p@x.example",
                                                               "phone": "0712 345 678"}, now=now,
                            proven_phone=True)
    assert user.phone == "+254712345678"
    assert [u.id for u in service.find_users_by_phone(session, "+254 712-345-678")] == [user.id]


# -- The sign-in limit keys on the same identity --------------------------------------------------------

@pytest.fixture
def limited_app(app, app_config):
    try:
        yield create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "100 per minute",
                          "LOGIN_ACCOUNT_RATE_LIMIT": "3 per hour"})
    finally:
        limiter.reset()
        limiter.enabled = False


def _attempt(app, n: int, email: str) -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"
    return client.post("/login", data={"email": email, "password": "wrong password!!",
                                       "csrf_token": csrf_token(client, "/login")}).status_code


def test_lookalike_spellings_share_one_sign_in_allowance(limited_app):
    spellings = [CANONICAL, *LOOKALIKES.values()]
    codes = [_attempt(limited_app, n, email) for n, email in enumerate(spellings)]
    # Three wrong passwords for the account, whatever the spelling; then every spelling waits.
    assert codes == [400, 400, 400] + [429] * (len(spellings) - 3)


def test_the_right_password_under_a_lookalike_spelling_signs_in(client, make, session, now):
    org = make.org()
    service.add_user(session, make.admin_of(org), org, {"name": "Finn", "email": CANONICAL, "password": PASSWORD},
                     now=now)
    response = client.post("/login", data={"email": LOOKALIKES["punycode domain (IDNA)"], "password": PASSWORD,
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302

