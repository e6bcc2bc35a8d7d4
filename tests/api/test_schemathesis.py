"""Schemathesis over /api/v1/openapi.json, in process (WSGI, no network): every operation, every
check (server errors, status codes, content types, response schemas, headers, negative and positive
data, ignored authentication), as a coordinator, as a member, without a token and with a bad one.

Examples per operation: SOLIDARITY_SCHEMATHESIS_EXAMPLES, each sent as all four callers. 25 by
default for a quick local run; CI (the Makefile) asks for 300: 36 operations took 2 min 9 s with
pytest -n 2 on SQLite (2026-11-30).
"""
from __future__ import annotations

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from solidarity import create_app
from tests.factories import bearer

# Every check but "schema-valid data is accepted": the services rightly refuse values that OpenAPI
# cannot describe (a phone number that does not exist, an email domain that cannot receive mail, a
# help type added in configuration, an indicator window over five years), each with a 422 naming the
# field; the negative-data check still proves that schema-invalid data is refused.
NOT_EXPRESSIBLE = [positive_data_acceptance]
EXAMPLES = int(os.environ.get("SOLIDARITY_SCHEMATHESIS_EXAMPLES", "25"))


class Forward:
    """A WSGI app that passes each request on to `target`. The schema is loaded when tests are
    collected, before the fixtures' app exists (and schemathesis's lazy fixture loader fails under
    pytest 9), so it is read from an app built for that alone; each test then points here at its app."""

    def __init__(self):
        self.target = create_app({"ENV": "testing", "DATABASE_URL": "sqlite://",
                                  "INSTANCE_PATH": tempfile.mkdtemp()})

    def __call__(self, environ, start_response):
        # Schemathesis's WSGI transport asks for gzip but reads the body as sent, without undoing it;
        # compression has its own tests (tests/web/test_wire.py), so these calls ask for none.
        environ.pop("HTTP_ACCEPT_ENCODING", None)
        return self.target(environ, start_response)


FORWARD = Forward()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", FORWARD)


@pytest.fixture
def callers(make) -> dict[str, dict]:
    """Headers of each kind of caller. A member's organisation has an offer and an incident, so the
    generated calls meet real rows as well as random ids."""
    member = make.member(country="KE")
    make.offer(member.org, "legal")
    make.incident(member.admin)
    return {"coordinator": bearer(make.token(make.coordinator())), "member": bearer(member.token),
            "anonymous": {}, "bad token": bearer("sol_" + "x" * 43)}


@schema.parametrize()
# Derandomized: CI explores the same examples on every run, so a red build means the code changed.
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_keeps_its_documented_promises(case, app, callers):
    # One generated request, sent as each caller in turn (a lazily loaded schema cannot be
    # parametrized further); a failure report shows the request, its headers included.
    FORWARD.target = app
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        # The only header in the document is the security scheme's bearer token: a case that breaks
        # it is about authentication, and a caller's token would mend it into a valid request.
        callers = {"as generated": {}}
    for headers in callers.values():
        case.call_and_validate(headers=headers, excluded_checks=NOT_EXPRESSIBLE)
