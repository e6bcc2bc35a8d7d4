"""The database goes away under a running worker (PostgreSQL): its connection is terminated, or it
stops answering for a while. The worker keeps running, logs the outage, carries on when the database
is back, and every message is sent exactly once or marked uncertain and sent by email (README,
"Delivery guarantees"); web requests meanwhile get 503 in the one error shape."""
from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from solidarity import create_app
from tests import processes
from tests.factories import bearer, sign_in
from tests.notify.fake_twilio import FakeTwilio
from tests.notify.test_worker_process import queue_many, statuses
from tests.notify.workers import tally, worker_env
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TOTAL = 500


@pytest.fixture
def paced_twilio():
    """The fake Twilio taking a few milliseconds per message, so the run is long enough to interrupt."""
    fake = FakeTwilio().start()
    fake.fault = lambda form: time.sleep(0.004)
    yield fake
    fake.stop()


@pytest.fixture
def postgres(is_postgres):
    if not is_postgres:
        pytest.skip("terminating backends and cutting the connection need PostgreSQL")


def _ended(session) -> bool:
    return not {"queued", "sending"} & {status.value for status in +statuses(session)}


def _env(url, tmp_path, fake):
    return worker_env(url, tmp_path, fake.base_url, NOTIFY_BATCH_SIZE=50, NOTIFY_CLAIM_LEASE_SECONDS=3,
                      NOTIFY_SEND_LEASE_SECONDS=3, NOTIFY_POLL_INTERVAL=0.1)


def test_terminated_worker_connections_lose_nothing_and_send_nothing_twice(postgres, session, make, now,
                                                                        database_url, tmp_path, paced_twilio):
    queue_many(session, make, now, TOTAL)
    url = make_url(database_url).update_query_dict({"application_name": "outage-worker"})
    log = tmp_path / "worker.log"
    worker = processes.start(_env(url.render_as_string(hide_password=False), tmp_path, paced_twilio), log, "worker")
    terminated = 0
    try:
        for mark in (100, 200, 300):
            processes.wait_until(lambda mark=mark: len(paced_twilio.sent) >= mark, 120, f"{mark} messages")
            terminated += session.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                               "WHERE application_name = 'outage-worker'")).scalar()
            session.commit()
        processes.wait_until(lambda: _ended(session), 180, "every message to end")
        assert worker.poll() is None, "the worker must survive its connection being terminated"
    finally:
        processes.kill(worker)
    assert terminated >= 3
    result = tally(session, paced_twilio.by_notification())
    assert (result.total, result.lost, result.duplicated, result.unfinished) == (TOTAL, 0, 0, 0), str(result)
    assert result.sent_once + result.uncertain_fallen_back == TOTAL
    assert result.uncertain_fallen_back <= terminated  # at most the row in hand at each termination


def test_a_database_that_stops_answering_for_a_while(postgres, session, make, now, database_url, tmp_path,
                                                     paced_twilio, app_config):
    queue_many(session, make, now, TOTAL)
    coordinator = make.coordinator()
    token = make.token(coordinator)
    session.commit()
    proxy = TcpProxy(("127.0.0.1", make_url(database_url).port or 5432))
    url = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    web = create_app({**app_config, "DATABASE_URL": url}).test_client()
    log = tmp_path / "worker.log"
    worker = processes.start(_env(url, tmp_path, paced_twilio), log, "worker")
    try:
        processes.wait_until(lambda: len(paced_twilio.sent) >= 100, 120, "the first messages")
        assert web.get("/api/v1/organisations", headers=bearer(token)).status_code == 200
        assert sign_in(web, coordinator).status_code == 302

        proxy.cut()
        processes.wait_for_line(log, "the database is unreachable", process=worker)
        refused = web.get("/api/v1/organisations", headers=bearer(token))
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert refused.json == {"errors": [{"field": "", "message": "the service cannot reach its database just "
                                                                    "now; try again in a moment"}]}
        page = web.get("/account")  # signed in: even looking the person up needs the database
        assert page.status_code == 503 and "cannot reach its database" in page.get_data(as_text=True)
        assert web.get("/readyz").status_code == 503 and web.get("/healthz").status_code == 200
        sent_during = len(paced_twilio.sent)

        proxy.restore()
        processes.wait_for_line(log, "the database is back", process=worker)
        processes.wait_until(lambda: _ended(session), 180, "every message to end")
        assert len(paced_twilio.sent) > sent_during and worker.poll() is None
        assert web.get("/api/v1/organisations", headers=bearer(token)).status_code == 200
    finally:
        processes.kill(worker)
        proxy.close()
    result = tally(session, paced_twilio.by_notification())
    assert (result.total, result.lost, result.duplicated, result.unfinished) == (TOTAL, 0, 0, 0), str(result)
    assert result.sent_once + result.uncertain_fallen_back == TOTAL
    assert result.uncertain_fallen_back <= 1  # the row in hand when the connection was cut


def test_the_scheduler_waits_out_an_outage_and_carries_on(postgres, session, make, database_url, tmp_path):
    from datetime import timedelta

    from solidarity.clock import utcnow
    from solidarity.escalation import checkins
    from solidarity.escalation.models import CheckIn

    proxy = TcpProxy(("127.0.0.1", make_url(database_url).port or 5432))
    url = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    env = {**worker_env(url, tmp_path, "http://127.0.0.1:9"), "SOLIDARITY_ESCALATION_TICK_SECONDS": "0.6"}
    log = tmp_path / "scheduler.log"
    scheduler = processes.start(env, log, "scheduler")
    try:
        processes.wait_for_line(log, "is active: performing steps", process=scheduler)
        proxy.cut()
        processes.wait_for_line(log, "the database is unreachable", process=scheduler)
        proxy.restore()
        processes.wait_for_line(log, "the database is back", process=scheduler)
        checkin = checkins.request_checkins(session, make.admin_of(make.org()), interval_hours=1,
                                            now=utcnow() - timedelta(hours=2))
        session.commit()

        def reminded() -> bool:
            session.rollback()
            return session.get(CheckIn, checkin.id, populate_existing=True).reminded_at is not None
        processes.wait_until(reminded, 60, "a step after the outage")
        assert scheduler.poll() is None
    finally:
        processes.kill(scheduler)
        proxy.close()
    assert "Traceback" not in log.read_text()


def test_a_worker_stops_promptly_while_the_database_hangs(postgres, session, make, now, database_url, tmp_path,
                                                           paced_twilio):
    """The database stops answering mid-query (nothing is closed, nothing comes back): SIGTERM still
    ends the worker within SHUTDOWN_GRACE_SECONDS; the rows it held are recovered by their leases."""
    queue_many(session, make, now, TOTAL)
    proxy = TcpProxy(("127.0.0.1", make_url(database_url).port or 5432))
    url = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    log = tmp_path / "worker.log"
    worker = processes.start({**_env(url, tmp_path, paced_twilio), "SOLIDARITY_SHUTDOWN_GRACE_SECONDS": "1"}, log,
                             "worker")
    try:
        processes.wait_until(lambda: len(paced_twilio.sent) >= 50, 120, "the first messages")
        proxy.freeze()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) in (0, 1), log.read_text()
    finally:
        processes.kill(worker)
        proxy.close()
    assert "received: stopping" in log.read_text()
