"""Migrations are code: they run from empty on both engines, match the models, and go back down."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from solidarity import ROOT, create_app
from solidarity.extensions import db
from tests.databases import recreate_postgres


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_migrations"
    yield recreate_postgres(url.set(database=name))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_matches_models_and_downgrades(empty_database_url, tmp_path):
    app = create_app({"ENV": "testing", "DATABASE_URL": empty_database_url, "INSTANCE_PATH": str(tmp_path)})
    directory = str(ROOT / "migrations")
    with app.app_context():
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(directory=directory, revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()
