"""Vetting: two vouches or a coordinator's approval make a member; coordinators suspend and reinstate."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.errors import Conflict, Forbidden, ValidationError
from solidarity.extensions import db
from solidarity.members import service
from solidarity.members.models import Vetting, Vouch
from tests.factories import bearer


def _actions(target) -> list[tuple[str, dict]]:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.target_id == str(target.id))
                                .order_by(AuditEvent.id))
    return [(e.action, e.details) for e in events]


def test_two_vouches_from_vetted_members_vet_an_applicant_and_record_who_vouched(client, make):
    applicant = make.org(vetted=False)
    first, second = make.member(), make.member()

    response = client.post(f"/api/v1/organisations/{applicant.id}/vouch", headers=bearer(first.token))
    assert response.status_code == 200, response.json
    assert (response.json["vetting_status"], response.json["vouched_by"]) == ("applied", [str(first.org.id)])

    response = client.post(f"/api/v1/organisations/{applicant.id}/vouch", headers=bearer(second.token))
    assert response.status_code == 200, response.json
    assert response.json["vetting_status"] == "vetted"
    assert response.json["vouched_by"] == [str(first.org.id), str(second.org.id)]
    assert response.json["vetted_at"] is not None

    vouches = db.session.scalars(select(Vouch).where(Vouch.applicant_id == applicant.id)).all()
    assert {(v.voucher_id, v.by_user_id) for v in vouches} == {(first.org.id, first.admin.id),
                                                                (second.org.id, second.admin.id)}
    assert [a for a, _ in _actions(applicant)] == ["organisation.applied", "organisation.vouched",
                                                   "organisation.vouched", "organisation.vetting"]
    assert _actions(applicant)[-1][1] == {"old": "applied", "new": "vetted", "by": "vouches"}


def test_one_vouch_is_not_enough(make, now):
    applicant = make.org(vetted=False)
    service.vouch(db.session, make.member().admin, applicant, now=now)
    assert applicant.vetting_status is Vetting.applied


@pytest.mark.parametrize("who", ["member", "admin_of_applicant", "admin_of_suspended", "admin_of_other_applicant",
                                 "coordinator"])
def test_only_admins_of_vetted_organisations_vouch(make, now, who):
    applicant = make.org(vetted=False)
    if who == "member":
        actor = make.user(make.org())
    elif who == "admin_of_applicant":
        actor = make.admin_of(applicant)
    elif who == "admin_of_suspended":
        suspended = make.org()
        service.set_vetting(db.session, make.coordinator(), suspended, "suspended", now=now)
        actor = make.admin_of(suspended)
    elif who == "admin_of_other_applicant":
        actor = make.admin_of(make.org(vetted=False))
    else:
        actor = make.coordinator()
    with pytest.raises(Forbidden):
        service.vouch(db.session, actor, applicant, now=now)
    db.session.rollback()
    assert applicant.vouches == [] and applicant.vetting_status is Vetting.applied


def test_an_organisation_vouches_once_and_only_for_applicants(make, now):
    applicant = make.org(vetted=False)
    voucher = make.member()
    service.vouch(db.session, voucher.admin, applicant, now=now)
    with pytest.raises(Conflict):
        service.vouch(db.session, make.user(voucher.org, role="org_admin"), applicant, now=now)  # same org again
    db.session.rollback()
    with pytest.raises(Conflict):
        service.vouch(db.session, make.member().admin, make.org(), now=now)  # already vetted
    db.session.rollback()
    assert len(applicant.vouches) == 1


def test_a_coordinator_approves_suspends_and_reinstates(client, make, now):
    coordinator = make.coordinator()
    headers = bearer(make.token(coordinator))
    applicant = make.org(vetted=False)
    outsider = make.member()

    approved = client.patch(f"/api/v1/organisations/{applicant.id}", headers=headers,
                            json={"vetting_status": "vetted"})
    assert approved.status_code == 200 and approved.json["vetting_status"] == "vetted"
    assert applicant.vetted_by_id == coordinator.id
    assert client.get(f"/api/v1/organisations/{applicant.id}", headers=bearer(outsider.token)).status_code == 200

    suspended = client.patch(f"/api/v1/organisations/{applicant.id}", headers=headers,
                             json={"vetting_status": "suspended"})
    assert suspended.json["vetting_status"] == "suspended"
    assert client.get(f"/api/v1/organisations/{applicant.id}", headers=bearer(outsider.token)).status_code == 404
    with pytest.raises(Forbidden):  # a suspended member stands behind nobody
        service.vouch(db.session, make.admin_of(applicant), make.org(vetted=False), now=now)
    db.session.rollback()

    reinstated = client.patch(f"/api/v1/organisations/{applicant.id}", headers=headers,
                              json={"vetting_status": "vetted"})
    assert reinstated.json["vetting_status"] == "vetted"
    changes = [d for a, d in _actions(applicant) if a == "organisation.vetting"]
    assert [(d["old"], d["new"]) for d in changes] == [("applied", "vetted"), ("vetted", "suspended"),
                                                       ("suspended", "vetted")]


def test_a_profile_change_with_a_vetting_change_is_all_or_nothing(make, now):
    org = make.org("Original")
    admin = make.admin_of(org)
    with pytest.raises(Forbidden):
        service.update_organisation(db.session, admin, org, {"name": "Renamed", "vetting_status": "suspended"},
                                    now=now)
    db.session.rollback()
    with pytest.raises(ValidationError) as refused:
        service.update_organisation(db.session, make.coordinator(), org,
                                    {"name": "Renamed", "vetting_status": "expelled"}, now=now)
    assert [e.field for e in refused.value.errors] == ["vetting_status"]
    db.session.rollback()
    db.session.expire_all()
    assert (org.name, org.vetting_status) == ("Original", Vetting.vetted)

    service.update_organisation(db.session, make.coordinator(), org, {"name": "Renamed", "vetting_status": "suspended"},
                                now=now)
    db.session.expire_all()
    assert (org.name, org.vetting_status) == ("Renamed", Vetting.suspended)


def test_only_coordinators_set_vetting(make, now):
    org = make.org(vetted=False)
    with pytest.raises(Forbidden):
        service.set_vetting(db.session, make.admin_of(org), org, "vetted", now=now)
    with pytest.raises(ValidationError):
        service.set_vetting(db.session, make.coordinator(), org, "approved", now=now)
