"""Light on the wire: pages compressed, the stylesheet fetched once (fingerprinted, immutable),
signed-in pages never stored, and the report form's weight on the wire, measured."""
from __future__ import annotations

import gzip
import re

from tests.factories import sign_in

WIRE_BUDGET = 6 * 1024  # bytes of the report form, gzip-compressed, headers aside


def stylesheet(html: str) -> str:
    return re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)


def test_pages_are_compressed_for_a_client_that_accepts_it(client, make):
    sign_in(client, make.admin_of(make.org()))
    response = client.get("/incidents/new", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert b"<form" in gzip.decompress(response.data)
    plain = client.get("/incidents/new")  # no Accept-Encoding: sent as it is
    assert "Content-Encoding" not in plain.headers and b"<form" in plain.data


def test_the_report_form_fits_its_budget_on_the_wire(client, make, record_property):
    sign_in(client, make.admin_of(make.org()))
    response = client.get("/incidents/new", headers={"Accept-Encoding": "gzip"})
    wire, raw = len(response.data), len(gzip.decompress(response.data))
    record_property("report_form_bytes_on_the_wire", wire)
    print(f"\nreport form: {raw} bytes, {wire} bytes gzipped on the wire")  # quoted in bench/README.md
    assert wire <= WIRE_BUDGET


def test_static_files_are_fingerprinted_and_cached_for_ever_even_when_signed_in(client, make):
    sign_in(client, make.admin_of(make.org()))
    page = client.get("/incidents/new")
    href = stylesheet(page.get_data(as_text=True))
    assert re.fullmatch(r"/static/app\.css\?v=[0-9a-f]{16}", href)
    assert "no-store" in page.headers["Cache-Control"]  # the page itself is never stored
    css = client.get(href)
    assert css.status_code == 200 and css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # A second page names the same URL: the browser's copy serves it, nothing is downloaded again.
    assert stylesheet(client.get("/").get_data(as_text=True)) == href


def test_only_the_current_fingerprint_is_cached_for_ever(client, make):
    sign_in(client, make.admin_of(make.org()))
    for stale in ("/static/app.css?v=0000000000000000", "/static/app.css"):
        response = client.get(stale)
        assert response.status_code == 200 and "immutable" not in response.headers.get("Cache-Control", "")
        assert "no-store" in response.headers["Cache-Control"]


def test_the_fingerprint_follows_the_content(app, tmp_path):
    from solidarity.http import static_fingerprint

    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "a.css").write_text("a{}")
    original, app.static_folder = app.static_folder, str(folder)
    try:
        with app.test_request_context():
            first = static_fingerprint("a.css")
            (folder / "a.css").write_text("a{color:red}")
            assert static_fingerprint("a.css") != first
            assert static_fingerprint("missing.css") is None and static_fingerprint("../x") is None
    finally:
        app.static_folder = original
