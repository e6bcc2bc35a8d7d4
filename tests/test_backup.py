"""`backup create` while the worker is in the middle of a send, then `backup restore` into a fresh
instance: every encrypted field reads back the same with the keys and not at all without them, and
the backup holds neither the keys nor any plaintext. On SQLite and (with pg_dump) PostgreSQL."""
from __future__ import annotations

import shutil
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from solidarity import create_app
from solidarity.clock import utcnow
from solidarity.crypto import generate_master_key, generate_secret
from solidarity.errors import DecryptionError
from solidarity.extensions import db
from solidarity.fields import Encrypted
from solidarity.members import service as members
from solidarity.notify import dispatcher
from solidarity.notify.channels import Receipt
from solidarity.notify.models import Channel, Delivery, Notification
from tests.databases import recreate_postgres
from tests.rawdb import leaks

SUMMARY = "CanaryBackupSummary: the archive moved to the basement 7731"
DETAILS = "CanaryBackupDetails: Halima Yusuf holds the second key"


def encrypted_values() -> dict[tuple[str, str, str], str]:
    """Every encrypted field of every row in the current app's database, decrypted."""
    values = {}
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        fields = [name for name, attr in vars(model).items() if isinstance(attr, Encrypted)]
        if not fields:
            continue
        for row in db.session.scalars(select(model)):
            for name in fields:
                if getattr(row, f"{name}_ct") is not None:
                    values[(model.__tablename__, str(row.id), name)] = getattr(row, name)
    return values


class BlockingSender:
    """Holds the first send until told to finish it: the backup runs while a row is in hand."""

    def __init__(self):
        self.in_send, self.finish = threading.Event(), threading.Event()

    def send(self, message):
        self.in_send.set()
        assert self.finish.wait(timeout=30), "the test never let the send finish"
        return Receipt(provider_id="backup-test")


@pytest.fixture
def fresh_url(database_url, tmp_path):
    """An empty database for the restored instance, of the same kind as the suite's."""
    if database_url.startswith("postgresql"):
        if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
            pytest.skip("pg_dump and pg_restore are not on PATH")
        url = make_url(database_url)
        return recreate_postgres(url.set(database=f"{url.database}_restored"))
    return f"sqlite:///{tmp_path / 'fresh' / 'solidarity.db'}"


def test_backup_while_sending_then_restore_reads_with_the_keys_only(app, app_config, session, make, tmp_path,
                                                                     fresh_url):
    for name in ("Responder 1", "Responder 2"):
        make.offer(make.org(name, country="KE"), "legal")
    reporter = make.admin_of(make.org("Reporter", country="KE"))
    make.incident(reporter, summary=SUMMARY, details=DETAILS, disclosure=["summary", "details"])
    before = encrypted_values()
    email, reporter_id = reporter.email, reporter.id
    assert (SUMMARY in before.values()) and any(key[0] == "users" for key in before)
    session.commit()

    sender = BlockingSender()

    def work():
        with app.app_context():
            try:
                dispatcher.run_once(db.session, now=utcnow(), channels={c: sender for c in Channel})
            finally:
                db.session.remove()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert sender.in_send.wait(timeout=30), "the worker never started a send"
        path = tmp_path / "solidarity.backup"
        created = app.test_cli_runner().invoke(args=["backup", "create", str(path)])
    finally:
        sender.finish.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    assert created.exit_code == 0, created.output
    assert "holds no keys" in created.output
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only

    # The file holds no key and no plaintext.
    raw = path.read_bytes()
    secrets = [app.config["SECRET_KEY"], app.config["BLIND_INDEX_KEY"],
               *(item.split(":", 1)[1] for item in app.config["ENCRYPTION_KEYS"].split(","))]
    assert leaks(raw, [*secrets, SUMMARY, DETAILS, "Halima Yusuf", email]) == []

    # A fresh instance with the same keys reads every record back.
    instance = tmp_path / "fresh-instance"
    restored = create_app({**app_config, "DATABASE_URL": fresh_url, "INSTANCE_PATH": str(instance)})
    with restored.app_context():  # the command runs in the app context it finds (the test's holds one)
        done = restored.test_cli_runner().invoke(args=["backup", "restore", str(path)])
        assert done.exit_code == 0, done.output
        try:
            assert encrypted_values() == before
            assert members.find_user_by_email(db.session, email).id == reporter_id  # blind index too
            # The snapshot was taken mid-send: the row in hand is "sending" (recovered as ambiguous
            # by the next worker, never resent on its channel), the rest of the batch still queued.
            assert db.session.scalar(select(func.count()).select_from(Notification)
                                     .where(Notification.status == Delivery.sending)) == 1
        finally:
            db.session.remove()

    # Without the keys (a thief with the backup), nothing encrypted opens.
    thief = create_app({**app_config, "DATABASE_URL": fresh_url, "INSTANCE_PATH": str(instance),
                        "ENCRYPTION_KEYS": generate_master_key(), "BLIND_INDEX_KEY": generate_secret()})
    with thief.app_context():
        try:
            for table, row_id, name in before:
                model = next(m.class_ for m in db.Model.registry.mappers if m.class_.__tablename__ == table)
                row = db.session.get(model, uuid.UUID(row_id))
                with pytest.raises(DecryptionError):
                    getattr(row, name)
            assert members.find_user_by_email(db.session, email) is None
        finally:
            db.session.remove()
            db.engine.dispose()
    with restored.app_context():
        db.engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(app, tmp_path):
    path = tmp_path / "one.backup"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(path)]).exit_code == 0
    refused = runner.invoke(args=["backup", "restore", str(path)])
    assert refused.exit_code == 1
    assert "is not empty" in refused.output and "--replace" in refused.output


def test_create_never_overwrites_and_restore_needs_a_backup_file(app, tmp_path):
    runner = app.test_cli_runner()
    existing = tmp_path / "taken"
    existing.write_text("something else")
    result = runner.invoke(args=["backup", "create", str(existing)])
    assert result.exit_code == 1 and "exists" in result.output
    assert existing.read_text() == "something else"
    missing = runner.invoke(args=["backup", "restore", str(Path(tmp_path) / "nope")])
    assert missing.exit_code == 1 and "no such backup file" in missing.output
    wrong = runner.invoke(args=["backup", "restore", "--replace", str(existing)])
    assert wrong.exit_code == 1 and "is not" in wrong.output
