import pytest
from playwright.sync_api import expect

from solidarity.playbook import service
from tests.browser.navigators import CoordinatorNav, MemberNav
from tests.factories import totp_code

NEW_STEP = "The bar association sends an observer to the office while the search lasts."


@pytest.mark.browser
def test_coordinator_publishes_a_new_version_and_members_see_it(session, make, live_server, new_page, now):
    service.load_initial_playbook(session, now=now)
    coordinator_user = make.coordinator()
    member_email = make.admin_of(make.org()).email

    coordinator = CoordinatorNav(new_page(), live_server)
    coordinator.sign_in(coordinator_user.email, code=totp_code(coordinator_user))
    coordinator.draft_and_publish_play("Police raid on the office", title="Police raid: people first",
                                       add_steps=[f"coordinators | legal | {NEW_STEP}"])

    member = MemberNav(new_page(phone=True), live_server)
    member.sign_in(member_email)
    member.open_playbook()
    expect(member.page.get_by_role("link", name="Police raid on the office")).to_have_count(0)
    member.open_play("Police raid: people first")
    assert member.play_steps()[-1] == NEW_STEP
    expect(member.page.get_by_text("version 2")).to_be_visible()
    expect(member.page.get_by_role("heading", name="For coordinators")).to_have_count(0)
    session.expire_all()
    assert service.play_for(session, "raid").title == "Police raid: people first"
