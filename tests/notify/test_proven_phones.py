"""Issue 11, finding 2: a phone number is trusted only once proven (members/phones.py).

Adding or changing a number sends a code to it; until the code comes back (account page, or a
reply from that number) the number gets only that code and its SMS reads as a stranger's. One
proven number belongs to at most one active person, and /apply never stores someone else's.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from solidarity.audit import AuditEvent
from solidarity.clock import utcnow
from solidarity.errors import RateLimited, ValidationError
from solidarity.escalation import checkins
from solidarity.extensions import db
from solidarity.incidents.models import Incident
from solidarity.matching.models import Match, MatchStatus
from solidarity.members import auth, phones, service
from solidarity.members.models import Organisation, PhoneClaim, User
from solidarity.notify import dispatcher
from solidarity.notify.channels.log import LogSender
from solidarity.notify.models import Channel, Notification
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer, sign_in
from tests.notify.sms import reply_text, text_message
from tests.rawdb import leaks, raw_dump
from tests.web.pages import post

NEUTRAL = "Message received."
VICTIM_PHONE = "+254712345641"
NEW_PHONE = "+254712345642"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def code_rows() -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.template == "phone_code")))


@pytest.fixture
def victim(make, twilio_settings):
    """A vetted organisation whose admin's number is proven, and a responder it can ask."""
    org = make.org("Victim Org", country="KE", phone=VICTIM_PHONE)
    return make.admin_of(org)


def application(phone: str, email: str = "attacker@evil.example") -> dict:
    return {"name": "Harmless Sounding NGO", "country": "KE", "languages": "en", "admin_name": "A. Person",
            "admin_email": email, "admin_phone": phone, "admin_password": PASSWORD}


def _flash_page(client) -> str:
    return client.get("/login").get_data(as_text=True)


# -- The claim through /apply ----------------------------------------------------------------------------

def test_apply_with_someone_elses_number_answers_as_usual_and_stores_nothing_of_it(client, session, make,
                                                                                    victim, now):
    fresh = post(client, "/apply", application("+254712345643", email="fresh@ngo.example"))
    fresh_page = _flash_page(client)
    claimed = post(client, "/apply", application(VICTIM_PHONE))
    assert (claimed.status_code, claimed.location) == (fresh.status_code, fresh.location) == (302, "/login")
    assert _flash_page(client) == fresh_page  # the same thank-you (same organisation name)
    attacker = service.find_user_by_email(session, "attacker@evil.example")
    assert attacker is not None and attacker.phone is None
    # Its claim keeps no number and sends nothing; the victim's phone gets no code.
    claim = session.scalar(select(PhoneClaim).where(PhoneClaim.user_id == attacker.id))
    assert claim.phone_ct is None
    assert [row.user_id for row in code_rows()] == [service.find_user_by_email(session, "fresh@ngo.example").id]
    # No code can ever confirm it, and the victim's number still names the victim alone.
    with pytest.raises(ValidationError):
        phones.confirm(session, attacker, "000000", now=utcnow())
    assert [u.id for u in service.find_users_by_phone(session, VICTIM_PHONE)] == [victim.id]


def test_after_the_claim_the_victims_ok_and_yes_still_work(client, session, make, victim, now):
    post(client, "/apply", application(VICTIM_PHONE))
    attacker_org = next(o for o in session.scalars(select(Organisation)) if o.name == "Harmless Sounding NGO")
    service.set_vetting(session, make.coordinator(), attacker_org, "vetted", now=now)
    checkin = checkins.request_checkins(session, victim, interval_hours=6, now=now)
    assert reply_text(text_message(client, VICTIM_PHONE, "OK")).startswith(f"Check-in {checkin.ref} confirmed")
    # A request to the victim's organisation: a bare YES from the victim's phone answers it.
    make.offer(victim.organisation, "legal")
    reporter = make.org(country="KE")
    incident = make.incident(make.admin_of(reporter), now=utcnow())
    match = session.scalar(select(Match).where(Match.incident_id == incident.id,
                                                Match.organisation_id == victim.organisation_id))
    assert match is not None
    assert reply_text(text_message(client, VICTIM_PHONE, "YES")).startswith("Thank you")
    session.refresh(match)
    assert match.status is MatchStatus.accepted
    # And a report from it is the victim's organisation's, not refused as ambiguous.
    assert reply_text(text_message(client, VICTIM_PHONE, "RAID")).startswith("Report received")
    assert session.scalar(select(Incident).where(Incident.channel == "sms")).organisation_id == victim.organisation_id


# -- Until proven, a number is a stranger ----------------------------------------------------------------

@pytest.fixture
def pending(make, session, twilio_settings):
    """A vetted organisation's member whose new number is claimed but not proven, with a check-in and a
    request waiting for the organisation."""
    org = make.org(country="KE")
    make.offer(org, "legal")
    member = service.add_user(session, make.admin_of(org), org, {"name": "New", "email": "new@org.example",
                                                                 "phone": NEW_PHONE}, now=utcnow())
    assert member.phone is None and phones.open_claim(session, member, now=utcnow()) is not None
    make.incident(make.admin_of(make.org(country="KE")), now=utcnow())
    checkins.request_checkins(session, make.admin_of(org), interval_hours=6, now=utcnow())
    return member


def _state(session):
    session.expire_all()
    return (count(Incident), sorted(m.status.value for m in session.scalars(select(Match))),
            sorted(str(c.last_confirmed_at) for c in session.scalars(select(checkins.CheckIn))),
            [u.sms_opted_out_at for u in session.scalars(select(User).order_by(User.id))])


@pytest.mark.parametrize("body", ["RAID HELP LEGAL", "YES", "NO", "OK", "START", "HELP", "123456"])
def test_sms_from_an_unproven_number_is_a_strangers(client, session, pending, body):
    before = _state(session)
    assert reply_text(text_message(client, NEW_PHONE, body)) == reply_text(text_message(client, "+254712345649",
                                                                                        body))
    assert _state(session) == before


def test_stop_from_an_unproven_number_ends_its_codes(client, session, pending):
    assert reply_text(text_message(client, NEW_PHONE, "STOP")) is None  # nobody's number: no reply
    assert phones.open_claim(session, pending, now=utcnow()) is None


def test_the_code_goes_only_to_the_new_number_and_only_as_a_code(session, pending, tmp_path, app):
    senders = {channel: LogSender(tmp_path / "outbox.log", channel) for channel in Channel}
    rows = code_rows()
    assert [(r.channel, r.user_id) for r in rows] == [(Channel.sms, pending.id)]
    assert "code" not in rows[0].params  # the code is not kept in the outbox (nor anywhere)
    claim = phones.open_claim(session, pending, now=utcnow())
    dispatcher.run_once(session, now=utcnow(), channels=senders)
    log = (tmp_path / "outbox.log").read_text()
    line = next(line for line in log.splitlines() if phones.code_for(claim) in line)
    assert "Code to confirm this number" in line
    assert leaks(raw_dump(db.engine), [phones.code_for(claim)]) == []


# -- Confirming ------------------------------------------------------------------------------------------

@pytest.fixture
def claimant(make, session, now):
    org = make.org(country="KE")
    user = make.user(org)
    service.update_user(session, user, user, {"phone": "0712 345 644", "current_password": PASSWORD}, now=now)
    return user


def test_the_right_code_makes_the_number_the_users_once(session, claimant, now):
    claim = phones.open_claim(session, claimant, now=now)
    assert claim.phone == "+254712345644"  # read in the organisation's country
    code = phones.code_for(claim)
    phones.confirm(session, claimant, code, now=now + timedelta(minutes=1))
    assert claimant.phone == "+254712345644"
    assert session.get(PhoneClaim, claim.id).phone_ct is None  # wiped once used
    with pytest.raises(ValidationError) as caught:  # single use
        phones.confirm(session, claimant, code, now=now + timedelta(minutes=2))
    assert caught.value.field == "code"
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(claimant.id))))
    assert {"user.phone_claimed", "user.phone_confirmed"} <= actions


def test_a_wrong_code_counts_and_the_attempts_run_out(session, claimant, now, app):
    claim = phones.open_claim(session, claimant, now=now)
    right = phones.code_for(claim)
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    for _ in range(app.config["PHONE_CODE_ATTEMPTS"]):
        with pytest.raises(ValidationError):
            phones.confirm(session, claimant, wrong, now=now)
    with pytest.raises(ValidationError):  # used up: even the right code fails now
        phones.confirm(session, claimant, right, now=now)
    assert claimant.phone is None


def test_an_expired_code_fails(session, claimant, now, app):
    claim = phones.open_claim(session, claimant, now=now)
    with pytest.raises(ValidationError):
        phones.confirm(session, claimant, phones.code_for(claim),
                       now=now + timedelta(minutes=app.config["PHONE_CODE_MINUTES"], seconds=1))
    assert claimant.phone is None


def test_a_newer_number_replaces_the_claim(session, claimant, now):
    old = phones.open_claim(session, claimant, now=now)
    service.update_user(session, claimant, claimant, {"phone": NEW_PHONE, "current_password": PASSWORD}, now=now)
    with pytest.raises(ValidationError):
        phones.confirm(session, claimant, phones.code_for(old), now=now)
    assert phones.open_claim(session, claimant, now=now).phone == NEW_PHONE


def test_sending_codes_is_limited_per_person_and_per_number(session, make, claimant, now, app):
    for n in range(app.config["PHONE_CODES_PER_HOUR"] - 1):
        service.update_user(session, claimant, claimant, {"phone": f"+25471234565{n}", "current_password": PASSWORD},
                            now=now)
    with pytest.raises(RateLimited) as caught:
        service.update_user(session, claimant, claimant, {"phone": NEW_PHONE, "current_password": PASSWORD}, now=now)
    assert caught.value.field == "phone"
    # Per number: other people claiming one number cannot text it without end.
    org = make.org()
    for n in range(app.config["PHONE_CODES_PER_HOUR"]):
        person = service.add_user(session, make.admin_of(org), org, {"name": f"P{n}", "email": f"p{n}@x.example"},
                                  now=now)
        service.update_user(session, make.admin_of(org), person, {"phone": "+254712345660"}, now=now)
    last = service.add_user(session, make.admin_of(org), org, {"name": "Last", "email": "last@x.example"}, now=now)
    with pytest.raises(RateLimited):
        service.update_user(session, make.admin_of(org), last, {"phone": "+254712345660"}, now=now)


def test_a_reply_with_the_code_from_that_number_confirms_it(client, session, pending):
    code = phones.code_for(phones.open_claim(session, pending, now=utcnow()))
    assert reply_text(text_message(client, "+254712345649", code)) == NEUTRAL  # from another number: nothing
    assert reply_text(text_message(client, NEW_PHONE, code)) == "This number is confirmed. Thank you."
    session.refresh(pending)
    assert pending.phone == NEW_PHONE
    assert [u.id for u in service.find_users_by_phone(session, NEW_PHONE)] == [pending.id]


def test_the_account_page_confirms_the_number(client, session, make, now):
    member = make.user(make.org(country="KE"))
    sign_in(client, member)
    assert post(client, "/account", {"name": member.name, "email": member.email, "phone": NEW_PHONE,
                                     "preferred_language": "en", "notify_sms": "y", "notify_email": "y",
                                     "current_password": PASSWORD}).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "Confirm your new phone number" in page
    token = csrf_token(client, "/account")
    wrong = client.post("/account/phone", data={"confirm-code": "000000", "confirm-csrf_token": token})
    assert wrong.status_code == 422 and "wrong, expired or used up" in wrong.get_data(as_text=True)
    assert member.email in wrong.get_data(as_text=True)  # the account form below is still filled in
    code = phones.code_for(phones.open_claim(session, member, now=utcnow()))
    done = client.post("/account/phone", data={"confirm-code": code, "confirm-csrf_token": token})
    assert done.status_code == 302
    session.refresh(member)
    assert member.phone == NEW_PHONE
    assert "Confirm your new phone number" not in client.get("/account").get_data(as_text=True)


# -- One number, one active person -----------------------------------------------------------------------

def test_a_colleagues_number_is_refused_naming_the_field(client, make, session, now):
    member = make.member()
    colleague = make.user(member.org, phone="+254712345671")
    response = client.post(f"/api/v1/organisations/{member.org.id}/users", headers=bearer(member.token),
                           json={"name": "Twin", "email": "twin@org.example", "phone": "+254 712 345 671"})
    assert response.status_code == 409
    assert response.json["errors"][0]["field"] == "phone"
    assert colleague.name in response.json["errors"][0]["message"]
    assert service.find_user_by_email(session, "twin@org.example") is None


def test_another_organisations_number_is_not_refused_but_never_becomes_theirs(client, make, session, now):
    member = make.member()
    make.org(phone="+254712345672")
    response = client.post(f"/api/v1/organisations/{member.org.id}/users", headers=bearer(member.token),
                           json={"name": "Claimer", "email": "claimer@org.example", "phone": "+254712345672"})
    assert response.status_code == 201 and response.json["phone_pending"] is True  # as for a free number
    claimer = service.find_user_by_email(session, "claimer@org.example")
    assert session.scalar(select(PhoneClaim).where(PhoneClaim.user_id == claimer.id)).phone_ct is None
    assert code_rows() == []


def test_the_database_allows_one_active_person_per_proven_number(make, session):
    org = make.org(phone="+254712345673")
    other = make.user(make.org())
    other.phone = "+254712345673"
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    # A disabled account's old number does not block it (the index covers active people only).
    admin = make.admin_of(org)
    admin.active = False
    session.commit()
    other = session.get(User, other.id)
    other.phone = "+254712345673"
    session.commit()


@pytest.mark.parametrize("repeat", range(3))
def test_two_people_proving_one_number_at_once_one_wins(app, make, session, now, repeat):
    org = make.org()
    people = [make.user(org), make.user(make.org())]
    for person in people:
        service.update_user(session, person, person, {"phone": "+254712345674", "current_password": PASSWORD},
                            now=now)
    codes = {p.id: phones.code_for(phones.open_claim(session, p, now=now)) for p in people}
    ids = [p.id for p in people]
    session.remove()
    barrier = threading.Barrier(len(ids))
    results: dict = {}

    def prove(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait(timeout=10)
            try:
                phones.confirm(db.session, user, codes[user_id], now=now)
                results[user_id] = True
            except ValidationError:
                results[user_id] = False
            finally:
                db.session.remove()

    threads = [threading.Thread(target=prove, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == [False, True]
    holders = list(db.session.scalars(select(User.id).where(User.phone_index == phones.phone_index("+254712345674"))))
    assert holders == [next(i for i, ok in results.items() if ok)]


def test_parallel_wrong_guesses_never_exceed_the_attempts(app, session, make, now):
    org = make.org()
    user = make.user(org)
    service.update_user(session, user, user, {"phone": "+254712345675", "current_password": PASSWORD}, now=now)
    claim_id = phones.open_claim(session, user, now=now).id
    user_id = user.id
    tries = app.config["PHONE_CODE_ATTEMPTS"] * 2
    barrier = threading.Barrier(tries)

    def guess(n):
        with app.app_context():
            person = db.session.get(User, user_id)
            barrier.wait(timeout=10)
            try:
                phones.confirm(db.session, person, f"{n:06d}", now=now)
            except ValidationError:
                pass
            finally:
                db.session.remove()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    db.session.expire_all()
    assert db.session.get(PhoneClaim, claim_id).attempts == app.config["PHONE_CODE_ATTEMPTS"]


def test_re_enabling_an_account_whose_number_someone_proved_since_drops_the_number(make, session, now):
    org = make.org()
    old = make.user(org, phone="+254712345676")
    admin = make.admin_of(org)
    auth.set_active(session, admin, old, False, now=now)
    newcomer = make.user(make.org())
    service.update_user(session, newcomer, newcomer, {"phone": "+254712345676", "current_password": PASSWORD},
                        now=now)
    phones.confirm(session, newcomer, phones.code_for(phones.open_claim(session, newcomer, now=now)), now=now)
    auth.set_active(session, admin, old, True, now=now)  # no unique violation, no 500
    assert (old.active, old.phone, newcomer.phone) == (True, None, "+254712345676")
