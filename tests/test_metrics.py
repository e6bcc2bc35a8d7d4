"""The Prometheus endpoint: off without a token, refused with a wrong one; each named series moves
when its event happens. Counters are process-wide, so each test compares before and after. (The
canary journey in tests/notify/test_canary.py scrapes at its end: no label carries personal data.)"""
from __future__ import annotations

import urllib.request
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from solidarity import create_app, metrics
from solidarity.clock import utcnow
from solidarity.escalation.tick import tick
from solidarity.extensions import limiter
from solidarity.notify import dispatcher
from solidarity.notify.channels import TransientError
from solidarity.notify.models import Channel, Delivery, Notification
from solidarity.web.metrics import outbox_collector
from tests.factories import bearer
from tests.notify.conftest import Recorder, twilio_settings  # noqa: F401 - a fixture, used by name
from tests.notify.sms import reply_text, text_message

TOKEN = "metrics-token-for-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

NAMED = ["solidarity_http_requests", "solidarity_http_request_duration_seconds", "solidarity_incidents_filed",
         "solidarity_outbox_queued", "solidarity_outbox_due", "solidarity_outbox_oldest_due_age_seconds",
         "solidarity_sends", "solidarity_provider_latency_seconds", "solidarity_escalation_steps",
         "solidarity_coordinator_alerts", "solidarity_checkin_alarms", "solidarity_login_failures",
         "solidarity_rate_limit_refusals", "solidarity_webhook_signature_refusals"]


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def scrape(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def get(families: bool = False):
        """The samples by (name, labels); with `families`, the names of the metric families."""
        response = client.get("/metrics", headers=AUTH)
        assert response.status_code == 200
        assert response.mimetype == "text/plain"
        parsed = list(text_string_to_metric_families(response.get_data(as_text=True)))
        if families:
            return {family.name for family in parsed}
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in parsed for s in family.samples}
    return get


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert b"solidarity_" not in client.get("/metrics", headers={"Authorization": "Bearer wrong"}).data
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_every_named_series_is_exposed(scrape):
    names = scrape(families=True)
    assert [name for name in NAMED if name not in names] == []


def test_requests_count_by_endpoint_name_not_path(scrape, client, make):
    user = make.admin_of(make.org())
    incident = make.incident(user)
    before = value("solidarity_http_requests_total", endpoint="incidents_api.Incident", method="GET", status="200")
    assert client.get(f"/api/v1/incidents/{incident.id}", headers=bearer(make.token(user))).status_code == 200
    assert client.get("/no/such/page/+254711830472").status_code == 404
    assert client.open("/login", method="CANARY+254711830472").status_code == 405  # any token is a method
    samples = scrape()
    assert value("solidarity_http_requests_total", endpoint="incidents_api.Incident", method="GET",
                 status="200") == before + 1
    assert value("solidarity_http_requests_total", endpoint="unmatched", method="GET", status="404") >= 1
    labels = " ".join(str(key) for key in samples)
    assert str(incident.id) not in labels and "254711830472" not in labels and "CANARY" not in labels
    assert value("solidarity_http_requests_total", endpoint="unmatched", method="other", status="405") >= 1


def test_intake_counts_by_channel(make, client):
    user = make.admin_of(make.org())
    before = value("solidarity_incidents_filed_total", channel="api")
    response = client.post("/api/v1/incidents", headers=bearer(make.token(user)), json={
        "threat_type": "raid", "severity": 3, "country": "KE", "needs": ["legal"], "summary": "a report"})
    assert response.status_code == 201
    assert value("solidarity_incidents_filed_total", channel="api") == before + 1


@pytest.mark.usefixtures("twilio_settings")
def test_intake_by_sms_counts_as_sms(make, client):
    user = make.user(make.org(), phone="+254711000222")
    before = value("solidarity_incidents_filed_total", channel="sms")
    assert reply_text(text_message(client, user.phone, "RAID HELP LEGAL")).startswith("Report received")
    assert value("solidarity_incidents_filed_total", channel="sms") == before + 1


def test_outbox_depth_and_oldest_due_age_are_read_at_scrape_time(app, session, make):
    make.incident(make.admin_of(make.org()))  # the responders' requests are queued now
    responder = make.admin_of(make.org("Responder", country="KE"))
    late = utcnow() - timedelta(hours=2)
    session.add(Notification(user_id=responder.id, channel=Channel.email, template="match_request", params={},
                             status=Delivery.queued, next_attempt_at=late, created_at=late))
    session.add(Notification(user_id=responder.id, channel=Channel.email, template="match_request", params={},
                             status=Delivery.queued, next_attempt_at=utcnow() + timedelta(hours=1), created_at=late))
    session.commit()
    families = {f.name: {s.labels["channel"]: s.value for s in f.samples} for f in outbox_collector(app).collect()}
    queued, due = families["solidarity_outbox_queued"], families["solidarity_outbox_due"]
    assert queued["email"] == due["email"] + 1  # the one backing off is queued, not due
    assert families["solidarity_outbox_oldest_due_age_seconds"]["email"] >= 2 * 3600


def test_a_scrape_still_answers_when_the_outbox_cannot_be_read(caplog):
    def broken():
        raise ConnectionError("database unreachable")
    body = metrics.render(metrics.OutboxCollector(broken)).decode()
    assert "solidarity_sends_total" in body and "solidarity_outbox_queued" not in body
    assert "outbox metrics unavailable" in caplog.text


def test_sends_count_by_channel_and_outcome_and_time_the_provider(session, make):
    for name in ("Responder 1", "Responder 2"):
        make.offer(make.org(name, country="KE"), "legal")
    make.incident(make.admin_of(make.org("Reporter", country="KE")))
    before_sent = value("solidarity_sends_total", channel="email", outcome="sent")
    before_retry = value("solidarity_sends_total", channel="email", outcome="retry")
    before_calls = value("solidarity_provider_latency_seconds_count", channel="email")
    senders = {Channel.email: Recorder(TransientError("busy")), Channel.sms: Recorder()}
    counts = dispatcher.run_once(session, now=utcnow(), channels=senders)
    assert counts["retry"] == 1 and counts["sent"] >= 1
    assert value("solidarity_sends_total", channel="email", outcome="retry") == before_retry + 1
    sent_by_email = len(senders[Channel.email].sent)
    assert value("solidarity_sends_total", channel="email", outcome="sent") == before_sent + sent_by_email
    assert value("solidarity_provider_latency_seconds_count", channel="email") == before_calls + sent_by_email + 1


def test_escalation_steps_and_coordinator_alerts(session, make):
    make.coordinator()
    make.incident(make.admin_of(make.org()))  # nobody offers legal help: the tick alerts the coordinators
    steps = value("solidarity_escalation_steps_total", outcome="exhausted")
    alerts = value("solidarity_coordinator_alerts_total", reason="no_candidates")
    assert tick(session, now=utcnow() + timedelta(seconds=1))["exhausted"] == 1
    assert value("solidarity_escalation_steps_total", outcome="exhausted") == steps + 1
    assert value("solidarity_coordinator_alerts_total", reason="no_candidates") == alerts + 1


def test_a_rolled_back_alert_is_not_counted(session, make):
    from solidarity.escalation.alerts import alert_coordinators

    make.coordinator()
    before = value("solidarity_coordinator_alerts_total", reason="exhausted")
    alert_coordinators(session, now=utcnow(), ref="X-1", reason="exhausted")
    session.rollback()
    assert value("solidarity_coordinator_alerts_total", reason="exhausted") == before
    alert_coordinators(session, now=utcnow(), ref="X-1", reason="exhausted")
    session.commit()
    assert value("solidarity_coordinator_alerts_total", reason="exhausted") == before + 1


def test_checkin_alarm_counts(session, make):
    from solidarity.escalation import checkins

    org = make.org()
    admin = make.admin_of(org)
    checkins.request_checkins(session, admin, interval_hours=1, now=utcnow())
    before = value("solidarity_checkin_alarms_total")
    tick(session, now=utcnow() + timedelta(hours=1, seconds=1))  # the reminder
    tick(session, now=utcnow() + timedelta(hours=3))  # the grace period has passed: the alarm
    assert value("solidarity_checkin_alarms_total") == before + 1


def test_login_failures_count(client, make):
    from tests.conftest import csrf_token

    user = make.admin_of(make.org())
    before = value("solidarity_login_failures_total", step="password")
    client.post("/login", data={"email": user.email, "password": "not the password",
                                "csrf_token": csrf_token(client, "/login")})
    assert value("solidarity_login_failures_total", step="password") == before + 1


def test_rate_limit_refusals_count_by_route(app_config):
    from tests.conftest import csrf_token

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "1 per minute"})
    try:
        client = limited.test_client()
        before = value("solidarity_rate_limit_refusals_total", limit="auth.login")
        codes = [client.post("/login", data={"email": "a@b.example", "password": "x",
                                             "csrf_token": csrf_token(client, "/login")}).status_code
                 for _ in range(2)]
        assert codes[-1] == 429
        assert value("solidarity_rate_limit_refusals_total", limit="auth.login") == before + 1
    finally:
        limiter.reset()
        limiter.enabled = False


def test_webhook_refusals_count_by_source(scrape, client):
    key = ("solidarity_webhook_signature_refusals_total", (("source", "twilio"),))
    before = scrape()[key]
    forged = client.post("/webhooks/twilio/sms", data={"From": "+254700000001", "Body": "RAID"},
                         headers={"X-Twilio-Signature": "forged"})
    assert forged.status_code == 403
    assert scrape()[key] == before + 1


def test_a_process_port_serves_its_metrics_without_the_web_app(app):
    server, thread = metrics.serve(0, "127.0.0.1", outbox_collector(app))
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
        assert "solidarity_outbox_queued" in body and "solidarity_sends_total" in body
    finally:
        server.shutdown()
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_no_metrics_port_by_default(app):
    assert app.config["WORKER_METRICS_PORT"] == 0 and app.config["SCHEDULER_METRICS_PORT"] == 0
    assert app.config["METRICS_TOKEN"] is None


WEB_PROCESS = """
import sys
from solidarity import create_app
app = create_app({"ENV": "testing", "DATABASE_URL": sys.argv[1], "INSTANCE_PATH": sys.argv[2],
                  "METRICS_TOKEN": sys.argv[3]})
client = app.test_client()
for _ in range(int(sys.argv[4])):
    assert client.get("/login").status_code == 200
if sys.argv[5] == "scrape":
    sys.stdout.write(client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[3]}).get_data(as_text=True))
"""


def test_gunicorn_workers_add_up_in_multiprocess_mode(app, app_config, tmp_path):
    """Two web processes sharing PROMETHEUS_MULTIPROC_DIR (as deploy/ sets it): a scrape answered
    by either one counts the requests both served."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SOLIDARITY_")},
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(root)}

    def web(requests: int, then: str) -> str:
        done = subprocess.run([sys.executable, "-c", WEB_PROCESS, app_config["DATABASE_URL"],
                               app_config["INSTANCE_PATH"], TOKEN, str(requests), then],
                              env=env, cwd=root, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    web(2, "exit")
    body = web(3, "scrape")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(body) for s in family.samples}
    assert samples[("solidarity_http_requests_total",
                    (("endpoint", "auth.login"), ("method", "GET"), ("status", "200")))] == 5
    assert ("solidarity_outbox_queued", (("channel", "email"),)) in samples  # the scrape-time collector too
