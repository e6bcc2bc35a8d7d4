"""After sign-in the browser goes only to a path on this site (solidarity.http.safe_next), whatever
`next` holds: a redirect elsewhere would hand the password and the two-factor code to a look-alike."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from solidarity.http import safe_next
from tests.conftest import csrf_token
from tests.factories import PASSWORD, totp_code

# As the attacker's link carries them in the query string (decoded once by the server).
HOSTILE = [
    "/\t/evil.example",             # browsers drop the tab: //evil.example
    "/\n/evil.example", "/\r/evil.example",
    "/\r\nSet-Cookie: session=planted",
    "//evil.example", "///evil.example", "////evil.example/x",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\\/evil.example",
    "https://evil.example", "https:evil.example", "https:/evil.example", "HTTPS://evil.example",
    "//evil.example@localhost", "/ /evil.example", " //evil.example",
    "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%2fevil.example", "/%5Cevil.example", "%5C%5Cevil.example",
    "/%09/evil.example", "/%0D%0ALocation:%20//evil.example", "/%252F%252Fevil.example",
    "/\uff0f\uff0fevil.example",    # fullwidth solidus, a slash after NFKC
    "/\u2215\u2215evil.example",    # division slash
    "/\u3002evil.example", "/\u200b/evil.example", "/\u202e/elpmaxe.live",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "/javascript:alert(1)//x\\y",
    "data:text/html,<script>alert(1)</script>", "", "x" * 3000, "/" + "a" * 3000,
]
SAME_SITE = ["/", "/incidents?status=open", "/incidents/3f6c1f9e-1d7a-4c57-9a55-1f6b7d0c2b11#timeline",
             "/organisation?q=%D8%A7%D9%84%D9%86%D9%88%D8%B1"]


@pytest.mark.parametrize("target", [*HOSTILE, "\x00//evil.example", "/\x1b[2J"])
def test_safe_next_refuses_anything_but_a_plain_path(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", SAME_SITE)
def test_safe_next_keeps_paths_of_this_site(target):
    assert safe_next(target) == target


def test_safe_next_refuses_what_is_not_text():
    assert safe_next(None) is None and safe_next(["/"]) is None and safe_next(b"/x") is None


def _password_step(client, user, target: str):
    return client.post("/login", query_string={"next": target},
                       data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")})


def _lands_on_this_site(response, expected: str = "/") -> None:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location == expected
    assert not urlsplit(location).netloc and not urlsplit(location).scheme


def test_the_reported_payload_goes_home(app, client, make):
    user = make.admin_of(make.org())
    token = csrf_token(client, "/login")
    response = client.post("/login?next=/%09/evil.example",
                           data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    _lands_on_this_site(response)
    assert client.get("/").status_code == 200  # signed in all the same


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_with_a_hostile_next_goes_home(app, client, make, target):
    user = make.admin_of(make.org())
    _lands_on_this_site(_password_step(client, user, target))


def test_a_null_byte_in_next_is_refused_as_any_hostile_input_is(app, client, make):
    # Control characters other than tab and line breaks never reach a view (solidarity/text.py).
    user = make.admin_of(make.org())
    response = _password_step(client, user, "\x00//evil.example")
    assert response.status_code == 422 and "next" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in


@pytest.mark.parametrize("target", HOSTILE)
def test_the_second_factor_step_with_a_hostile_next_goes_home(app, client, make, target):
    user = make.admin_of(make.org())
    make.enrol(user)
    assert _password_step(client, user, target).headers["Location"] == "/login/code"
    response = client.post("/login/code", data={"code": totp_code(user),
                                                "csrf_token": csrf_token(client, "/login/code")})
    _lands_on_this_site(response)


@pytest.mark.parametrize("target", SAME_SITE[1:3])
def test_both_steps_keep_a_same_site_next(app, client, make, target):
    user = make.admin_of(make.org())
    _lands_on_this_site(_password_step(client, user, target), target)
    other = app.test_client()
    enrolled = make.admin_of(make.org())
    make.enrol(enrolled)
    _password_step(other, enrolled, target)
    response = other.post("/login/code", data={"code": totp_code(enrolled),
                                               "csrf_token": csrf_token(other, "/login/code")})
    _lands_on_this_site(response, target)
