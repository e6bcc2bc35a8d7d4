"""The case conversation on phones: the reporter writes, the responder that accepted reads and
answers, a responder only asked sees nothing, a coordinator reads it; a private line reaches only
its responder."""
import pytest
from playwright.sync_api import expect

from solidarity.clock import utcnow
from solidarity.incidents import service
from tests.browser.navigators import CoordinatorNav, MemberNav
from tests.factories import totp_code
from tests.incidents import scenario

EVERYONE = ("Everyone on the case can read this: the reporting organisation, the responders who took it and the "
            "coordinators.")


@pytest.mark.browser
def test_reporter_responders_and_coordinator_talk_on_the_case(session, make, live_server, new_page):
    net = scenario.build(make, now=utcnow())
    for org in (net.a, net.d):  # Alpha Legal and Delta Media accept; Beta Legal is only asked
        service.answer_match(session, make.admin_of(org), net.match_of(session, org), True, now=utcnow())
    incident = net.incident

    reporter = MemberNav(new_page(phone=True), live_server)
    reporter.sign_in(net.reporter.email)
    reporter.open_incident(incident.id)
    reporter.write_message("Two staff are held at Central station")
    reporter.write_message("The magistrate on duty is Judge Wekesa", to="Only Alpha Legal")
    assert reporter.conversation()[-1][2] == "Only you and Alpha Legal can read this."
    width = reporter.page.locator("ol.posts").bounding_box()["width"]
    assert width <= 390  # the thread fits the phone's width

    lawyer = MemberNav(new_page(phone=True), live_server)
    lawyer.sign_in(make.admin_of(net.a).email)
    lawyer.open_incident(incident.id)
    assert lawyer.conversation() == [
        ("The reporting organisation", "Two staff are held at Central station", EVERYONE),
        ("The reporting organisation", "The magistrate on duty is Judge Wekesa",
         "Only you and the reporting organisation can read this.")]
    lawyer.write_message("Our lawyer is on the way to the station")

    media = MemberNav(new_page(phone=True), live_server)
    media.sign_in(make.admin_of(net.d).email)
    media.open_incident(incident.id)
    assert [text for _, text, _ in media.conversation()] == ["Two staff are held at Central station",
                                                             "Our lawyer is on the way to the station"]

    asked = MemberNav(new_page(phone=True), live_server)
    asked.sign_in(make.admin_of(net.b).email)
    asked.open_incident(incident.id)
    assert not asked.has_conversation()
    expect(asked.page.get_by_text("Two staff are held")).to_have_count(0)
    expect(asked.page.get_by_text("Judge Wekesa")).to_have_count(0)

    coordinator = CoordinatorNav(new_page(phone=True), live_server)
    coordinator.sign_in(net.coordinator.email, code=totp_code(net.coordinator))
    coordinator.open_incident(incident.id)
    assert coordinator.conversation() == [
        ("Haki Watch", "Two staff are held at Central station", EVERYONE),
        ("Alpha Legal", "Our lawyer is on the way to the station", EVERYONE)]

    reporter.open_incident(incident.id)
    assert reporter.conversation()[-1][:2] == ("Alpha Legal", "Our lawyer is on the way to the station")
