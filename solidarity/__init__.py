"""Solidarity: member organisations standing by each other when one of them comes under attack."""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from solidarity.crypto import (
    KeyConfigError,
    Keyring,
    decode_key,
    generate_master_key,
    generate_secret,
    parse_master_keys,
)
from solidarity.extensions import compress, csrf, db, limiter, login_manager, migrate
from solidarity.redact import install as install_log_redaction

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("SECRET_KEY", "ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
INSTANCE_FILE = "solidarity.cfg"


class ConfigError(RuntimeError):
    """Configuration that must be fixed before the service can start."""


def load_settings(config: Mapping[str, Any] | None = None) -> Flask:
    """A bare app with every setting loaded (defaults, environment file, instance file, environment)
    and nothing checked or started: what create_app builds on, and what `check` and `keys generate`
    run in when the configuration is not complete yet."""
    config = dict(config or {})
    env = config.pop("ENV", None) or os.environ.get("SOLIDARITY_ENV", "development")
    if env not in ("development", "testing", "production"):
        raise ConfigError(f"SOLIDARITY_ENV must be development, testing or production, not {env!r}")
    instance = config.pop("INSTANCE_PATH", None) or os.environ.get("SOLIDARITY_INSTANCE_PATH") or ROOT / "instance"
    app = Flask(__name__, instance_path=str(Path(instance).resolve()), instance_relative_config=True,
                template_folder="web/templates", static_folder="web/static")
    app.config.from_pyfile(str(ROOT / "config" / "default.py"))
    app.config.from_pyfile(str(ROOT / "config" / f"{env}.py"))
    app.config.from_pyfile(INSTANCE_FILE, silent=True)
    app.config.from_prefixed_env("SOLIDARITY")
    app.config.update(config)
    app.config["SOLIDARITY_ENV"] = env
    install_log_redaction()  # before anything can log a phone number, token or email
    return app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, keyring, extensions, blueprints and commands. No network I/O."""
    app = load_settings(config)
    _load_secrets(app)
    _configure_database(app)
    app.config["HELP_TYPES"] = list(dict.fromkeys([*app.config["HELP_TYPES"], *app.config["EXTRA_HELP_TYPES"]]))
    app.extensions["solidarity.keyring"] = Keyring(parse_master_keys(app.config["ENCRYPTION_KEYS"]),
                                                   decode_key(app.config["BLIND_INDEX_KEY"]))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)

    from solidarity import api, cli, health, http, models, web  # noqa: F401 - models registers every table
    from solidarity.notify import outbox

    # members sits below notify; the messages it must queue (a phone's code, a registration notice) go
    # through this, in the caller's transaction (members/phones.py).
    app.extensions["solidarity.outbox"] = outbox.send_one
    # The incidents service sits below escalation; a case resolved, closed or withdrawn stops its check-ins.
    from solidarity.escalation import checkins
    app.extensions["solidarity.hooks.incident_ended"] = [checkins.stop_for_incident]
    http.init_app(app)
    health.init_app(app)
    web.init_app(app)
    api.init_app(app)
    # After the API's bearer check, so a caller without a token learns nothing of an operation's input.
    app.before_request(http.refuse_hostile_input)
    cli.init_app(app)
    return app


def _load_secrets(app: Flask) -> None:
    missing = [name for name in SECRETS if not app.config.get(name)]
    if missing and app.config.get("GENERATE_MISSING_SECRETS"):
        _generate_secrets(app, missing)
        missing = []
    if missing:
        names = ", ".join(f"SOLIDARITY_{name}" for name in missing)
        raise ConfigError(f"missing secret(s): {names}. Set them in the environment or in "
                          f"{Path(app.instance_path) / INSTANCE_FILE}; `flask --app wsgi keys generate` makes keys.")
    try:
        parse_master_keys(app.config["ENCRYPTION_KEYS"])
        decode_key(app.config["BLIND_INDEX_KEY"])
    except KeyConfigError as exc:
        raise ConfigError(f"SOLIDARITY_ENCRYPTION_KEYS / SOLIDARITY_BLIND_INDEX_KEY: {exc}") from exc


def _generate_secrets(app: Flask, missing: list[str]) -> None:
    """Development only: create missing keys once and keep them in the instance file (mode 0600)."""
    fresh = {"SECRET_KEY": generate_secret(), "ENCRYPTION_KEYS": generate_master_key(),
             "BLIND_INDEX_KEY": generate_secret()}
    path = Path(app.instance_path) / INSTANCE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as out:
        out.write("# Generated on first run for development. Keep this file out of version control.\n")
        for name in missing:
            out.write(f"{name} = {fresh[name]!r}\n")
            app.config[name] = fresh[name]


def database_url(app: Flask) -> str:
    """DATABASE_URL, or SQLite in the instance folder when it is empty."""
    return app.config.get("DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'solidarity.db'}"


def _configure_database(app: Flask) -> None:
    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # Zero what is deleted or overwritten instead of leaving it on free pages, whatever the build's
        # default: a name or token replaced (or a whole table rebuilt by a migration) stays gone.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def unconfigured_app() -> Flask:
    """What `flask --app wsgi` gets when the configuration stops create_app: only the commands that
    help to fix it (`keys generate`, `check`), after saying what is wrong."""
    from solidarity import cli

    app = load_settings()
    cli.init_unconfigured(app)
    return app
