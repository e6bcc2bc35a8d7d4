from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.errors import Conflict, Forbidden, NotFound, ValidationError
from solidarity.incidents import models as incident_models
from solidarity.playbook import service
from solidarity.playbook.models import THREAT_TYPES, ChecklistProgress, Play, PlayVersion, VersionStatus
from tests.playbook.conftest import make_incident, version_data


def publish_next(session, loaded_version, author, reviewer, now, **changes):
    """Draft, change, submit and publish the next version of a loaded play."""
    draft = service.new_version(session, author, loaded_version.play, now=now)
    if changes:
        service.update_draft(session, author, draft, changes, now=now)
    service.submit_for_review(session, author, draft, now=now)
    return service.publish(session, reviewer, draft, now=now + timedelta(minutes=1))


def test_threat_types_match_incidents():
    assert THREAT_TYPES == incident_models.THREAT_TYPES


def test_new_version_is_a_draft_copy(session, make, loaded, now):
    coord = make.coordinator()
    v1 = loaded["raid"]
    draft = service.new_version(session, coord, v1.play, now=now)
    assert (draft.number, draft.status, draft.created_by_id) == (2, VersionStatus.draft, coord.id)
    assert [(s.position, s.actor, s.help_type, s.text, s.checklist) for s in draft.steps] == \
        [(s.position, s.actor, s.help_type, s.text, s.checklist) for s in v1.steps]
    assert {s.id for s in draft.steps}.isdisjoint({s.id for s in v1.steps})
    with pytest.raises(Conflict) as err:
        service.new_version(session, coord, v1.play, now=now)
    assert err.value.field == "play_id"


def test_published_version_cannot_be_updated_by_the_service(session, make, loaded, now):
    with pytest.raises(Conflict) as err:
        service.update_draft(session, make.coordinator(), loaded["raid"], {"title": "Changed"}, now=now)
    assert err.value.field == "status"
    session.expire_all()
    assert loaded["raid"].title == "Police raid on the office"


def test_publishing_retires_the_previous_version_and_play_for_picks_the_latest(
        session, make, loaded, second_coordinator, now):
    author = make.coordinator()
    v2 = publish_next(session, loaded["media_attack"], author, second_coordinator, now, title="Smear campaign v2")
    assert service.play_for(session, "media_attack").id == v2.id
    assert loaded["media_attack"].status is VersionStatus.retired
    assert v2.reviewed_by_id == second_coordinator.id and v2.published_at is not None
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id.in_(
        [str(v2.id), str(loaded["media_attack"].id)]))).all()
    assert {"play.published", "play.retired"} <= set(actions)


def test_play_for_prefers_the_oldest_play_and_returns_none_without_one(session, make, loaded,
                                                                       second_coordinator, now):
    author = make.coordinator()
    extra = service.draft_play(session, author, "raid", version_data(), now=now + timedelta(days=1))
    service.submit_for_review(session, author, extra, now=now)
    service.publish(session, second_coordinator, extra, now=now)
    assert service.play_for(session, "raid").id == loaded["raid"].id
    service.retire(session, author, loaded["raid"], now=now)
    assert service.play_for(session, "raid").id == extra.id
    service.retire(session, author, extra, now=now)
    assert service.play_for(session, "raid") is None


def test_incident_keeps_its_version_when_a_newer_one_is_published(session, make, loaded,
                                                                   second_coordinator, now):
    org = make.org()
    incident = make_incident(session, org, loaded["deregistration"], now=now)
    v2 = publish_next(session, loaded["deregistration"], make.coordinator(), second_coordinator, now,
                      title="Deregistration, second edition")
    session.expire_all()
    kept = session.get(PlayVersion, incident.play_version_id)
    assert kept.id == loaded["deregistration"].id != v2.id
    assert kept.title == "Deregistration threat and bureaucratic harassment"
    assert len(kept.steps) == 7


def test_author_cannot_publish_own_version_when_another_coordinator_exists(session, make, loaded,
                                                                           second_coordinator, now):
    author = make.coordinator()
    draft = service.new_version(session, author, loaded["expulsion"].play, now=now)
    service.submit_for_review(session, author, draft, now=now)
    with pytest.raises(Forbidden) as err:
        service.publish(session, author, draft, now=now)
    assert err.value.field == "reviewed_by"
    # A coordinator who edited the draft is an author too.
    service.update_draft(session, second_coordinator, draft, {"title": "Expulsion, edited"}, now=now)
    service.submit_for_review(session, second_coordinator, draft, now=now)
    with pytest.raises(Forbidden):
        service.publish(session, second_coordinator, draft, now=now)


def test_sole_coordinator_may_publish_own_version_after_review(session, make, loaded, now):
    coord = make.coordinator()
    draft = service.new_version(session, coord, loaded["expulsion"].play, now=now)
    with pytest.raises(Conflict):  # not submitted yet
        service.publish(session, coord, draft, now=now)
    service.submit_for_review(session, coord, draft, now=now)
    assert service.publish(session, coord, draft, now=now).status is VersionStatus.published


def test_editing_a_version_in_review_sends_it_back_to_draft(session, make, loaded, now):
    coord = make.coordinator()
    draft = service.new_version(session, coord, loaded["other"].play, now=now)
    service.submit_for_review(session, coord, draft, now=now)
    service.update_draft(session, coord, draft, {"summary": "Shorter."}, now=now)
    assert draft.status is VersionStatus.draft and draft.submitted_at is None


def test_members_cannot_write_plays(session, make, loaded, now):
    member = make.admin_of(make.org())
    with pytest.raises(Forbidden):
        service.draft_play(session, member, "raid", version_data(), now=now)
    with pytest.raises(Forbidden):
        service.new_version(session, member, loaded["raid"].play, now=now)
    assert session.scalar(select(PlayVersion).where(PlayVersion.number == 2)) is None


def test_validation_names_every_failing_field(session, make, now):
    coord = make.coordinator()
    bad = version_data(title=" ", help_types=["legal", "bribery"], sources=[],
                       steps=[{"actor": "police", "help_type": "legal", "text": ""},
                              {"actor": "affected", "text": "ok", "colour": "red"}])
    with pytest.raises(ValidationError) as err:
        service.draft_play(session, coord, "hurricane", bad, now=now)
    fields = {e.field for e in err.value.errors}
    assert fields == {"threat_type", "title", "help_types", "sources", "steps.0.actor", "steps.0.text",
                      "steps.1.colour"}
    assert session.scalar(select(Play)) is None  # nothing half-written


def test_visibility_of_drafts(session, make, loaded, now):
    coord = make.coordinator()
    member = make.admin_of(make.org())
    draft = service.new_version(session, coord, loaded["raid"].play, now=now)
    assert draft not in service.list_versions(session, member)
    assert draft in service.list_versions(session, coord)
    assert len(service.list_versions(session, member)) == len(THREAT_TYPES)
    assert [v.play.threat_type for v in service.list_versions(session, member, threat_type="raid")] == ["raid"]
    with pytest.raises(NotFound):
        service.get_version(session, member, draft.id)
    with pytest.raises(Forbidden):
        service.list_versions(session, member, status="draft")
    # Members still read a retired version an incident follows.
    service.retire(session, coord, loaded["detention"], now=now)
    assert service.get_version(session, member, loaded["detention"].id).status is VersionStatus.retired


class TestChecklist:
    @pytest.fixture
    def setting(self, session, make, loaded, now):
        reporter_org, responder_org, outsider_org = make.org(), make.org(), make.org()
        incident = make_incident(session, reporter_org, loaded["raid"], now=now)
        steps = {s.actor.value: s for s in loaded["raid"].steps}
        return incident, steps, make.admin_of(reporter_org), make.admin_of(responder_org), make.admin_of(outsider_org)

    def test_reporter_ticks_and_unticks(self, session, setting, now):
        incident, steps, reporter, *_ = setting
        row = service.mark_step(session, reporter, incident, steps["coordinators"], True, now=now)
        assert (row.done_at, row.done_by_id) == (now, reporter.id)
        later = now + timedelta(hours=1)
        service.mark_step(session, reporter, incident, steps["coordinators"], True, now=later)
        assert row.done_at == now  # ticking again keeps the first time
        service.mark_step(session, reporter, incident, steps["coordinators"], False, now=later)
        assert row.done_at is None and row.changed_at == later
        assert list(service.progress_for(session, incident.id)) == [steps["coordinators"].id]

    def test_accepted_responders_tick_only_responder_steps(self, session, setting, now):
        incident, steps, _, responder, _ = setting
        service.mark_step(session, responder, incident, steps["responders"], True, now=now, accepted_responder=True)
        with pytest.raises(Forbidden):
            service.mark_step(session, responder, incident, steps["affected"], True, now=now,
                              accepted_responder=True)

    def test_others_cannot_tick(self, session, setting, now):
        incident, steps, _, _, outsider = setting
        with pytest.raises(Forbidden):
            service.mark_step(session, outsider, incident, steps["responders"], True, now=now)
        assert session.scalar(select(ChecklistProgress)) is None

    def test_coordinators_tick_any_step(self, session, make, setting, now):
        incident, steps, *_ = setting
        assert service.mark_step(session, make.coordinator(), incident, steps["affected"], True,
                                 now=now).done_at == now

    def test_step_of_another_play_is_refused(self, session, loaded, setting, now):
        incident, _, reporter, *_ = setting
        with pytest.raises(ValidationError) as err:
            service.mark_step(session, reporter, incident, loaded["media_attack"].steps[0], True, now=now)
        assert err.value.field == "step_id"
