"""LOG_FORMAT=json: one JSON object a line, with the request's id, route, status, duration and user
id, every field redacted; text stays the default."""
from __future__ import annotations

import json
import logging

import pytest
from flask import g

from solidarity import logs
from tests.factories import bearer

PHONE, EMAIL = "+254711830472", "canary-log-q7x2@tumaini.example"


@pytest.fixture
def json_lines(capsys):
    """Our handler in JSON on the root logger for one test; returns a reader of the parsed lines."""
    handler = logs.configure("json", logging.INFO, force=True)
    try:
        yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    finally:
        logging.getLogger().removeHandler(handler)


def test_text_is_the_default(app):
    assert app.config["LOG_FORMAT"] == "text"
    record = logging.LogRecord("solidarity.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    assert logs.formatter("text").format(record).endswith("INFO solidarity.x: hello there")


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="text or json"):
        logs.formatter("xml")


def test_a_request_writes_one_json_line_with_id_route_status_duration_and_user(client, make, json_lines):
    user = make.admin_of(make.org())
    json_lines()  # drop what setting up wrote
    response = client.get("/api/v1/incidents", headers={**bearer(make.token(user)), "X-Request-ID": "req-4f1a9c2e"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-4f1a9c2e"
    access = [line for line in json_lines() if line["logger"] == "solidarity.request"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-4f1a9c2e" and line["route"] == "incidents_api.Incidents"
    assert line["status"] == 200 and line["method"] == "GET" and isinstance(line["duration_ms"], float)
    assert line["user_id"] == str(user.id) and line["level"] == "INFO"
    assert user.email not in json.dumps(line)


@pytest.mark.parametrize("given", ["", "short", "has space in it", "x" * 200, "<script>alert(1)</script>"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_ours(client, given):
    response = client.get("/login", headers={"X-Request-ID": given} if given else {})
    ours = response.headers["X-Request-ID"]
    assert ours != given and len(ours) == 32 and ours.isalnum()


def test_lines_made_inside_a_request_carry_its_id(app, json_lines):
    with app.test_request_context("/"):
        app.preprocess_request()
        logging.getLogger("solidarity.test").info("inside")
        request_id = g.request_id
    lines = [line for line in json_lines() if line["logger"] == "solidarity.test"]
    assert lines[0]["request_id"] == request_id


def test_every_field_is_redacted_message_extras_and_traceback(json_lines):
    log = logging.getLogger("solidarity.test")
    log.info("sending to %s", PHONE, extra={"to": PHONE, "nested": {"email": EMAIL}, "many": [EMAIL]})
    try:
        raise RuntimeError(f"INSERT failed for {EMAIL} {PHONE}")
    except RuntimeError:
        log.exception("boom")
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in json_lines())
    assert "solidarity.test" in text and "boom" in text
    assert PHONE not in text and PHONE[1:] not in text and EMAIL not in text and "canary-log" not in text
    assert "[phone …72]" in text and "[email]@tumaini.example" in text


def test_configure_twice_keeps_one_handler():
    root = logging.getLogger()
    first = logs.configure("text", force=True)
    second = logs.configure("json", force=True)
    try:
        assert first not in root.handlers and second in root.handlers
        assert sum(getattr(h, "solidarity", False) for h in root.handlers) == 1
    finally:
        root.removeHandler(second)
