"""Start-up configuration: secrets from the environment or the instance file, never invented in production."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from solidarity import INSTANCE_FILE, ConfigError, create_app
from solidarity.crypto import generate_master_key, generate_secret
from solidarity.extensions import db
from solidarity.offers.service import clean_help_type

SECRET_VARS = ("SOLIDARITY_SECRET_KEY", "SOLIDARITY_ENCRYPTION_KEYS", "SOLIDARITY_BLIND_INDEX_KEY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Only what a test sets: a developer's own SOLIDARITY_* variables must not decide the outcome."""
    for name in list(os.environ):
        if name.startswith("SOLIDARITY_"):
            monkeypatch.delenv(name)


def _secrets_in_env(monkeypatch) -> dict[str, str]:
    values = {"SOLIDARITY_SECRET_KEY": generate_secret(), "SOLIDARITY_ENCRYPTION_KEYS": generate_master_key(),
              "SOLIDARITY_BLIND_INDEX_KEY": generate_secret()}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_production_without_secrets_refuses_to_start_naming_the_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("SOLIDARITY_ENV", "production")
    with pytest.raises(ConfigError) as refused:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    message = str(refused.value)
    assert all(name in message for name in SECRET_VARS), message
    assert str(tmp_path / INSTANCE_FILE) in message
    assert not (tmp_path / INSTANCE_FILE).exists()  # nothing generated behind the operator's back


def test_production_names_only_the_missing_secret(monkeypatch, tmp_path):
    _secrets_in_env(monkeypatch)
    monkeypatch.delenv("SOLIDARITY_BLIND_INDEX_KEY")
    with pytest.raises(ConfigError, match="SOLIDARITY_BLIND_INDEX_KEY") as refused:
        create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert "SOLIDARITY_SECRET_KEY" not in str(refused.value)


@pytest.mark.parametrize("bad", ["no-kid-here", "k1:dG9vIHNob3J0", "k1:" + "A" * 43 + ",k1:" + "B" * 43])
def test_production_refuses_malformed_encryption_keys(monkeypatch, tmp_path, bad):
    _secrets_in_env(monkeypatch)
    monkeypatch.setenv("SOLIDARITY_ENCRYPTION_KEYS", bad)
    with pytest.raises(ConfigError, match="SOLIDARITY_ENCRYPTION_KEYS"):
        create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})


def test_production_starts_with_secrets_from_the_environment(monkeypatch, tmp_path):
    values = _secrets_in_env(monkeypatch)
    monkeypatch.setenv("SOLIDARITY_PUBLIC_URL", "https://solidarity.example")
    app = create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == values["SOLIDARITY_SECRET_KEY"]
    assert app.config["PUBLIC_URL"] == "https://solidarity.example"
    assert app.extensions["solidarity.keyring"].primary_kid == values["SOLIDARITY_ENCRYPTION_KEYS"].split(":")[0]
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert not (tmp_path / INSTANCE_FILE).exists()


def test_production_reads_secrets_from_the_instance_file(tmp_path):
    master = generate_master_key()
    (tmp_path / INSTANCE_FILE).write_text(f"SECRET_KEY = {generate_secret()!r}\nENCRYPTION_KEYS = {master!r}\n"
                                          f"BLIND_INDEX_KEY = {generate_secret()!r}\n")
    app = create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert app.extensions["solidarity.keyring"].primary_kid == master.split(":")[0]


def test_development_generates_missing_secrets_once_and_reuses_them(tmp_path):
    first = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    path = tmp_path / INSTANCE_FILE
    written = path.read_text()
    assert all(f"{name} = " in written for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "BLIND_INDEX_KEY"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    second = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    assert path.read_text() == written
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        assert second.config[name] == first.config[name]
    other = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path / "elsewhere")})
    assert other.config["ENCRYPTION_KEYS"] != first.config["ENCRYPTION_KEYS"]  # generated, not a constant


def test_development_keeps_secrets_given_in_the_environment(monkeypatch, tmp_path):
    values = _secrets_in_env(monkeypatch)
    monkeypatch.delenv("SOLIDARITY_SECRET_KEY")
    app = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    written = (tmp_path / INSTANCE_FILE).read_text()
    assert "SECRET_KEY = " in written and "ENCRYPTION_KEYS" not in written
    assert app.config["ENCRYPTION_KEYS"] == values["SOLIDARITY_ENCRYPTION_KEYS"]


def test_an_unknown_environment_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("SOLIDARITY_ENV", "staging")
    with pytest.raises(ConfigError, match="SOLIDARITY_ENV"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_the_database_url_comes_from_the_environment(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("SOLIDARITY_DATABASE_URL", database_url)
    app = create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        try:
            assert db.engine.url.render_as_string(hide_password=False) == database_url
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        finally:
            db.engine.dispose()
    assert not (tmp_path / "solidarity.db").exists()


def test_sqlite_by_default_in_the_instance_folder_with_wal_and_foreign_keys(tmp_path):
    app = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        try:
            assert db.engine.url.database == str(tmp_path / "solidarity.db")
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        finally:
            db.engine.dispose()


def test_help_types_are_extended_from_configuration(monkeypatch, tmp_path):
    monkeypatch.setenv("SOLIDARITY_EXTRA_HELP_TYPES", '["psychosocial", "legal"]')
    app = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["HELP_TYPES"] == ["legal", "communications", "diplomatic", "digital_security",
                                        "emergency_funds", "relocation", "psychosocial"]
    with app.app_context():
        assert clean_help_type("Psychosocial") == "psychosocial"
