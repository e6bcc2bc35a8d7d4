"""The ORM guard: a published or retired version and its steps cannot change, whatever the code path."""
import uuid

import pytest
from sqlalchemy import delete, update

from solidarity.playbook import service
from solidarity.playbook.models import ImmutableVersion, PlayStep, PlayVersion, VersionStatus


@pytest.fixture
def published(loaded):
    return loaded["asset_freeze"]


@pytest.mark.parametrize("change", [
    lambda v: setattr(v, "title", "Rewritten"),
    lambda v: setattr(v, "summary", "Rewritten"),
    lambda v: setattr(v, "help_types", ["relocation"]),
    lambda v: setattr(v, "sources", []),
    lambda v: setattr(v, "number", 9),
    lambda v: setattr(v, "status", VersionStatus.draft),
    lambda v: setattr(v.steps[0], "text", "Rewritten"),
    lambda v: setattr(v.steps[0], "checklist", []),
    lambda v: v.steps.pop(),
    lambda v: v.steps.append(PlayStep(id=uuid.uuid4(), position=99, actor="affected", text="Added")),
], ids=["title", "summary", "help_types", "sources", "number", "status", "step_text", "step_checklist",
        "remove_step", "add_step"])
def test_published_version_refuses_changes_at_flush(session, published, change):
    change(published)
    with pytest.raises(ImmutableVersion):
        session.flush()
    session.rollback()
    session.expire_all()
    assert published.title == "Frozen bank accounts and assets" and len(published.steps) == 6


def test_deleting_a_published_version_or_its_step_is_refused(session, published):
    session.delete(published.steps[0])
    with pytest.raises(ImmutableVersion):
        session.flush()
    session.rollback()
    session.delete(published)
    with pytest.raises(ImmutableVersion):
        session.flush()


def test_moving_a_step_out_of_a_published_version_is_refused(session, make, published, now):
    draft = service.draft_play(session, make.coordinator(), "asset_freeze",
                               {"title": "Other", "summary": "s", "help_types": ["legal"], "sources": ["x"],
                                "steps": [{"actor": "affected", "text": "t"}]}, now=now)
    step_id, draft_id = published.steps[0].id, draft.id
    session.expunge_all()  # the step arrives without its published version loaded
    step = session.get(PlayStep, step_id)
    step.version_id = draft_id
    step.position = 50
    with pytest.raises(ImmutableVersion):
        session.flush()


def test_bulk_statements_on_versions_are_refused(session, published):
    with pytest.raises(ImmutableVersion):
        session.execute(update(PlayVersion).where(PlayVersion.id == published.id).values(title="Bulk"))
    with pytest.raises(ImmutableVersion):
        session.execute(delete(PlayStep).where(PlayStep.version_id == published.id))


def test_retiring_is_the_one_allowed_change(session, make, published, now):
    service.retire(session, make.coordinator(), published, now=now)
    assert published.status is VersionStatus.retired and published.retired_at == now
    published.status = VersionStatus.published  # and a retired version is frozen too
    with pytest.raises(ImmutableVersion):
        session.flush()


def test_drafts_change_freely(session, make, published, now):
    draft = service.new_version(session, make.coordinator(), published.play, now=now)
    draft.title = "Better title"
    draft.steps[0].text = "Better step"
    session.commit()
    session.expire_all()
    assert draft.title == "Better title" and draft.steps[0].text == "Better step"
