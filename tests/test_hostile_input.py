"""Hostile input answers 4xx naming the field and writes nothing, on the web, in the API and by SMS:
JSON nested thousands of levels deep, lone surrogates, NUL and other control characters, dates out
of any sane range, and invisible direction controls in names (solidarity/text.py, http.py)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from solidarity import text
from solidarity.errors import ValidationError
from solidarity.extensions import db
from solidarity.http import json_too_deep
from tests.api.test_organisations import VALID_ORG
from tests.factories import bearer
from tests.incidents import scenario
from tests.notify.conftest import twilio_settings  # noqa: F401 - a fixture, used by name below
from tests.notify.sms import reply_text, text_message
from tests.web.pages import errors_by_field, post, sign_in
from tests.web.test_members import application

REPORT = {"threat_type": "raid", "severity": 3, "country": "KE", "needs": ["legal"], "summary": "a report"}
INVISIBLE = ["\u202e", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069",
             "\u200b", "\u200e", "\u200f", "\u061c", "\ufeff", "\u2060", "\u00ad", "\u200d", "\u200c"]


def counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def refused(response, field: str, status: int = 422, says: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert field in errors, errors
    if says:
        assert says in errors[field]


def raw(client, path: str, headers: dict, body: str):
    return client.post(path, headers=headers, data=body.encode("utf-8", "surrogatepass"),
                       content_type="application/json")


@pytest.fixture
def coordinator_token(make):
    return bearer(make.token(make.coordinator()))


@pytest.fixture
def net(make):
    return scenario.members(make)


# -- The rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize("char", INVISIBLE)
def test_names_refuse_invisible_format_characters(char):
    with pytest.raises(ValidationError) as refusal:
        text.clean_name(f"Haki{char}Watch")
    assert refusal.value.errors[0].message.startswith("Remove the invisible formatting characters")


@pytest.mark.parametrize("name", ["نور الحقوق", "Ḩaqq Ōrganisation", "خانه\u200cی حقوق", "मानव\u200dअधिकार",
                                  "Amnesty  International\t"])
def test_names_keep_every_script_and_the_joiners_those_scripts_need(name):
    assert text.clean_name(name) == " ".join(name.split())


@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800b", "\udfff"])
def test_every_text_refuses_control_characters_and_lone_surrogates(value):
    for line in (True, False):
        with pytest.raises(ValidationError):
            text.clean_text(value, "details", 100, line=line)


def test_long_texts_keep_line_breaks_tabs_and_direction_marks():
    paragraph = "قائمة:\n\t1. المحامي\u200f (+254)\r\nline two"
    assert text.clean_text(paragraph, "details", 1000) == paragraph.strip()


@pytest.mark.parametrize("body, deep", [
    (b"[" * 21 + b"]" * 21, True), (b"[" * 20 + b"]" * 20, False),
    (b'{"a":' * 25 + b"1" + b"}" * 25, True),
    (b'{"a": "' + b"[" * 5000 + b'"}', False),             # brackets inside a string do not nest
    (b'{"a": "\\"' + b"[" * 50 + b'"}', False),             # nor after an escaped quote
    (b'["\\\\"' + b",[" * 30 + b"]" * 30 + b"]", True),     # an escaped backslash ends before the quote
])
def test_json_depth_is_measured_without_parsing(body, deep):
    assert json_too_deep(body, 20) is deep


# -- API ------------------------------------------------------------------------------------------

TWENTY_ONE_DEEP = {**VALID_ORG, "languages": ["en", {"a": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}]}


@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, '{"name":' * 3000 + "1" + "}" * 3000,
                                  "[" * 100000, json.dumps(TWENTY_ONE_DEEP)])
def test_api_refuses_json_nested_too_deep(client, coordinator_token, body):
    before = counts()
    refused(raw(client, "/api/v1/organisations", coordinator_token, body), "", 400, "deeper than 20")
    assert counts() == before


def test_api_deep_json_without_a_token_is_still_401(client):
    assert raw(client, "/api/v1/organisations", {}, "[" * 5000 + "]" * 5000).status_code == 401


@pytest.mark.parametrize("field, change", [
    ("name", {"name": "\ud800"}), ("name", {"name": "Haki\x00Watch"}), ("name", {"name": "Haki\x1b[31mWatch"}),
    ("admin.name", {"admin": {**VALID_ORG["admin"], "name": "Am\udc00ina"}}),
    ("admin.email", {"admin": {**VALID_ORG["admin"], "email": "amina\x00@haki.example"}}),
    ("languages.0", {"languages": ["s\x00w"]}),
])
def test_api_refuses_nul_controls_and_lone_surrogates_naming_the_field(client, coordinator_token, field, change):
    before = counts()
    refused(raw(client, "/api/v1/organisations", coordinator_token, json.dumps({**VALID_ORG, **change})), field)
    assert counts() == before


@pytest.mark.parametrize("field, change", [
    ("name", {"name": "Haki\u202eWatch"}), ("name", {"name": "\u200bHaki Watch"}),
    ("admin.name", {"admin": {**VALID_ORG["admin"], "name": "Amina\u2067"}}),
])
def test_api_refuses_invisible_characters_in_names(client, coordinator_token, field, change):
    before = counts()
    refused(client.post("/api/v1/organisations", headers=coordinator_token, json={**VALID_ORG, **change}), field,
            says="Remove the invisible formatting characters")
    assert counts() == before


@pytest.mark.parametrize("field, change", [
    ("summary", {"summary": "raid \ud83d now"}), ("details", {"details": "x\x00y"}),
    ("occurred_at", {"occurred_at": "0001-01-01T00:00:00+14:00"}),
    ("occurred_at", {"occurred_at": "9999-12-31T23:59:59-14:00"}),
    ("occurred_at", {"occurred_at": "1899-12-31T23:59:59Z"}),
    ("occurred_at", {"occurred_at": "0001-01-01T00:00:00Z"}),
])
def test_api_incident_refuses_hostile_fields(client, make, net, field, change):
    token = bearer(make.token(net.reporter))
    before = counts()
    response = raw(client, "/api/v1/incidents", token, json.dumps({**REPORT, **change}))
    refused(response, field)
    assert counts() == before


def test_api_incident_accepts_a_date_in_a_far_time_zone(client, make, net):
    response = client.post("/api/v1/incidents", headers=bearer(make.token(net.reporter)),
                           json={**REPORT, "occurred_at": "1900-01-02T12:00:00+14:00"})
    assert response.status_code == 201 and response.json["occurred_at"].startswith("1900-01-01T22:00:00")


def test_api_offer_notes_refuse_nul(client, make, net):
    org = net.a
    token = bearer(make.token(make.admin_of(org)))
    before = counts()
    response = client.post(f"/api/v1/organisations/{org.id}/offers", headers=token,
                           json={"help_type": "legal", "countries": ["KE"], "languages": ["en"], "notes": "a\x00"})
    refused(response, "notes")
    assert counts() == before


def test_query_parameters_are_checked_too(client, make, net):
    response = client.get("/api/v1/incidents?status=open%00", headers=bearer(make.token(net.reporter)))
    refused(response, "status")


# -- Web ------------------------------------------------------------------------------------------

def test_web_form_with_a_nul_is_refused_naming_the_field(client, session):
    before = counts()
    response = post(client, "/apply", application(name="Tamarind\x00Clinic"))
    assert response.status_code == 422
    assert "<b>name</b>: holds a control character (U+0000)" in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize("field, form_field", [("name", "name"), ("admin_name", "admin_name")])
def test_web_form_with_direction_controls_shows_the_error_next_to_the_field(client, field, form_field):
    before = counts()
    response = post(client, "/apply", application(**{field: "Tamarind\u202eClinic"}))
    assert response.status_code == 422
    errors = errors_by_field(response.get_data(as_text=True))
    assert errors[form_field][0].startswith("Remove the invisible formatting characters")
    assert counts() == before


def test_web_form_bytes_that_are_not_utf8_never_answer_500(client):
    from tests.conftest import csrf_token
    token = csrf_token(client, "/apply")
    response = client.post("/apply", data=f"csrf_token={token}&name=%ED%A0%80&admin_name=%FF%FE",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00", "1899-12-31T23:59", "9999-12-31T23:59"])
def test_web_incident_form_refuses_dates_out_of_range(client, make, net, occurred_at):
    sign_in(client, net.reporter)
    before = counts()
    response = post(client, "/incidents/new", {"threat_type": "raid", "severity": "3", "country": "KE",
                                               "needs": ["legal"], "occurred_at": occurred_at,
                                               "contact_user_id": str(net.reporter.id)})
    assert response.status_code == 422
    assert "occurred_at" in errors_by_field(response.get_data(as_text=True))
    assert counts() == before


# -- SMS ------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("twilio_settings")
def test_sms_body_with_a_nul_is_refused_and_nothing_is_filed(client, net):
    before = counts()
    response = text_message(client, net.reporter_member.phone, "RAID\x00 HELP LEGAL")
    refused(response, "Body")
    assert counts() == before


@pytest.mark.parametrize("body", ["RAID\u202e", "\ufeffRAID", "R\u200bA\u200bI\u200bD", "%ED%A0%80"])
@pytest.mark.usefixtures("twilio_settings")
def test_sms_body_with_invisible_characters_never_answers_500(client, net, body):
    assert reply_text(text_message(client, net.reporter_member.phone, body))


# -- Shown isolated -------------------------------------------------------------------------------

def test_names_are_shown_isolated_so_an_arabic_name_sits_correctly_in_an_english_page(client, make):
    org = make.org("نور للحقوق")
    admin = make.admin_of(org)
    admin.name = "أمينة"
    make.session.commit()
    sign_in(client, admin)
    home = client.get("/").get_data(as_text=True)
    assert "signed in as <bdi>أمينة</bdi>" in home and "<bdi>نور للحقوق</bdi>" in home
    assert "<h1><bdi>نور للحقوق</bdi></h1>" in client.get("/organisation").get_data(as_text=True)


@pytest.mark.parametrize("query, field", [
    ("until=0001-01-01", "until"), ("since=9999-12-30&until=9999-12-31", "since"), ("until=9999-12-31", "until"),
    ("since=1899-12-31", "since"),
])
def test_indicator_windows_are_bounded_to_sane_days(client, make, query, field):
    refused(client.get(f"/api/v1/indicators?{query}", headers=bearer(make.token(make.coordinator()))), field)


@pytest.mark.parametrize("severity", ["²", "9" * 5000, "¹"])
def test_numbers_that_look_like_digits_are_refused_not_crashed_on(client, make, net, severity):
    sign_in(client, net.reporter)
    before = counts()
    response = post(client, "/incidents/new", {"threat_type": "raid", "severity": severity, "country": "KE",
                                               "needs": ["legal"], "contact_user_id": str(net.reporter.id)})
    assert response.status_code == 422 and "severity" in errors_by_field(response.get_data(as_text=True))
    assert counts() == before


@pytest.mark.parametrize("value", ["²", "9" * 5000, "", "-1", "1.5"])
def test_is_whole_takes_only_what_int_takes_in_sane_size(value):
    assert text.is_whole(value) is False
    assert text.is_whole("٣") and int("٣") == 3  # Arabic-Indic digits are digits


@pytest.mark.parametrize("body", [b"[" + b"[" * 19 + b"]" * 19 + b"," + (b"[" * 19 + b"]" * 19 + b",") * 6000 + b"1]",
                                  b'["' + b'\\"' * 100000 + b'"]', b"[" + b"[]," * 80000 + b"1]"])
def test_measuring_depth_stays_linear_on_hostile_bodies(body):
    # Bodies shaped to make a character-by-character or backtracking scan slow (many siblings at
    # the limit, escaped quotes, thousands of pairs). No timing is asserted on a shared machine.
    assert json_too_deep(body, 20) is False


def test_api_refuses_a_number_of_thousands_of_digits(client, make, net):
    token = bearer(make.token(net.reporter))
    before = counts()
    refused(raw(client, "/api/v1/incidents", token, '{"severity": ' + "9" * 5000 + "}"), "", 400, "number too long")
    assert counts() == before
