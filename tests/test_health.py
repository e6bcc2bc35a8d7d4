"""GET /healthz (alive, no database) and GET /readyz (database, migrations, outbox, heartbeats)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from solidarity import ROOT, create_app, liveness
from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.notify import outbox

CHECKS = {"database", "migrations", "outbox", "worker", "scheduler"}


@pytest.fixture
def at_head(app):
    """The suite builds its schema with create_all; stamp it as `db upgrade` would, then unstamp."""
    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        for head in heads:
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    yield
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))


def beat(session, role, seconds_ago: float = 0) -> None:
    liveness.beat(session, role, now=utcnow() - timedelta(seconds=seconds_ago))


@pytest.fixture
def running(session, at_head):
    beat(session, liveness.WORKER)
    beat(session, liveness.SCHEDULER)


def problems(response) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json["errors"]}


def test_healthz_answers_without_the_database(tmp_path):
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db",
                      "INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "alive"})


def test_ready_when_everything_runs(client, running):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready" and set(response.json["checks"]) == CHECKS
    assert response.json["errors"] == []
    assert response.json["checks"]["worker"]["seconds_since_heartbeat"] < 60


def test_not_ready_when_the_worker_heartbeat_is_older_than_its_limit(client, session, app, running):
    beat(session, liveness.WORKER, seconds_ago=app.config["READY_WORKER_HEARTBEAT_MAX_SECONDS"] + 60)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert set(problems(response)) == {"worker"}
    assert "no worker heartbeat for more than 120s" == problems(response)["worker"]


def test_not_ready_when_no_scheduler_ever_ran(client, session, at_head):
    beat(session, liveness.WORKER)
    response = client.get("/readyz")
    assert response.status_code == 503 and set(problems(response)) == {"scheduler"}


def test_not_ready_when_messages_wait_too_long(client, session, make, app, running):
    outbox.enqueue(session, make.user(make.org()), "incident_status", now=utcnow() - timedelta(hours=1),
                   ref="K7Q2MX", status="resolved")
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503 and set(problems(response)) == {"outbox"}
    assert response.json["checks"]["outbox"]["oldest_due_seconds"] >= 3600


def test_not_ready_when_the_schema_is_behind(client, session, running):
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001_initial_schema'"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503 and "db upgrade" in problems(response)["migrations"]


def test_a_check_set_to_zero_is_off(client, session, app, running, monkeypatch):
    monkeypatch.setitem(app.config, "READY_WORKER_HEARTBEAT_MAX_SECONDS", 0)
    beat(session, liveness.WORKER, seconds_ago=10_000)
    assert client.get("/readyz").status_code == 200


def test_not_ready_without_the_database_and_says_nothing_more(tmp_path):
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db",
                      "INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert set(problems(response)) == CHECKS
    assert set(problems(response).values()) == {"the database cannot be reached"}


def test_a_session_cookie_is_not_looked_up(client, session, make, monkeypatch):
    from solidarity.members import auth as auth_service
    from tests.factories import sign_in

    assert sign_in(client, make.admin_of(make.org())).status_code == 302
    monkeypatch.setattr(auth_service, "load_session", lambda *a, **k: pytest.fail("looked the session up"))
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)


def test_requests_during_a_database_outage_get_503_in_the_one_error_shape(tmp_path):
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db",
                      "INSTANCE_PATH": str(tmp_path)})
    client = app.test_client()
    api = client.get("/api/v1/organisations", headers={"Authorization": "Bearer sol_whatever"})
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.json == {"errors": [{"field": "", "message": "the service cannot reach its database just now; "
                                                            "try again in a moment"}]}
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_an_outage_is_logged_once_then_once_a_minute_then_its_end(monkeypatch, caplog):
    import logging

    clock = iter(range(0, 1000))
    monkeypatch.setattr(liveness.time, "monotonic", lambda: next(clock))
    outage = liveness.OutageLog(logging.getLogger("test.outage"), "worker")
    with caplog.at_level(logging.INFO, logger="test.outage"):
        for _ in range(130):  # a failed attempt a second for a little over two minutes
            outage.failed(RuntimeError("connection refused"))
        outage.succeeded()
        outage.succeeded()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 4, lines
    assert "unreachable (RuntimeError: connection refused)" in lines[0]
    assert "still unreachable after 60s" in lines[1] and "still unreachable after 120s" in lines[2]
    assert lines[3].startswith("worker: the database is back after")
