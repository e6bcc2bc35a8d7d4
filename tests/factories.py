"""Build members, offers and tokens through the real services, so fixtures obey the same rules.
Phone numbers given here count as proven (as demo data's do); tests of the proof use the services."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyotp
import pytest

from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.members import auth, service, twofactor
from solidarity.members.models import Organisation, Role, User, Vetting
from solidarity.offers import service as offers

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


@dataclass
class Member:
    org: Organisation
    admin: User
    token: str


class Factory:
    def __init__(self, session):
        self.session = session
        self._coordinator: User | None = None

    def coordinator(self) -> User:
        if self._coordinator is None:
            self._coordinator = self.new_coordinator()
        return self._coordinator

    def new_coordinator(self, *, two_factor: bool = True) -> User:
        """A coordinator as the service requires them: with two-factor sign-in on (see sign_in)."""
        user = service.create_coordinator(self.session, email=f"coord{next(_seq)}@network.example",
                                          name="Coordinator", password=PASSWORD, now=utcnow())
        if two_factor:
            self.enrol(user)
        return user

    def enrol(self, user: User) -> list[str]:
        """Turn two-factor on for `user`, as the set-up page does; returns the recovery codes."""
        twofactor.begin_enrolment(self.session, user, now=utcnow())
        return twofactor.confirm_enrolment(self.session, user, totp_code(user), now=utcnow())

    def org(self, name: str | None = None, *, country: str = "KE", languages=("en",), vetted: bool = True,
            phone: str | None = None) -> Organisation:
        n = next(_seq)
        admin = {"name": f"Admin {n}", "email": f"admin{n}@org{n}.example", "password": PASSWORD}
        if phone:
            admin["phone"] = phone
        org = service.register_organisation(
            self.session, {"name": name or f"Organisation {n}", "country": country, "languages": list(languages)},
            admin, actor=None, now=utcnow(), proven_phone=True)
        if vetted:
            service.set_vetting(self.session, self.coordinator(), org, Vetting.vetted.value, now=utcnow())
        return org

    def admin_of(self, org: Organisation) -> User:
        return next(u for u in org.users if u.role is Role.org_admin)

    def user(self, org: Organisation, *, role: str = "member", phone: str | None = None) -> User:
        n = next(_seq)
        data = {"name": f"Person {n}", "email": f"person{n}@org.example", "role": role, "password": PASSWORD}
        if phone:
            data["phone"] = phone
        return service.add_user(self.session, self.admin_of(org), org, data, now=utcnow(), proven_phone=True)

    def token(self, user: User) -> str:
        return auth.create_token(self.session, user, name="test", now=utcnow())

    def member(self, **kwargs) -> Member:
        org = self.org(**kwargs)
        admin = self.admin_of(org)
        return Member(org, admin, self.token(admin))

    def offer(self, org: Organisation, help_type: str = "legal", **data):
        data.setdefault("countries", [org.country])
        data.setdefault("languages", list(org.languages))
        return offers.create_offer(self.session, self.admin_of(org), org, {"help_type": help_type, **data},
                                   now=utcnow())

    def incident(self, reporter: User, *, now=None, **fields):
        """File an incident through the real service (matching and outbox included). Defaults: a
        severity-3 raid in the reporter's country asking for legal help."""
        # Imported on use: this module loads for every test, and the incidents layer pulls in
        # matching and notify, which tests of the lower layers need not load.
        from solidarity.incidents.service import IncidentDraft, file_incident

        draft = {"threat_type": "raid", "severity": 3, "country": reporter.organisation.country,
                 "needs": ["legal"], "summary": "Police at the office", **fields}
        return file_incident(self.session, reporter, IncidentDraft(**draft), now=now or utcnow())


@pytest.fixture
def make(app):
    return Factory(db.session)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def totp_code(user: User) -> str:
    """A code `user`'s authenticator app would show now, accepted even if one was used this step.

    Tests sign the same person in several times within one 30-second step, which the replay rule
    refuses; forgetting the last used step here keeps that rule out of tests not about it (its own
    tests, in tests/members/test_twofactor.py, never call this)."""
    user.totp_last_step = None
    db.session.commit()
    return pyotp.TOTP(user.totp_secret).now()


def sign_in(client, user: User, password: str = PASSWORD):
    """Sign in through the pages, answering the two-factor step when the user has it on. Returns
    the last response (a redirect when signed in)."""
    from tests.conftest import csrf_token  # imported on use: conftest loads this module as a plugin

    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": csrf_token(client, "/login")})
    if response.status_code == 302 and response.location == "/login/code":
        response = client.post("/login/code", data={"code": totp_code(user),
                                                    "csrf_token": csrf_token(client, "/login/code")})
    return response
