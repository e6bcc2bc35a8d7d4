"""A member reports an incident through the web form on a phone, finds its play in the workspace,
and ticks a step of the checklist."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from solidarity.incidents.models import Incident
from solidarity.playbook import service
from solidarity.playbook.models import ChecklistProgress
from tests.browser.navigators import MemberNav


@pytest.mark.browser
def test_a_member_files_an_incident_sees_its_play_and_ticks_a_step(session, make, live_server, new_page, now):
    raid = {v.play.threat_type: v for v in service.load_initial_playbook(session, now=now)}["raid"]
    reporter = make.admin_of(make.org("Haki Watch", country="KE"))
    make.offer(make.org("Alpha Legal", country="KE"), "legal", countries=["KE"])

    member = MemberNav(new_page(phone=True), live_server)
    member.sign_in(reporter.email)
    # No help ticked: the play for the threat says what to ask for.
    ref = member.report_incident(threat="Raid", severity="3 · urgent", summary="Police are searching the office")

    assert member.workspace_play() == raid.title
    assert member.play_steps() == [step.text for step in raid.steps]
    expect(member.page.get_by_text("Alpha Legal")).to_be_visible()  # asked for the play's legal help
    assert "0 of 6 steps done" in member.checklist_progress()

    member.tick_step(1)
    assert "1 of 6 steps done" in member.checklist_progress()
    session.expire_all()
    incident = session.scalar(select(Incident).where(Incident.ref == ref))
    assert incident.play_version_id == raid.id
    [row] = session.scalars(select(ChecklistProgress).where(ChecklistProgress.incident_id == incident.id)).all()
    assert (row.step_id, row.done_by_id) == (raid.steps[0].id, reporter.id)
