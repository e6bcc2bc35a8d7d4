"""`K7QF <text>` by SMS: posts to the case's conversation from a registered number of an organisation
that may read it; the acknowledgement carries none of the text; too long, unknown or untrusted
numbers are refused with the replies the other SMS commands give."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.incidents import lockdown, messages, service
from solidarity.incidents.models import Incident, Message
from tests.incidents import scenario
from tests.notify.conftest import twilio_settings  # noqa: F401 - a fixture, used by name below
from tests.notify.sms import reply_text, text_message

A_PHONE = "+254733000111"
B_PHONE = "+254733000222"
SECRET = "canary-sms-safehouse-on-riverside"


@pytest.fixture
def net(make, session, now):
    net = scenario.build(make, now=now)
    net.a_person = make.user(net.a, phone=A_PHONE)
    net.b_person = make.user(net.b, phone=B_PHONE)
    service.answer_match(session, make.admin_of(net.a), net.match_of(session, net.a), True, now=now)
    return net


def posts(session):
    return list(session.scalars(select(Message).order_by(Message.seq)))


@pytest.mark.usefixtures("twilio_settings")
def test_a_registered_number_of_a_responder_on_the_case_posts_and_the_reply_carries_no_text(client, session, net):
    ref = net.incident.ref
    reply = reply_text(text_message(client, A_PHONE, f"{ref.lower()} {SECRET}"))
    assert reply == f"Posted to case {ref}."
    [post] = posts(session)
    assert post.body == SECRET and post.channel == "sms" and post.author_id == net.a_person.id
    # The reporter reads it on the web; its notices say only that there is a message.
    shown = messages.thread(session, net.reporter, net.incident, now=post.created_at)
    assert [s.body for s in shown] == [SECRET] and [s.author for s in shown] == ["Alpha Legal"]


@pytest.mark.usefixtures("twilio_settings")
def test_the_reporters_registered_phone_posts_too_even_with_a_threat_word(client, session, net):
    ref = net.incident.ref
    assert reply_text(text_message(client, scenario_phone(), f"{ref} they raided the flat too")) == \
        f"Posted to case {ref}."
    assert session.scalar(select(Incident).where(Incident.id != net.incident.id)) is None  # nothing filed


def scenario_phone() -> str:
    return "+254712345678"  # the reporter member's phone in tests.incidents.scenario


@pytest.mark.usefixtures("twilio_settings")
def test_a_message_longer_than_one_sms_is_refused_with_a_hint_to_use_the_web(client, session, net):
    ref = net.incident.ref
    reply = reply_text(text_message(client, A_PHONE, f"{ref} " + "x" * 160))
    assert reply == f"Too long for one SMS: please write on the web, case {ref}."
    assert posts(session) == []


@pytest.mark.usefixtures("twilio_settings")
def test_unknown_numbers_and_organisations_not_on_the_case_are_refused(client, session, net, make, now):
    ref = net.incident.ref
    assert reply_text(text_message(client, "+254700999999", f"{ref} {SECRET}")) == "Message received."
    assert reply_text(text_message(client, B_PHONE, f"{ref} {SECRET}")) == \
        f"No conversation {ref} for you. Check the code."
    lockdown.lock_down(session, net.coordinator, net.a, now=now)
    assert reply_text(text_message(client, A_PHONE, f"{ref} {SECRET}")) == "Message received."
    assert posts(session) == []


@pytest.mark.usefixtures("twilio_settings")
def test_a_closed_case_takes_no_sms(client, session, net, now):
    service.change_status(session, net.reporter, net.incident, "withdrawn", now=now + timedelta(minutes=1))
    ref = net.incident.ref
    # A withdrawn case has no one on it any more (accepted requests are completed, still readers).
    assert reply_text(text_message(client, A_PHONE, f"{ref} hello")) == f"Not posted to case {ref}. Please use the web."
    assert posts(session) == []


@pytest.mark.usefixtures("twilio_settings")
def test_an_organisation_with_a_pin_posts_only_with_it(client, session, make, net, now):
    # The PIN rule of reports and answers: a seized phone alone cannot speak in the organisation's name.
    from solidarity.members import service as members
    members.set_sms_pin(session, make.admin_of(net.a), net.a, "4821", now=now)
    ref = net.incident.ref
    for body in (f"{ref} {SECRET}", f"{ref} 1234 {SECRET}"):
        assert reply_text(text_message(client, A_PHONE, body)) == "Message received."
    assert posts(session) == []
    assert reply_text(text_message(client, A_PHONE, f"{ref} 4821 {SECRET}")) == f"Posted to case {ref}."
    [post] = posts(session)
    assert post.body == SECRET and "4821" not in post.body
