from sqlalchemy import func, select

from solidarity.audit import AuditEvent
from solidarity.playbook import service
from solidarity.playbook.models import THREAT_TYPES, Play, PlayVersion, VersionStatus


def test_loader_publishes_one_play_per_threat_type(session, now):
    created = service.load_initial_playbook(session, now=now)
    assert sorted(v.play.threat_type for v in created) == sorted(THREAT_TYPES)
    for version in created:
        assert (version.number, version.status, version.created_by_id) == (1, VersionStatus.published, None)
        assert version.author_label == "system" and version.published_at == now
        assert 4 <= len(version.steps) <= 8
        assert [s.position for s in version.steps] == list(range(1, len(version.steps) + 1))
        assert version.help_types and version.sources
        # Every help type the play needs is called for by one of its steps, and the other way round.
        assert set(version.help_types) == {s.help_type for s in version.steps if s.help_type}
        assert service.play_for(session, version.play.threat_type).id == version.id
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "play.published")) == len(THREAT_TYPES)


def test_loader_is_idempotent(session, now):
    service.load_initial_playbook(session, now=now)
    assert service.load_initial_playbook(session, now=now) == []
    assert session.scalar(select(func.count()).select_from(Play)) == len(THREAT_TYPES)
    assert session.scalar(select(func.count()).select_from(PlayVersion)) == len(THREAT_TYPES)


def test_cli_command_loads_once(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["playbook", "load"])
    assert first.exit_code == 0, first.output
    assert f"{len(THREAT_TYPES)} play(s) loaded" in first.output
    again = runner.invoke(args=["playbook", "load"])
    assert "0 play(s) loaded" in again.output
