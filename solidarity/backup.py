"""`flask --app wsgi backup create|restore PATH`: the database, consistent while the service runs.

What a backup holds: the database only. Sensitive fields in it are ciphertext under data keys
that are themselves wrapped by the master keys, and the master keys, the blind-index key and
SECRET_KEY live in the configuration (environment or instance/solidarity.cfg), never in the
database, so they are never in a backup. A stolen backup without the keys is unreadable; a backup
restored without the keys is lost. Keep the keys elsewhere (README "Backups").

SQLite: SQLite's online backup API copies a consistent snapshot page by page while the web app,
the worker and the scheduler keep writing (WAL: readers and writers do not block each other).
PostgreSQL: pg_dump's custom format (one consistent snapshot, restored with pg_restore); both
must be on PATH, of the server's major version or newer.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """Something the operator must fix; the message says what."""


def create(database_url: str | URL, path: str | Path) -> Path:
    """Write a backup of the database to `path` (mode 0600; never over an existing file)."""
    url, target = make_url(database_url), Path(path)
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name (a backup never overwrites one)")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_file(url), partial)
        elif url.get_backend_name() == "postgresql":
            _run(_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                 _libpq(url), url=url)
        else:
            raise BackupError(f"no backup method for {url.get_backend_name()} databases")
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(database_url: str | URL, path: str | Path, *, replace: bool = False) -> None:
    """Load the backup at `path` into the configured database, which must be empty unless `replace`.
    Stop the web app, the worker and the scheduler first."""
    url, source = make_url(database_url), Path(path)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    magic = source.read_bytes()[:16]
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not magic.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not an SQLite backup (a PostgreSQL dump goes into PostgreSQL)")
        target = _sqlite_file(url)
        if not replace and _sqlite_has_tables(target):
            raise BackupError(f"the database {target} is not empty; restore into a fresh one, or pass --replace "
                              "to overwrite it")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
    elif backend == "postgresql":
        if not magic.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a pg_dump custom-format file (an SQLite backup goes into SQLite)")
        if not replace and _postgres_has_tables(url):
            raise BackupError(f"the database {url.database} is not empty; restore into a fresh one, or pass "
                              "--replace to drop and recreate what the backup holds")
        _run(_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             *(["--clean", "--if-exists"] if replace else []), f"--dbname={_libpq(url)}", str(source), url=url)
    else:
        raise BackupError(f"no restore method for {backend} databases")


# -- SQLite ------------------------------------------------------------------------------------------

def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)  # one step: a consistent snapshot even while other connections write
    finally:
        dst.close()
        src.close()


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists():
        return False
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    finally:
        conn.close()


# -- PostgreSQL --------------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not on PATH; install the PostgreSQL client tools of your server's "
                          "version (Debian: postgresql-client), or run it by hand (README \"Backups\")")
    return found


def _libpq(url: URL) -> str:
    """The URL as libpq takes it: no SQLAlchemy driver name, no password (that goes in PGPASSWORD,
    where `ps` does not show it)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(*args: str, url: URL) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # An argument list, no shell: the database URL from our own configuration cannot inject a command.
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.returncode}")


def _postgres_has_tables(url: URL) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                          "WHERE table_schema = current_schema()")).scalar())
    finally:
        engine.dispose()
