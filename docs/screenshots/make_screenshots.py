"""Phone-width screenshots of the coordinators' console, the indicators page and the incident form.

    .venv/bin/python docs/screenshots/make_screenshots.py

Loads the demo network (solidarity/demo.py) into a throw-away SQLite database, files a few months
of incidents through the real services on top of it (some answered quickly, some slowly, some
declined, some never; the console needs incidents and the demo has none), serves the app on
127.0.0.1 and photographs the pages in Debian's headless Chromium (SOLIDARITY_CHROMIUM, default
/usr/bin/chromium) at 390x844 CSS pixels, twice the device pixels. Writes console.png,
indicators.png, incident-form.png, home.png, incident-filed.png (the reporter's case just after
filing) and confirm-lockdown.png next to this file; commit them when the pages change.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run from anywhere without installing

from solidarity import create_app, demo  # noqa: E402
from solidarity.clock import utcnow  # noqa: E402
from solidarity.extensions import db  # noqa: E402
from solidarity.incidents.service import IncidentDraft, answer_match, change_status, file_incident  # noqa: E402
from solidarity.matching.models import PENDING, Match  # noqa: E402
from solidarity.members import service as members  # noqa: E402
from solidarity.members import twofactor  # noqa: E402
from solidarity.members.models import Organisation  # noqa: E402

CHROMIUM = os.environ.get("SOLIDARITY_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Story:
    """One incident: who files it, how long ago, and how each need is answered.

    answers: help type -> hours after filing that the best-placed responder accepts, or a negative
    number: the best-placed declines and the next accepts after that many hours; help types left
    out are never answered. `then`: a status the reporter moves it to a week later.
    """

    org: str
    ago: timedelta
    threat_type: str
    severity: int
    needs: tuple[str, ...]
    answers: dict[str, float]
    then: str | None = None


STORIES = (
    Story("Nile Bend Rights Forum", timedelta(days=150), "raid", 3, ("legal", "communications"), {"legal": 2},
          "resolved"),
    Story("Harmattan Press Freedom Desk", timedelta(days=121), "media_attack", 2, ("communications",),
          {"communications": 5}, "resolved"),
    Story("Jasmine Lane Observatory", timedelta(days=95), "deregistration", 2, ("emergency_funds",),
          {"emergency_funds": -9}, "resolved"),
    Story("Msasa Tree Legal Aid", timedelta(days=64), "political_upheaval", 1, ("legal",), {}, "withdrawn"),
    Story("Colectivo Ceiba Viva", timedelta(days=70), "detention", 4, ("legal", "relocation"),
          {"legal": 0.7, "relocation": 3}, "resolved"),
    Story("Sunflower Field Legal Aid", timedelta(days=44), "raid", 3, ("digital_security",),
          {"digital_security": 1}, "resolved"),
    Story("Neem Tree Legal Collective", timedelta(days=30), "asset_freeze", 3, ("emergency_funds",),
          {"emergency_funds": 26}, "resolved"),
    Story("Bayanihan Legal Shield", timedelta(days=12), "media_attack", 2, ("communications",), {}),
    Story("Cedar Hill Legal Response", timedelta(hours=8), "raid", 2, ("digital_security",), {"digital_security": 1}),
    Story("Pushcha Free Media Hub", timedelta(hours=3, minutes=12), "detention", 4, ("legal", "diplomatic"), {}),
    Story(demo.DEMO_MEMBER_ORG, timedelta(minutes=40), "expulsion", 3, ("relocation",), {}),
)


def _org(session, name: str) -> Organisation:
    # Names are encrypted (no SQL comparison): found among the few demo organisations in Python.
    return next(o for o in session.scalars(select(Organisation)) if o.name == name)


def _best_pending(session, incident, help_type: str) -> Match:
    best = session.scalar(select(Match).where(Match.incident_id == incident.id, Match.help_type == help_type,
                                              Match.status.in_(PENDING))
                          .order_by(Match.score.desc(), Match.id).limit(1))
    if best is None:
        raise LookupError(f"nobody was asked for {help_type} help in {incident.country}; change the story")
    return best


def tell(session, story: Story, now: datetime) -> None:
    org = _org(session, story.org)
    reporter = org.users[0]
    filed = now - story.ago
    incident = file_incident(session, reporter, IncidentDraft(
        threat_type=story.threat_type, severity=story.severity, country=org.country, needs=list(story.needs),
        summary="A demo incident", disclosure=["summary"], channel="web"), now=filed)
    for help_type, hours in story.answers.items():
        if hours < 0:
            first = _best_pending(session, incident, help_type)
            answer_match(session, first.organisation.users[0], first, False, now=filed + timedelta(hours=1))
        match = _best_pending(session, incident, help_type)
        answer_match(session, match.organisation.users[0], match, True, now=filed + timedelta(hours=abs(hours)))
    if story.then:
        change_status(session, reporter, incident, story.then, now=filed + timedelta(days=7))


def _latest_incident(session, org_name: str):
    from solidarity.incidents.models import Incident

    org = _org(session, org_name)
    return session.scalar(select(Incident.id).where(Incident.organisation_id == org.id)
                          .order_by(Incident.created_at.desc()).limit(1))


def enrol_coordinator(session, now: datetime) -> str:
    """Turn on the demo coordinator's two-factor sign-in (coordinators must have it); returns its secret.

    Enrolled as of two minutes ago, so the code used to confirm is from an earlier 30-second step
    than the one signing in now, which the replay rule would otherwise refuse.
    """
    coordinator = members.find_user_by_email(session, demo.COORDINATOR_EMAIL)
    then = now - timedelta(minutes=2)
    secret = twofactor.begin_enrolment(session, coordinator, now=then)
    twofactor.confirm_enrolment(session, coordinator, pyotp.TOTP(secret).at(then), now=then)
    return secret


def sign_in(page: Page, base: str, email: str, password: str, totp_secret: str | None) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.get_by_label("Code").fill(pyotp.TOTP(totp_secret).now())
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def shoot(browser, base: str, email: str, password: str, pages: dict[str, str], totp_secret: str | None = None) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, base, email, password, totp_secret)
    for name, path in pages.items():
        page.goto(base + path)
        page.screenshot(path=str(HERE / name), full_page=True)
        print("wrote", HERE / name)
    context.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp}/demo.db", "INSTANCE_PATH": tmp,
                          "RATELIMIT_ENABLED": False})
        now = utcnow()
        with app.app_context():
            db.create_all()
            demo.load(db.session, now=now)
            for story in STORIES:
                tell(db.session, story, now)
            secret = enrol_coordinator(db.session, now)
            filed = _latest_incident(db.session, demo.DEMO_MEMBER_ORG)
            locked = _org(db.session, "Pushcha Free Media Hub")
            incident_page, lockdown_page = f"/incidents/{filed}", f"/coordinator/organisations/{locked.id}/lockdown"
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                shoot(browser, base, demo.COORDINATOR_EMAIL, demo.COORDINATOR_PASSWORD,
                      {"console.png": "/coordinator/console", "indicators.png": "/coordinator/indicators",
                       "confirm-lockdown.png": lockdown_page}, secret)
                shoot(browser, base, demo.MEMBER_EMAIL, demo.MEMBER_PASSWORD,
                      {"incident-form.png": "/incidents/new", "home.png": "/", "incident-filed.png": incident_page})
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
