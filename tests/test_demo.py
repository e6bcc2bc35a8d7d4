"""`flask --app wsgi demo`: a believable network in an empty database, loaded once, through the services."""
from __future__ import annotations

from collections import Counter

import phonenumbers
import pytest
from sqlalchemy import func, select

from solidarity import demo
from solidarity.audit import AuditEvent, verify_chain
from solidarity.extensions import db
from solidarity.members import auth
from solidarity.members.models import Organisation, Role, User, Vetting
from solidarity.offers.models import Offer
from tests.rawdb import leaks, raw_dump

# UN M49 sub-regions of East, West, Southern (two) and North Africa, South America, Central America,
# South and South-East Asia, Eastern Europe and Western Asia (the Middle East).
REGIONS = {"014", "011", "018", "015", "005", "013", "034", "035", "151", "145"}
SPOKEN = {"011": {"fr", "en"}, "014": {"sw", "en", "am", "rw", "pt"}, "018": {"en", "af", "zu"}, "015": {"ar"},
          "005": {"es", "pt"}, "013": {"es"}, "145": {"ar", "tr"}, "151": {"uk", "ru", "pl", "ro", "be"}}


@pytest.fixture
def run_demo(app):
    runner = app.test_cli_runner()
    return lambda: runner.invoke(args=["demo"])


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Organisation, User, Offer, AuditEvent))


def test_the_demo_loads_a_network_of_every_region_and_help_type(app, session, run_demo):
    result = run_demo()
    assert result.exit_code == 0, result.output
    assert f"{demo.COORDINATOR_EMAIL}  password {demo.COORDINATOR_PASSWORD}" in result.output
    assert f"{demo.MEMBER_EMAIL}  password {demo.MEMBER_PASSWORD}" in result.output

    orgs = session.scalars(select(Organisation)).all()
    statuses = Counter(org.vetting_status for org in orgs)
    assert 35 <= len(orgs) <= 50 and statuses[Vetting.vetted] >= 30 and statuses[Vetting.applied] >= 3
    assert f"Loaded {len(orgs)} organisations" in result.output
    assert REGIONS <= {org.region for org in orgs}
    for org in orgs:
        assert org.region not in SPOKEN or set(org.languages) & SPOKEN[org.region], org.name

    offers = session.scalars(select(Offer)).all()
    assert {o.help_type for o in offers} == set(app.config["HELP_TYPES"])
    assert {area.kind for o in offers for area in o.areas} == {"country", "region", "world"}
    assert len({o.capacity for o in offers}) >= 4
    assert all(o.languages and set(o.languages) <= set(o.organisation.languages) for o in offers)
    assert any(o.organisation.vetting_status is Vetting.applied for o in offers)

    for org in orgs:
        [admin] = org.users
        assert admin.role is Role.org_admin
        assert phonenumbers.is_valid_number(phonenumbers.parse(admin.phone))
        assert admin.phone == phonenumbers.format_number(phonenumbers.parse(admin.phone),
                                                         phonenumbers.PhoneNumberFormat.E164)
        assert admin.email == demo.MEMBER_EMAIL or admin.email.endswith(".example.org")
    assert len({u.email for o in orgs for u in o.users}) == len(orgs)
    half_vouched = next(o for o in orgs if o.name == demo.HALF_VOUCHED[0])
    assert half_vouched.vetting_status is Vetting.applied and len(half_vouched.vouches) == 1


def test_the_demo_accounts_sign_in_and_everything_went_through_the_services(session, run_demo, now):
    run_demo()
    coordinator = auth.authenticate(session, demo.COORDINATOR_EMAIL, demo.COORDINATOR_PASSWORD, now=now)
    member = auth.authenticate(session, demo.MEMBER_EMAIL, demo.MEMBER_PASSWORD, now=now)
    assert coordinator.role is Role.coordinator
    assert member.is_org_admin and member.organisation.vetting_status is Vetting.vetted
    assert member.organisation.name == demo.DEMO_MEMBER_ORG
    assert verify_chain(session) is None
    actions = Counter(session.scalars(select(AuditEvent.action)))
    assert actions["organisation.applied"] == len(demo.NETWORK) and actions["offer.created"] >= len(demo.NETWORK)
    assert leaks(raw_dump(db.engine), [demo.NOTES["legal"], demo.MEMBER_EMAIL, member.phone]) == []


def test_the_demo_loads_only_into_an_empty_database(session, run_demo):
    run_demo()
    before = counts(session)
    again = run_demo()
    assert again.exit_code == 0 and "Nothing was changed." in again.output
    assert counts(session) == before


def test_the_demo_leaves_a_database_with_people_in_it_alone(session, make, run_demo):
    make.coordinator()
    before = counts(session)
    assert "Nothing was changed." in run_demo().output
    assert counts(session) == before


def test_help_types_added_in_config_are_offered_too(app, session, run_demo, monkeypatch):
    monkeypatch.setitem(app.config, "HELP_TYPES", [*app.config["HELP_TYPES"], "psychosocial"])
    run_demo()
    offered = set(session.scalars(select(Offer.help_type)))
    assert "psychosocial" in offered


def test_the_demo_is_refused_in_production(app, session, run_demo, monkeypatch):
    monkeypatch.setitem(app.config, "SOLIDARITY_ENV", "production")
    result = run_demo()
    assert result.exit_code == 2 and "not loaded in production" in result.output
    assert counts(session) == (0, 0, 0, 0)
