"""Driving the HTML pages the way a browser without JavaScript does: GET the form, POST it back with its token."""
from __future__ import annotations

import re

from tests import factories
from tests.conftest import csrf_token
from tests.factories import PASSWORD

BUDGET = 30 * 1024  # a page with its stylesheet, on a weak connection


def sign_in(client, user, password: str = PASSWORD) -> None:
    response = factories.sign_in(client, user, password)
    assert response.status_code == 302, response.get_data(as_text=True)


def post(client, path: str, data: dict | None = None, *, page: str | None = None):
    """POST `data` to `path` with the CSRF token of the page the form is on (`path` by default)."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page or path)})


def errors_by_field(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, message in re.findall(r'<p class="error" id="([a-z_]+)-err">([^<]*)</p>', html):
        found.setdefault(field, []).append(message)
    return found


def weight(client, html: bytes) -> int:
    stylesheets = re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html)
    return len(html) + sum(len(client.get(href.decode()).get_data()) for href in stylesheets)
