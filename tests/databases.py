"""Throwaway PostgreSQL databases for the suite's workers, the migration test and the benchmarks."""
from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url


def recreate_postgres(url: str | URL) -> str:
    """Drop (ending its connections) and create the database named in `url`; return the URL as text."""
    url = make_url(url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)
