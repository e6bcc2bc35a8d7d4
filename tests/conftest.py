"""Shared fixtures: one app and one database per test process, emptied between tests.

Set SOLIDARITY_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run the
whole suite on PostgreSQL; each xdist worker then gets a database of its own.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone

import pytest
from flask import g, request_started
from sqlalchemy import text
from sqlalchemy.engine import make_url

from solidarity import create_app
from solidarity.extensions import db
from tests.databases import recreate_postgres

pytest_plugins = ["tests.factories"]


def _database_url(tmp_path_factory, worker: str) -> str:
    base = os.environ.get("SOLIDARITY_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = make_url(base)
    name = f"{url.database}_{worker}" if worker != "master" else f"{url.database}_main"
    return recreate_postgres(url.set(database=name))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    return _database_url(tmp_path_factory, worker_id)


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def app_config(database_url, tmp_path_factory):
    return {"ENV": "testing", "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))}


@pytest.fixture(scope="session")
def _app(app_config):
    app = create_app(app_config)
    request_started.connect(_fresh_globals, app)
    with app.app_context():
        db.create_all()
    return app


def _fresh_globals(sender, **_extra) -> None:
    # Requests made while a test holds an app context reuse that context, and with it `g`, where
    # flask-login and the API cache the signed-in user. Production gives every request a fresh one.
    for name in list(g):
        delattr(g, name)


@pytest.fixture
def app(_app):
    with _app.app_context():
        yield _app
        db.session.remove()
        _empty_tables()


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # Foreign keys declared with use_alter (incidents -> play_versions, organisations -> users)
            # are missing from sorted_tables' order; check them once, at commit, when all is empty.
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def now():
    return datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)
