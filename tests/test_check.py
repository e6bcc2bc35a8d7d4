"""`flask --app wsgi check`: one finding per misconfiguration, each a line saying how to fix it;
and the commands that help fix a production configuration work before it is complete."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from solidarity import create_app, preflight
from solidarity.crypto import generate_master_key, generate_secret
from solidarity.extensions import limiter

ROOT = Path(__file__).resolve().parent.parent
HEAD = ("0004_lockdown", "0004_lockdown")

GOOD = {
    "SOLIDARITY_ENV": "production", "SECRET_KEY": generate_secret(), "ENCRYPTION_KEYS": generate_master_key(),
    "BLIND_INDEX_KEY": generate_secret(), "SESSION_COOKIE_SECURE": True, "PUBLIC_URL": "https://solidarity.example.org",
    "PROXY_FIX_HOPS": 1, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "WEB_PROCESSES": 4,
    "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "a" * 32,
    "TWILIO_FROM": "+254700000001", "EMAIL_BACKEND": "smtp", "SMTP_HOST": "mail.example.org", "SMTP_PORT": 587,
    "SMTP_USERNAME": "alerts", "SMTP_PASSWORD": "secret", "SMTP_STARTTLS": True,
    "SMTP_FROM": "Solidarity <alerts@solidarity.example.org>", "METRICS_TOKEN": generate_secret(),
}


def test_a_sound_production_configuration_has_no_finding():
    assert preflight.findings(GOOD, {}, database=HEAD) == []


# (what is changed, level, setting named, words of the problem)
CASES = {
    "secret key missing": ({"SECRET_KEY": None}, "error", "SECRET_KEY", "is missing"),
    "encryption keys missing": ({"ENCRYPTION_KEYS": ""}, "error", "ENCRYPTION_KEYS", "is missing"),
    "blind index key missing": ({"BLIND_INDEX_KEY": None}, "error", "BLIND_INDEX_KEY", "is missing"),
    "secret key weak": ({"SECRET_KEY": "hunter2"}, "error", "SECRET_KEY", "only 7 characters"),
    "test secret reused": ({"SECRET_KEY": "test-secret-key-not-for-production"}, "error", "SECRET_KEY",
                           "published test value"),
    "test encryption key reused": ({"ENCRYPTION_KEYS": "ktest1:" + "A" * 42 + "Q="}, "error", "ENCRYPTION_KEYS",
                                   "published test value"),
    "encryption key malformed": ({"ENCRYPTION_KEYS": "k1:not-base64!"}, "error", "ENCRYPTION_KEYS", "key"),
    "blind index key malformed": ({"BLIND_INDEX_KEY": "c2hvcnQ="}, "error", "BLIND_INDEX_KEY", "32 bytes"),
    "insecure cookie": ({"SESSION_COOKIE_SECURE": False}, "error", "SESSION_COOKIE_SECURE", "plain http"),
    "public url http": ({"PUBLIC_URL": "http://solidarity.example.org"}, "error", "PUBLIC_URL", "not an https://"),
    "public url local": ({"PUBLIC_URL": "https://127.0.0.1"}, "error", "PUBLIC_URL", "nobody else can reach"),
    "proxy hops unset": ({"PROXY_FIX_HOPS": 0}, "warning", "PROXY_FIX_HOPS", "reverse proxy terminates TLS"),
    "proxy hops garbage": ({"PROXY_FIX_HOPS": "one"}, "error", "PROXY_FIX_HOPS", "not a whole number"),
    "memory limits, several processes": ({"RATELIMIT_STORAGE_URI": "memory://"}, "error", "RATELIMIT_STORAGE_URI",
                                         "4 web processes"),
    "rate limits off": ({"RATELIMIT_ENABLED": False}, "error", "RATELIMIT_ENABLED", "is off"),
    "twilio incomplete": ({"TWILIO_FROM": "", "TWILIO_ACCOUNT_SID": ""}, "error", "TWILIO_ACCOUNT_SID, TWILIO_FROM",
                          "no SMS can be sent"),
    "twilio sender malformed": ({"TWILIO_FROM": "0700 000 001"}, "error", "TWILIO_FROM", "neither an E.164"),
    "sms to a file": ({"SMS_BACKEND": "log"}, "warning", "SMS_BACKEND", "nobody receives"),
    "sms backend unknown": ({"SMS_BACKEND": "carrier-pigeon"}, "error", "SMS_BACKEND", "carrier-pigeon"),
    "email to a file": ({"EMAIL_BACKEND": "log"}, "warning", "EMAIL_BACKEND", "nobody receives"),
    "email backend unknown": ({"EMAIL_BACKEND": "sendmail"}, "error", "EMAIL_BACKEND", "sendmail"),
    "smtp host missing": ({"SMTP_HOST": ""}, "error", "SMTP_HOST", "is missing"),
    "smtp sender localhost": ({"SMTP_FROM": "Solidarity <alerts@localhost>"}, "error", "SMTP_FROM", "refuse"),
    "smtp login half set": ({"SMTP_PASSWORD": ""}, "error", "SMTP_USERNAME, SMTP_PASSWORD", "only one"),
    "smtp in clear": ({"SMTP_STARTTLS": False}, "warning", "SMTP_STARTTLS", "in clear"),
    "metrics token weak": ({"METRICS_TOKEN": "letmein"}, "error", "METRICS_TOKEN", "only 7 characters"),
    "not production": ({"SOLIDARITY_ENV": "development"}, "warning", "SOLIDARITY_ENV", "not the production one"),
}


@pytest.mark.parametrize("change, level, setting, words", CASES.values(), ids=CASES.keys())
def test_each_misconfiguration_is_one_clear_line(change, level, setting, words):
    found = preflight.findings({**GOOD, **change}, {}, database=HEAD)
    assert [(f.level, f.setting) for f in found] == [(level, setting)], found
    line = found[0].line()
    assert line.startswith(f"{level}: {setting}: ") and words in line and ". Fix: " in line


def test_gunicorn_web_concurrency_counts_as_several_processes():
    config = {**GOOD, "WEB_PROCESSES": 1, "RATELIMIT_STORAGE_URI": "memory://"}
    assert preflight.findings(config, {}, database=HEAD) == []
    found = preflight.findings(config, {"WEB_CONCURRENCY": "3"}, database=HEAD)
    assert [f.setting for f in found] == ["RATELIMIT_STORAGE_URI"] and "3 web processes" in found[0].line()


def test_a_database_behind_the_code_or_unreachable_is_an_error():
    behind = preflight.findings(GOOD, {}, database=("0003_old", "0004_lockdown"))
    assert [f.setting for f in behind] == ["DATABASE_URL"] and "db upgrade" in behind[0].line()
    down = preflight.findings(GOOD, {}, database=ConnectionRefusedError("connection refused"))
    assert [f.setting for f in down] == ["DATABASE_URL"] and "connection refused" in down[0].line()


def _production(tmp_path, **settings) -> dict:
    # RATELIMIT_ENABLED: Flask-Limiter's one limiter keeps the test app's "off" as its default.
    return {**{k: v for k, v in GOOD.items() if k != "SOLIDARITY_ENV"}, "ENV": "production", "RATELIMIT_ENABLED": True,
            "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": f"sqlite:///{tmp_path / 'check.db'}",
            **settings}


@pytest.fixture
def limiter_off_after():
    yield
    limiter.enabled = False  # what config/testing.py wants for the rest of the suite


@pytest.mark.usefixtures("limiter_off_after")
def test_the_command_exits_1_on_errors_and_0_when_only_warnings_remain(app, tmp_path):
    sound = create_app(_production(tmp_path))
    with sound.app_context():
        runner = sound.test_cli_runner()
        before = runner.invoke(args=["check"])
        assert before.exit_code == 1
        assert "error: DATABASE_URL: the database is at migration (none), this version needs" in before.output
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        after = runner.invoke(args=["check"])
        assert after.exit_code == 0, after.output
        assert "configuration ok" in after.output
    weak = create_app(_production(tmp_path, PUBLIC_URL="http://solidarity.example.org"))
    with weak.app_context():
        result = weak.test_cli_runner().invoke(args=["check", "--skip-database"])
    assert result.exit_code == 1
    assert "error: PUBLIC_URL:" in result.output and "1 error(s)" in result.output


def _flask(tmp_path, *args: str, module: str = "flask") -> subprocess.CompletedProcess:
    """Run a command as an operator would, in production with nothing configured yet."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOLIDARITY_")}
    env.update(SOLIDARITY_ENV="production", SOLIDARITY_INSTANCE_PATH=str(tmp_path / "empty"),
               PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", module, "--app", "wsgi", *args] if module == "flask" else [sys.executable, *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_keys_generate_works_before_production_is_configured(tmp_path):
    master = _flask(tmp_path, "keys", "generate")
    assert master.returncode == 0, master.stderr
    assert re.fullmatch(r"k\d{8}[0-9a-f]{6}:[A-Za-z0-9_-]{43}=\n", master.stdout)
    index = _flask(tmp_path, "keys", "generate", "--blind-index")
    assert index.returncode == 0 and re.fullmatch(r"[A-Za-z0-9_-]{43}=\n", index.stdout)


def test_check_works_before_production_is_configured(tmp_path):
    result = _flask(tmp_path, "check", "--skip-database")
    assert result.returncode == 1
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        assert f"error: {name}: is missing. Fix: set SOLIDARITY_{name}" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_server_started_without_secrets_says_so_in_one_line(tmp_path):
    result = _flask(tmp_path, "-c", "import wsgi", module="python")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: missing secret(s): SOLIDARITY_SECRET_KEY, SOLIDARITY_ENCRYPTION_KEYS")
