"""Destructive actions ask first: GET shows what will happen and changes nothing, the POST (CSRF)
does it, and the page it lands on shows the result at its top. Applicants can be rejected with a
reason."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.incidents.models import Status
from solidarity.members import service
from solidarity.members.models import Vetting
from solidarity.notify.models import Notification
from solidarity.playbook import service as playbook
from solidarity.playbook.models import VersionStatus
from tests.web.pages import post, sign_in

PAGE = "/coordinator/organisations"


def test_lock_down_asks_on_a_page_that_says_what_will_happen(client, session, make):
    org = make.org("Baobab Rights Watch")
    sign_in(client, make.coordinator())
    listing = client.get(PAGE).get_data(as_text=True)
    path = f"/coordinator/organisations/{org.id}/lockdown"
    assert f'href="{path}"' in listing  # a link to the confirmation, not a one-click button
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Lock down <bdi>Baobab Rights Watch</bdi>?" in html
    assert "end every session" in html and "Go back without doing it" in html
    session.refresh(org)
    assert org.locked_at is None  # asking changed nothing
    done = post(client, path)
    assert done.status_code == 302 and done.location == PAGE  # no #fragment: the page opens at the top
    session.refresh(org)
    assert org.locked_at is not None
    top = client.get(PAGE).get_data(as_text=True).split("<main", 1)[1]
    assert top.index('class="flash"') < top.index("<h1>")  # the result, above everything else


def test_a_post_without_the_csrf_token_does_nothing(client, session, make):
    org = make.org()
    sign_in(client, make.coordinator())
    assert client.post(f"/coordinator/organisations/{org.id}/lockdown").status_code == 400
    session.refresh(org)
    assert org.locked_at is None


def test_suspending_asks_first(client, session, make):
    org = make.org("Baobab Rights Watch")
    sign_in(client, make.coordinator())
    path = f"/coordinator/organisations/{org.id}/vetting"
    assert f'href="{path}"' in client.get(PAGE).get_data(as_text=True)
    html = client.get(path).get_data(as_text=True)
    assert "Suspend <bdi>Baobab Rights Watch</bdi>?" in html and 'name="status" value="suspended"' in html
    session.refresh(org)
    assert org.vetting_status is Vetting.vetted
    assert post(client, path, {"status": "suspended"}).status_code == 302
    session.refresh(org)
    assert org.vetting_status is Vetting.suspended


def test_a_coordinator_rejects_an_applicant_with_a_reason(client, session, make):
    applicant = make.org("Kivuli Rights Desk", vetted=False)
    admin = make.admin_of(applicant)
    coordinator = make.coordinator()
    sign_in(client, coordinator)
    path = f"/coordinator/organisations/{applicant.id}/reject"
    assert f'href="{path}"' in client.get(PAGE).get_data(as_text=True)
    assert "Reject the application of <bdi>Kivuli Rights Desk</bdi>?" in client.get(path).get_data(as_text=True)

    refused = post(client, path, {"reason": "  "})  # a reason is required: the page comes back, with it said
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Say why, in a few words" in html and "<title>Error:" in html
    session.refresh(applicant)
    assert applicant.vetting_status is Vetting.applied

    done = post(client, path, {"reason": "We could not confirm who runs it."})
    assert done.status_code == 302 and done.location == PAGE
    session.refresh(applicant)
    assert applicant.vetting_status is Vetting.rejected
    assert applicant.rejection_reason == "We could not confirm who runs it."
    assert applicant not in service.list_organisations(session, status="applied")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.vetting")
                            .order_by(AuditEvent.at.desc())).first()
    assert event.details == {"old": "applied", "new": "rejected"}  # the reason is not in the plain trail
    mail = session.scalars(select(Notification).where(Notification.user_id == admin.id,
                                                      Notification.template == "application_rejected")).one()
    assert mail.channel.value == "email" and "confirm" not in str(mail.params)
    listing = client.get(PAGE).get_data(as_text=True)
    assert "Kivuli Rights Desk is rejected" in listing
    assert "Kivuli Rights Desk" not in listing.split('id="applied"')[1].split('id="vetted"')[0]

    client.post("/logout", data={"csrf_token": ""})
    applicant_client = client.application.test_client()
    sign_in(applicant_client, admin)
    home = applicant_client.get("/").get_data(as_text=True)
    assert "Your application was not accepted" in home and "We could not confirm who runs it." in home


def test_only_an_applicant_can_be_rejected(client, session, make, now):
    member = make.org()
    with pytest.raises(Exception, match="not applying"):
        service.reject_application(session, make.coordinator(), member, "No", now=now)
    with pytest.raises(Exception, match="vetting_status"):  # not through set_vetting, without a reason
        service.set_vetting(session, make.coordinator(), make.org(vetted=False), "rejected", now=now)


def test_withdrawing_an_incident_asks_first(client, session, make):
    reporter = make.admin_of(make.org())
    incident = make.incident(reporter)
    sign_in(client, reporter)
    path = f"/incidents/{incident.id}/withdraw"
    assert f'href="{path}"' in client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    html = client.get(path).get_data(as_text=True)
    assert f"Withdraw case <bdi>{incident.ref}</bdi>?" in html and "stop its check-ins" in html
    session.refresh(incident)
    assert incident.status is Status.open
    done = post(client, path, {"note": "We are safe now."})
    assert done.status_code == 302
    session.refresh(incident)
    assert incident.status is Status.withdrawn


def test_retiring_a_play_asks_first(client, session, make, now):
    coordinator = make.coordinator()
    version = playbook.load_initial_playbook(session, now=now)[0]
    sign_in(client, coordinator)
    path = f"/playbook/{version.id}/retire"
    assert f'href="{path}"' in client.get(f"/playbook/{version.id}").get_data(as_text=True)
    html = client.get(path).get_data(as_text=True)
    assert "Retire version" in html and "get no play" in html
    session.refresh(version)
    assert version.status is VersionStatus.published
    assert post(client, path).status_code == 302
    session.refresh(version)
    assert version.status is VersionStatus.retired


@pytest.mark.parametrize("language", ["en", "fr", "sw", "ar"])
def test_the_rejection_email_says_it_and_no_more(language):
    from solidarity.notify import messages

    mail = messages.render_email("application_rejected", {"reason": "We could not confirm who runs it."}, language,
                                 answer_links=None, home_url="https://solidarity.example/")
    assert mail.body and "could not confirm" not in mail.body  # the reason waits behind the sign-in
    assert "https://solidarity.example/" in mail.body
