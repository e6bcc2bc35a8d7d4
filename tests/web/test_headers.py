"""Security headers on every response of every route of the app, for anonymous and signed-in
visitors, over HTTP and HTTPS; and the session cookie's flags.

The route list comes from app.url_map, so a new route is swept without anyone adding it here. Path
parameters are filled with the ids of a small real network (pages render as they would) or, for
names this test does not know, random values (the 404 and 400 answers need the headers as much).
"""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from solidarity import create_app
from solidarity.matching.models import Match
from tests.factories import sign_in

JSON_PREFIXES = ("/api/", "/webhooks/")


@pytest.fixture
def world(make):
    reporter = make.org(country="KE")
    responder = make.org(country="KE")
    offer = make.offer(responder, "legal")
    incident = make.incident(make.admin_of(reporter))
    match = make.session.scalars(select(Match).where(Match.incident_id == incident.id)).first()
    return {
        "org_id": reporter.id, "user_id": make.user(reporter).id, "offer_id": offer.id, "incident_id": incident.id,
        "match_id": match.id if match else uuid.uuid4(), "help_type": "legal", "filename": "app.css",
        "coordinator": make.coordinator(), "member": make.admin_of(reporter),
    }


def requests(app, world) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        values = {name: world.get(name) or (uuid.uuid4() if "uuid" in type(conv).__name__.lower() else "x1")
                  for name, conv in rule._converters.items()}
        with app.test_request_context():
            path = app.url_map.bind("localhost").build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    assert len(found) > 60  # the whole surface, not a sample
    return found


def check(response, method: str, path: str, *, https: bool, signed_in: bool) -> None:
    where = f"{method} {path} -> {response.status_code}"
    headers = response.headers
    # /readyz's 503 is its answer (no worker runs here), not a server error.
    assert response.status_code < 500 or (path == "/readyz" and response.status_code == 503), where
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives.get("frame-ancestors") == "'none'", where
    assert directives.get("script-src") == "'self'", where  # no 'unsafe-inline', no other origin
    assert directives.get("default-src") == "'self'" and directives.get("object-src") == "'none'", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    assert ("Strict-Transport-Security" in headers) is https, where
    if https:
        assert "max-age=" in headers["Strict-Transport-Security"], where
    if signed_in or path.startswith(JSON_PREFIXES):
        assert "no-store" in headers.get("Cache-Control", ""), where
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), f"{where}: inline script"


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("who", ["anonymous", "member", "coordinator"])
def test_every_route_sends_the_security_headers(app, world, who, https):
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, world[who])
    base = "https://localhost" if https else "http://localhost"
    for method, path in requests(app, world):
        response = client.open(path, method=method, base_url=base)
        check(response, method, path, https=https, signed_in=who != "anonymous")


def test_the_session_cookie_is_httponly_and_samesite(client):
    client.get("/login")
    cookie = client.get_cookie("solidarity_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure  # testing is plain HTTP


def test_outside_development_the_session_cookie_is_secure(app_config):
    production = create_app({**app_config, "ENV": "production", "SECRET_KEY": "s" * 32,
                             "ENCRYPTION_KEYS": "kprod:" + "A" * 42 + "Q=", "BLIND_INDEX_KEY": "B" * 42 + "Q="})
    client = production.test_client()
    response = client.get("/login", base_url="https://solidarity.example")
    cookie = client.get_cookie("solidarity_session", domain="solidarity.example")
    assert cookie is not None and cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert "Strict-Transport-Security" in response.headers


def test_an_oversized_form_gets_a_plain_page_with_the_navigation(client, make):
    from tests.factories import sign_in

    sign_in(client, make.admin_of(make.org()))
    response = client.post("/incidents/new", data={"summary": "x" * (300 * 1024)})
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and "What you sent is too large." in html
    assert "capacity limit" not in html and "Sign out" in html and 'href="/"' in html
    assert "<title>Error: Too large" in html
