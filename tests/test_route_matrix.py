"""Every route of the app, for every kind of caller: generated from app.url_map, so a route added
without a row in EXPECTED fails here (test_every_route_has_a_row).

The world (tests/incidents/scenario.py): organisation A reported an incident; responder organisation
"asked" has an unanswered request for it; "not asked" offers help and was not asked; B is a vetted
member with nothing to do with it. Every path parameter names one of A's objects (its organisation,
incident, offer, check-in, a person, the asked responder's match and answer link), so A's people meet
their own objects and everyone else another organisation's.

One request per (route, method, caller), with an empty form (and a valid CSRF token) or JSON body:
the point is who gets past the access rules, not what the input does (each module's own tests
cover that). Outcomes:
  login  redirected to sign in          401  no valid bearer token
  403    refused                        404  hidden (not found, or not one you may know of)
  in     done (2xx, or any other redirect) bad  input refused (400, 409, 422)
  unready  /readyz's 503 naming what is not ready
A server error is never an outcome: it fails the test.

test_no_access_over_every_route adds four callers who hold A's logins (member_a's and admin_a's
session and token, issued before) after A was locked down or suspended: each must meet every
route exactly as an anonymous visitor does (members/access.py's may_act, asked by the session and
token loaders), so none of them is ever "in" where the anonymous column is not.
"""
from __future__ import annotations

import tempfile
import uuid
from urllib.parse import urlsplit

import pytest
from flask import current_app
from sqlalchemy import select

from solidarity.clock import utcnow
from solidarity.escalation import checkins
from solidarity.members.models import User, Vetting
from solidarity.notify import links
from solidarity.playbook import service as playbook
from solidarity.playbook.models import PlayStep
from tests import factories
from tests.conftest import csrf_token
from tests.factories import bearer
from tests.incidents import scenario

ROLES = ("anonymous", "member_a", "member_b", "asked", "not_asked", "admin_a", "coordinator", "disabled")
# A's member and admin, their credentials issued, then A locked down or suspended for the request.
NO_ACCESS = {"locked_member": ("member_a", "locked"), "locked_admin": ("admin_a", "locked"),
             "suspended_member": ("member_a", "suspended"), "suspended_admin": ("admin_a", "suspended")}
# Routes anyone may reach signed out: there the callers above are "in" as the anonymous are.
PUBLIC = {"api-docs.openapi_json", "auth.forgot", "auth.login", "auth.reset", "health.healthz", "health.readyz",
          "members.apply", "members.confirm_email", "static"}
SKIP_METHODS = {"HEAD", "OPTIONS"}

# Input that passes validation where an empty body would stop every caller at the same 400/422 and
# hide the access rule behind it (by endpoint).
BODIES: dict[str, dict] = {
    "incidents.answer": {"answer": "accept"}, "incidents.mark_step": {"done": "1"},
    "security.set_active": {"active": "1"}, "incidents_api.Incident": {"note": "A note from the matrix"},
    "incident_work_api.Needs": {"help_type": "relocation"}, "incident_work_api.ChecklistStep": {"done": True},
    "organisations.Offers": {"help_type": "relocation", "countries": ["KE"], "languages": ["en"]},
    "organisations.SmsPin": {"pin": "4821"}, "members.sms_pin": {"pin": "4821"},
    "incidents.post_message": {"body": "A message from the matrix"}, "incidents.mute_thread": {"muted": "1"},
    "incidents.share_history": {"shared": "1"}, "incidents.decide_contact": {"share": "1"},
    "incident_work_api.Thread": {"body": "A message from the matrix"}, "incident_work_api.Mute": {"muted": True},
    "incident_work_api.History": {"shared": True}, "incident_work_api.ContactDecision": {"share": True},
    "incident_work_api.Progress": {"state": "progress", "body": "On it"},
}

# Outcome per caller, in ROLES order: anonymous member_a member_b asked not_asked admin_a coordinator
# disabled. Read down a column to see what one kind of caller can do. Where two callers get in, the
# first one's change can show in the second's outcome (an offer withdrawn, then 404 for the next).
EXPECTED: dict[str, str] = {
    "api-docs.openapi_json GET":                    "in in in in in in in in",
    "audit_trail.index GET":                        "login 403 403 403 403 403 in login",
    "auth.login GET":                               "in in in in in in in in",
    "auth.login POST":                              "bad bad bad bad bad bad bad bad",
    "auth.forgot GET":                              "in in in in in in in in",
    "auth.forgot POST":                             "bad bad bad bad bad bad bad bad",
    "auth.reset GET":                               "bad bad bad bad bad bad bad bad",
    "auth.reset POST":                              "bad bad bad bad bad bad bad bad",
    "auth.logout POST":                             "login login login login login login login login",
    "auth.second_factor GET":                       "login login login login login login login login",
    "auth.second_factor POST":                      "login login login login login login login login",
    "checkins.confirm POST":                        "login in 404 404 404 in in login",
    "checkins.for_incident GET":                    "login in 404 403 404 in in login",
    "checkins.for_incident POST":                   "login bad 404 403 404 bad bad login",
    "checkins.index GET":                           "login in in in in in in login",
    "checkins.stop POST":                           "login in 403 403 403 bad bad login",
    "console.index GET":                            "login 403 403 403 403 403 in login",
    "console.indicators_page GET":                  "login 403 403 403 403 403 in login",
    "coordinator.lock_down GET":                    "login 403 403 403 403 403 in login",
    "coordinator.lock_down POST":                   "login 403 403 403 403 403 in login",
    "coordinator.organisations GET":                "login 403 403 403 403 403 in login",
    "coordinator.reject GET":                       "login 403 403 403 403 403 in login",
    "coordinator.reject POST":                      "login 403 403 403 403 403 bad login",
    "coordinator.reverify POST":                    "login 403 403 403 403 403 bad login",
    "coordinator.vetting GET":                      "login 403 403 403 403 403 in login",
    "coordinator.vetting POST":                     "login 403 403 403 403 403 bad login",
    "home.index GET":                               "login in in in in in in login",
    "metrics.metrics_page GET":                     "404 404 404 404 404 404 404 404",
    "incident_work_api.ContactDecision PUT":        "401 404 404 404 404 404 403 401",
    "incident_work_api.ContactRequests GET":        "401 in 404 404 404 in in 401",
    "incident_work_api.ContactRequests POST":       "401 403 404 404 404 403 403 401",
    "incident_work_api.History PUT":                "401 in 404 404 404 in 403 401",
    "incident_work_api.Mute PUT":                   "401 in 404 404 404 in in 401",
    "incident_work_api.Progress POST":              "401 403 404 404 404 403 403 401",
    "incident_work_api.Thread GET":                 "401 in 404 404 404 in in 401",
    "incident_work_api.Thread POST":                "401 in 404 404 404 in in 401",
    "incident_work_api.Unread GET":                 "401 in in in in in in 401",
    "incident_work_api.Checklist GET":              "401 in 404 404 404 in in 401",
    "incident_work_api.ChecklistStep PUT":          "401 in 404 403 404 in in 401",
    "incident_work_api.Need DELETE":                "401 in 404 403 404 bad bad 401",
    "incident_work_api.Needs POST":                 "401 in 404 403 403 bad bad 401",
    "incident_work_api.Reviews GET":                "401 in 404 in 404 in in 401",
    "incident_work_api.Reviews POST":               "401 bad bad bad bad bad bad 401",
    "incidents.add_need POST":                      "login bad 404 403 404 bad bad login",
    "incidents.answer POST":                        "login 403 404 in 404 403 403 login",
    "incidents.change_status POST":                 "login bad 404 403 404 bad bad login",
    "incidents.withdraw GET":                       "login in 404 403 404 in in login",
    "incidents.withdraw POST":                      "login in 404 403 404 bad bad login",  # withdrawn once
    "incidents.decide_contact POST":                "login 404 404 404 404 404 403 login",
    "incidents.mute_thread POST":                   "login in 404 404 404 in in login",
    "incidents.post_message POST":                  "login in 404 404 404 in in login",
    "incidents.report_progress POST":               "login 403 404 404 404 403 403 login",
    "incidents.request_contact POST":               "login 403 404 404 404 403 403 login",
    "incidents.share_history POST":                 "login in 404 404 404 in 403 login",
    "incidents.index GET":                          "login in in in in in in login",
    "incidents.mark_step POST":                     "login in 404 403 404 in in login",
    "incidents.new GET":                            "login in in in in in in login",
    "incidents.new POST":                           "login bad bad bad bad bad 403 login",
    "incidents.post_update POST":                   "login bad 404 403 404 bad bad login",
    "incidents.remove_need POST":                   "login bad 404 403 404 bad bad login",
    "incidents.review POST":                        "login bad 404 bad 404 bad 403 login",
    "incidents.show GET":                           "login in 404 in 404 in in login",
    "incidents_api.AcceptMatch POST":               "401 403 404 in 404 403 403 401",
    "incidents_api.DeclineMatch POST":              "401 403 404 in 404 403 403 401",
    "incidents_api.Incident GET":                   "401 in 404 in 404 in in 401",
    "incidents_api.Incident PATCH":                 "401 in 404 403 404 in in 401",
    "incidents_api.IncidentMatches GET":            "401 in 404 in 404 in in 401",
    "incidents_api.Incidents GET":                  "401 in in in in in in 401",
    "incidents_api.Incidents POST":                 "401 bad bad bad bad bad bad 401",
    "indicators_api.Indicators GET":                "401 403 403 403 403 403 in 401",
    "links.answer GET":                             "login 403 403 in 403 403 403 login",
    "links.answer POST":                            "login 403 403 in 403 403 403 login",
    "members.account GET":                          "login in in in in in in login",
    "members.account POST":                         "login bad bad bad bad bad bad login",
    "members.applicants GET":                       "login 403 403 403 in in 403 login",
    "members.apply GET":                            "in in in in in in in in",
    "members.apply POST":                           "bad bad bad bad bad bad bad bad",
    # The world's <token> is an answer link, which is no confirmation link: refused for everyone
    # (the link itself: tests/web/test_no_enumeration.py).
    "members.confirm_email GET":                    "bad bad bad bad bad bad bad bad",
    "members.confirm_email POST":                   "bad bad bad bad bad bad bad bad",
    "members.confirm_phone POST":                   "login bad bad bad bad bad bad login",
    "members.sms_pin GET":                          "login 403 403 403 403 in in login",
    "members.sms_pin POST":                         "login 403 403 403 403 in in login",
    "members.edit_organisation GET":                "login 403 403 403 403 in in login",
    "members.edit_organisation POST":               "login 403 403 403 403 bad bad login",
    "members.my_organisation GET":                  "login in in in in in in login",
    "members.new_user GET":                         "login 403 403 403 403 in in login",
    "members.new_user POST":                        "login 403 403 403 403 bad bad login",
    "members.organisation GET":                     "login in 403 403 403 in in login",
    "members.password GET":                         "login in in in in in in login",
    "members.password POST":                        "login bad bad bad bad bad bad login",
    "members.vouch POST":                           "login 403 403 403 in 403 403 login",
    "notifications.incident GET":                   "login 403 403 403 403 403 in login",
    "notifications_api.IncidentNotifications GET":  "401 403 403 403 403 403 in 401",
    "offers.confirm POST":                          "login 403 403 403 403 in in login",
    "offers.edit GET":                              "login 403 403 403 403 in in login",
    "offers.edit POST":                             "login 403 403 403 403 bad bad login",
    "offers.new GET":                               "login 403 403 403 403 in in login",
    "offers.new POST":                              "login 403 403 403 403 bad bad login",
    "offers.withdraw GET":                          "login 403 403 403 403 in in login",
    "offers.withdraw POST":                         "login 403 403 403 403 in 404 login",
    "offers_api.Offer DELETE":                      "401 403 404 404 404 in 404 401",
    "offers_api.Offer PATCH":                       "401 403 404 404 404 in in 401",
    "organisations.SmsPin DELETE":                  "401 403 403 403 403 in in 401",
    "organisations.SmsPin PUT":                     "401 403 403 403 403 in in 401",
    "organisations.Lockdown DELETE":                "401 403 403 403 403 403 bad 401",
    "organisations.Lockdown POST":                  "401 403 403 403 403 403 in 401",
    "organisations.Offers GET":                     "401 in 403 403 403 in in 401",
    "organisations.Offers POST":                    "401 403 403 403 403 in in 401",
    "organisations.Organisation GET":               "401 in in in in in in 401",
    "organisations.Organisation PATCH":             "401 403 403 403 403 in in 401",
    "organisations.Organisations GET":              "401 in in in in in in 401",
    "organisations.Organisations POST":             "401 bad bad bad bad bad bad 401",
    "organisations.Users GET":                      "401 in 403 403 403 in in 401",
    "organisations.Users POST":                     "401 bad bad bad bad bad bad 401",
    "organisations.Vouch POST":                     "401 403 403 403 bad 403 403 401",
    "playbook.draft POST":                          "login 403 403 403 403 403 in login",
    "playbook.edit GET":                            "login 403 403 403 403 403 in login",
    "playbook.edit POST":                           "login 403 403 403 403 403 in login",
    "health.healthz GET":                           "in in in in in in in in",
    "health.readyz GET":                            "unready unready unready unready unready unready unready unready",
    "playbook.index GET":                           "login in in in in in in login",
    "playbook.new GET":                             "login 403 403 403 403 403 in login",
    "playbook.new POST":                            "login 403 403 403 403 403 bad login",
    "playbook.publish POST":                        "login 403 403 403 403 403 bad login",
    "playbook.retire GET":                          "login 403 403 403 403 403 in login",
    "playbook.retire POST":                         "login 403 403 403 403 403 in login",
    "playbook.show GET":                            "login in in in in in in login",
    "playbook.submit POST":                         "login 403 403 403 403 403 bad login",
    "plays.Drafts POST":                            "401 403 403 403 403 403 in 401",
    "plays.PlayVersionView GET":                    "401 in in in in in in 401",
    "plays.PlayVersionView PATCH":                  "401 403 403 403 403 403 bad 401",
    "plays.Plays GET":                              "401 in in in in in in 401",
    "plays.Plays POST":                             "401 bad bad bad bad bad bad 401",
    "plays.Publish POST":                           "401 403 403 403 403 403 bad 401",
    "plays.Retire POST":                            "401 403 403 403 403 403 in 401",
    "plays.Submit POST":                            "401 403 403 403 403 403 bad 401",
    "security.reset_two_factor POST":               "login 403 403 403 403 403 in login",
    "security.set_active POST":                     "login 403 403 403 403 in in login",
    "security.two_factor GET":                      "login in in in in in in login",
    "security.two_factor POST":                     "login bad bad bad bad bad in login",
    "static GET":                                   "in in in in in in in in",
    "webhooks.delivery_status POST":                "403 403 403 403 403 403 403 403",
    "webhooks.inbound_sms POST":                    "403 403 403 403 403 403 403 403",
}


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) for every route the app serves."""
    return sorted((rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                  for method in rule.methods - SKIP_METHODS)


class World:
    def __init__(self, make, session, now):
        net = scenario.members(make)
        # Plays first, so that the incident follows one and has a checklist.
        versions = playbook.load_initial_playbook(session, now=now)
        scenario.file(make, net, now=now)
        version = next(v for v in versions if v.play.threat_type == net.incident.threat_type)
        self.net, self.session = net, session
        not_asked = make.org("Not Asked Relief", country="KE")
        make.offer(not_asked, "relocation", countries=["KE"])
        disabled = make.user(net.reporter_org)
        self.people: dict[str, User | None] = {
            "anonymous": None, "member_a": net.reporter_member, "member_b": make.user(net.other),
            "asked": next(u for u in net.a.users if not u.is_org_admin), "not_asked": make.admin_of(not_asked),
            "admin_a": net.reporter, "coordinator": net.coordinator, "disabled": disabled}
        match = net.match_of(session, net.a)
        checkin = checkins.request_checkins(session, net.reporter, interval_hours=24, incident=net.incident, now=now)
        step = session.scalar(select(PlayStep).where(PlayStep.version_id == version.id).limit(1))
        self.values = {
            "org_id": net.reporter_org.id, "incident_id": net.incident.id, "match_id": match.id,
            "offer_id": make.offer(net.reporter_org, "legal").id, "version_id": version.id,
            "checkin_id": checkin.id, "user_id": net.reporter_member.id, "step_id": step.id if step else uuid.uuid4(),
            "help_type": "legal", "filename": "app.css",
            "token": links.make_token(current_app.config["SECRET_KEY"],
                                      links.AnswerLink(match.id, self.people["asked"].id, True), now=utcnow())}
        self.make = make

    def path(self, rule: str) -> str:
        path = rule
        for name, value in self.values.items():
            for converter in ("uuid:", "path:", ""):
                path = path.replace(f"<{converter}{name}>", str(value))
        assert "<" not in path, f"no value for a parameter of {rule}: add it to World.values"
        return path

    def call(self, app, role: str, endpoint: str, method: str, rule: str):
        role, state = NO_ACCESS.get(role, (role, None))
        person = self.people[role]
        path = self.path(rule)
        client, headers, body = app.test_client(), {}, {}
        if path.startswith("/api/"):
            headers = bearer(self.make.token(person)) if person is not None else {}
            body = {"json": BODIES.get(endpoint, {})} if method in ("POST", "PUT", "PATCH") else {}
        else:
            if person is not None:
                # Unless an earlier caller took the access away (the coordinator locked A down).
                signed_in = factories.sign_in(client, person).status_code == 302
                assert signed_in or self.net.reporter_org.locked_at is not None
            # A valid CSRF token of the caller's own session: the rules, not the token, decide.
            body = {"data": {**BODIES.get(endpoint, {}),
                             "csrf_token": csrf_token(client, "/account" if person is not None else "/login")}}
        if role == "disabled":  # credentials issued, then the account disabled: they must be dead
            person.active = False
        org = self.net.reporter_org
        # Set directly, not through lockdown.lock_down or a suspension (which end sessions and revoke
        # tokens): the state itself must refuse them on every request.
        before = org.locked_at, org.vetting_status
        if state == "locked":
            org.locked_at = utcnow()
        if state == "suspended":
            org.vetting_status = Vetting.suspended
        self.session.commit()
        try:
            return client.open(path, method=method, headers=headers, **body)
        finally:
            if role == "disabled":
                person.active = True
            org.locked_at, org.vetting_status = before
            self.session.commit()


def outcome(response) -> str:
    code = response.status_code
    if code == 503 and response.is_json and "checks" in response.json:
        return "unready"  # /readyz reporting what is missing (no worker runs in this world), not a crash
    assert code < 500, response.get_data(as_text=True)[:500]
    if code in (301, 302, 303) and urlsplit(response.location).path == "/login":
        return "login"
    if code in (401, 403, 404):
        return str(code)
    return "bad" if code in (400, 409, 422) else "in"


@pytest.fixture
def world(make, session, now, app):
    return World(make, session, now)


def _routes() -> list[tuple[str, str, str]]:
    from solidarity import create_app  # the route list only; the tests run against the fixtures' app
    return routes(create_app({"ENV": "testing", "DATABASE_URL": "sqlite://", "INSTANCE_PATH": tempfile.mkdtemp()}))


ROUTES = _routes()


def test_every_route_has_a_row(app):
    served = {f"{endpoint} {method}" for endpoint, method, _ in routes(app)}
    assert served == set(EXPECTED), {"missing from EXPECTED": sorted(served - set(EXPECTED)),
                                     "no longer served": sorted(set(EXPECTED) - served)}


@pytest.mark.parametrize("endpoint, method, rule", ROUTES, ids=[f"{e}-{m}" for e, m, _ in ROUTES])
def test_route(world, app, endpoint, method, rule):
    # One world per route, every caller in ROLES order: refusals change nothing, and the callers who
    # get in come late (the coordinator, then the disabled account, refused whatever happened).
    got = " ".join(outcome(world.call(app, role, endpoint, method, rule)) for role in ROLES)
    assert got == EXPECTED.get(f"{endpoint} {method}"), f'"{endpoint} {method}": "{got}",'


@pytest.mark.parametrize("endpoint, method, rule", ROUTES, ids=[f"{e}-{m}" for e, m, _ in ROUTES])
def test_no_access_over_every_route(world, app, endpoint, method, rule):
    anonymous = EXPECTED[f"{endpoint} {method}"].split()[0]
    assert endpoint in PUBLIC or anonymous in ("login", "401", "403", "404"), "a route open to everyone"
    got = {role: outcome(world.call(app, role, endpoint, method, rule)) for role in NO_ACCESS}
    assert got == dict.fromkeys(NO_ACCESS, anonymous)
