"""A second page costs no stylesheet download: Chromium keeps the fingerprinted, immutable app.css
and asks the server for it once, however many signed-in pages follow."""
from __future__ import annotations

import pytest

from tests.browser.navigators import Nav


@pytest.mark.browser
def test_the_stylesheet_is_downloaded_once(make, live_server, new_page):
    reporter = make.admin_of(make.org())
    page = new_page(phone=True)
    fetched = []
    page.on("requestfinished", lambda request: fetched.append(request) if "/static/app.css" in request.url else None)
    nav = Nav(page, live_server)
    nav.sign_in(reporter.email)
    for path in ("/incidents/new", "/", "/incidents", "/incidents/new"):
        nav.goto(path)
    from_network = [r for r in fetched if not r.response().from_service_worker and r.sizes()["responseBodySize"] > 0]
    assert len(from_network) == 1, [r.url for r in fetched]
    assert "immutable" in from_network[0].response().headers["cache-control"]
