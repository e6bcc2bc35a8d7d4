"""Operator commands: `flask --app wsgi keys|users|tokens|audit|demo|serve` (and `db` from Flask-Migrate)."""
from __future__ import annotations

import html
import logging
import os
import re
import signal
import sys
import threading
import uuid
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from solidarity import audit, backup, demo, logs, metrics
from solidarity.clock import utcnow
from solidarity.crypto import generate_master_key, generate_secret
from solidarity.errors import DecryptionError, DomainError
from solidarity.extensions import db
from solidarity.fields import DataKey
from solidarity.members import auth, service, twofactor
from solidarity.members.models import Vetting
from solidarity.notify import recovery
from solidarity.notify.channels import twilio_sms
from solidarity.playbook import service as playbook_service

keys = AppGroup("keys", help="Master keys: generate, rotate.")
users = AppGroup("users", help="Accounts.")
sms = AppGroup("sms", help="Try the SMS journey without Twilio (development and testing only).")
tokens = AppGroup("tokens", help="API tokens.")
playbook = AppGroup("playbook", help="The playbook of plays.")
audit_trail = AppGroup("audit", help="The hash-chained audit trail.")
backups = AppGroup("backup", help="Back the database up and restore it (never the keys).")


def _fail(exc: DomainError) -> None:
    for error in exc.errors:
        click.echo(f"error: {error.field}: {error.message}" if error.field else f"error: {error.message}", err=True)
    sys.exit(2)


@keys.command("generate")
@click.option("--blind-index", is_flag=True, help="Print a blind-index key instead of a master key.")
def keys_generate(blind_index: bool) -> None:
    """Print a new key. Prepend a master key to SOLIDARITY_ENCRYPTION_KEYS, then run `keys rotate`."""
    click.echo(generate_secret() if blind_index else generate_master_key())


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key under the newest master key. Values are not re-encrypted."""
    session = db.session
    rewrapped = kept = destroyed = 0
    unreadable: dict[str, int] = {}  # by master key id: a key that was retired before this rotation
    for data_key in session.scalars(select(DataKey)).yield_per(500):
        if data_key.wrapped is None:
            destroyed += 1
            continue
        try:
            changed = data_key.rewrap()
        except DecryptionError:
            unreadable[data_key.master_kid] = unreadable.get(data_key.master_kid, 0) + 1
            continue
        if changed:
            rewrapped += 1
        else:
            kept += 1
    primary = current_app.extensions["solidarity.keyring"].primary_kid
    audit.record(session, "cli", "keys.rotated", at=utcnow(), primary=primary, rewrapped=rewrapped,
                 unreadable=sum(unreadable.values()))
    session.commit()
    click.echo(f"rewrapped {rewrapped}, already current {kept}, destroyed {destroyed}; wrapping key {primary}")
    if unreadable:
        for kid, count in sorted(unreadable.items()):
            click.echo(f"error: {count} data key(s) wrapped by {kid!r} could not be opened; "
                       "put that master key back in SOLIDARITY_ENCRYPTION_KEYS and rotate again", err=True)
        sys.exit(1)


@keys.command("status")
def keys_status() -> None:
    """Count data keys by the master key that wraps them."""
    rows = db.session.execute(select(DataKey.master_kid, func.count()).group_by(DataKey.master_kid)).all()
    for kid, count in rows:
        click.echo(f"{kid or '(destroyed)'}\t{count}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("create-coordinator")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_coordinator(email: str, name: str, password_stdin: bool) -> None:
    try:
        user = service.create_coordinator(db.session, email=email, name=name,
                                          password=_read_password(password_stdin), now=utcnow())
    except DomainError as exc:
        _fail(exc)
    click.echo(f"coordinator {user.id} created")


@users.command("reset-two-factor")
@click.argument("email")
def reset_two_factor(email: str) -> None:
    """Turn a person's two-factor sign-in off (a lost phone and no recovery codes) and end their
    sessions; they set it up again after signing in. Audited."""
    try:
        ended = twofactor.reset_for_email(db.session, "cli", email, now=utcnow())
    except DomainError as exc:
        _fail(exc)
    click.echo(f"two-factor sign-in reset; {ended} session(s) ended")


@users.command("reset-password")
@click.argument("email")
def reset_password(email: str) -> None:
    """Print a one-time link with which the person chooses a new password (for someone who cannot
    receive the email). Safer than setting a password here: the operator never knows the password, and
    the link dies once used, after PASSWORD_RESET_MAX_AGE_SECONDS, or when the password changes.
    Using it ends every session and token of the account; two-factor stays on. Audited."""
    try:
        url = recovery.issue_url(db.session, "cli", email, now=utcnow())
    except DomainError as exc:
        _fail(exc)
    click.echo(url)
    click.echo("Give this link to the person by a channel you trust. It works once.", err=True)


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="A label to recognise the token by.")
def create_token(email: str, name: str) -> None:
    """Issue an API token; it is printed once, alone on the last line."""
    try:
        token = auth.create_token_for_email(db.session, email, name=name, now=utcnow())
    except DomainError as exc:
        _fail(exc)
    click.echo("Store this token now; it cannot be shown again:")
    click.echo(token)


@tokens.command("revoke")
@click.argument("email")
@click.option("--name", default=None, help="Revoke only the tokens with this label.")
def revoke_tokens(email: str, name: str | None) -> None:
    """Revoke a person's API tokens at once (all of them unless --name is given)."""
    try:
        count = auth.revoke_tokens_for_email(db.session, "cli", email, name=name, now=utcnow())
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{count} token(s) revoked")


@playbook.command("load")
def playbook_load() -> None:
    """Load the initial playbook as published version 1 of each play; plays already there are skipped."""
    created = playbook_service.load_initial_playbook(db.session, now=utcnow())
    for version in created:
        click.echo(f"published {version.play.slug} v{version.number}")
    click.echo(f"{len(created)} play(s) loaded")


@audit_trail.command("verify")
def audit_verify() -> None:
    """Check every link of the audit chain; name the first broken one and exit 1 if there is one."""
    broken = audit.verify_chain(db.session)
    if broken is not None:
        click.echo(f"error: the audit chain is broken at event {broken.id} ({broken.action}, "
                   f"{broken.at.isoformat()}): it, or the event before it, was edited, inserted or deleted",
                   err=True)
        sys.exit(1)
    newest = audit.head(db.session)
    if newest is None:
        click.echo("the audit trail is empty")
        return
    click.echo(f"audit chain intact: {newest.id} event(s); newest hash {newest.hash} "
               "(note it elsewhere: a later deletion of the newest events shows against it)")


logger = logging.getLogger("solidarity.cli")


def _stop_on_signals(stop: threading.Event, grace: float, *, interrupt: bool = False) -> None:
    """SIGINT and SIGTERM set `stop`; the process then has `grace` seconds to finish, or it leaves anyway.

    Installed explicitly, SIGINT included: a process started with SIGINT ignored (by a pytest-xdist
    worker, nohup, some supervisors) inherits SIG_IGN and would never get Python's KeyboardInterrupt.
    The watchdog bounds the stop whatever is running: a provider call can take TWILIO_TIMEOUT, a job
    its whole transaction. Leaving mid-send is one of the failures the delivery guarantees already
    cover (the row stays "sending" and is recovered as ambiguous when its lease runs out); leaving
    mid-job rolls the job's transaction back. A second signal leaves at once. With `interrupt`, the
    handler also raises KeyboardInterrupt in the main thread (the development server's loop).
    """
    def leave(code: int, why: str) -> None:
        logger.warning("%s; leaving now (an unfinished send is recovered when its lease runs out)", why)
        logging.shutdown()
        os._exit(code)

    def on_signal(signum: int, _frame) -> None:
        if stop.is_set():
            leave(1, f"second {signal.Signals(signum).name}")
        stop.set()
        logger.info("%s received: stopping (at most %ss)", signal.Signals(signum).name, grace)
        watchdog = threading.Timer(grace, leave, args=(1, f"not stopped within {grace}s"))
        watchdog.daemon = True
        watchdog.start()
        if interrupt:
            raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)


def _grace(app: Flask) -> float:
    return float(app.config["SHUTDOWN_GRACE_SECONDS"])


def _log_to_stderr() -> None:
    """What the long-running commands print, in LOG_FORMAT (text or json)."""
    logs.configure(current_app.config["LOG_FORMAT"], current_app.config["LOG_LEVEL"])


def _serve_metrics(setting: str, *collectors) -> None:
    """Expose this process's metrics on the port in `setting`, if one is set (off by default)."""
    port = int(current_app.config.get(setting) or 0)
    if port:
        address = current_app.config["METRICS_ADDRESS"]
        metrics.serve(port, address, *collectors)
        logging.getLogger("solidarity.metrics").info("metrics on http://%s:%d/metrics", address, port)


@click.command("worker")
@click.option("--once", is_flag=True, help="Dispatch one batch (after recovering stuck rows) and exit.")
@click.option("--poll", type=float, default=None,
              help="Seconds to wait when nothing is due (default: SOLIDARITY_NOTIFY_POLL_INTERVAL).")
def worker(once: bool, poll: float | None) -> None:
    """Send queued notifications until SIGTERM or Ctrl-C; the row in hand is finished first (within
    SHUTDOWN_GRACE_SECONDS, or it is left to its lease)."""
    from solidarity.notify import dispatcher
    from solidarity.notify.channels import build_senders
    from solidarity.web.metrics import outbox_collector

    app = current_app._get_current_object()
    _log_to_stderr()
    senders = build_senders(app.config, app.instance_path)
    if once:
        counts = dispatcher.run_once(db.session, now=utcnow(), channels=senders)
        click.echo(" ".join(f"{key}={value}" for key, value in sorted(counts.items())))
        return
    _serve_metrics("WORKER_METRICS_PORT", outbox_collector(app))
    stop = threading.Event()
    _stop_on_signals(stop, _grace(app))
    dispatcher.run(app, stop, poll, senders=senders)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run the tick, the directory check and retention once, then exit.")
def scheduler_command(once: bool) -> None:
    """Run escalation (tick every ESCALATION_TICK_SECONDS), directory freshness and retention until
    SIGTERM or Ctrl-C. The first tick catches up with whatever fell due while it was stopped."""
    from solidarity import scheduler

    app = current_app._get_current_object()
    _log_to_stderr()
    if once:
        for name, job in scheduler.JOBS.items():
            click.echo(f"{name}: {scheduler.run_job(app, name, job)}")
        return
    _serve_metrics("SCHEDULER_METRICS_PORT")
    stop = threading.Event()
    _stop_on_signals(stop, _grace(app))
    scheduler.run(app, stop)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the whole service in one process for one machine or a trial: web pages and API, the
    notification worker and the scheduler. Production runs them as separate processes (README).
    Stops within SHUTDOWN_GRACE_SECONDS of Ctrl-C or SIGTERM."""
    from werkzeug.serving import run_simple

    from solidarity import scheduler
    from solidarity.notify import dispatcher

    app = current_app._get_current_object()
    if app.config["SOLIDARITY_ENV"] == "production":
        click.echo("error: `serve` uses Werkzeug's development server; in production run "
                   "`gunicorn wsgi:app`, `flask --app wsgi worker` and `flask --app wsgi scheduler`", err=True)
        sys.exit(2)
    _log_to_stderr()
    stop = threading.Event()
    _stop_on_signals(stop, _grace(app), interrupt=True)  # the interrupt ends run_simple's loop
    # Daemon threads: whatever they are doing, the watchdog's exit is not held up by them.
    threads = [threading.Thread(target=dispatcher.run, args=(app, stop), name="notify-worker", daemon=True),
               threading.Thread(target=scheduler.run, args=(app, stop), name="scheduler", daemon=True)]
    try:
        for thread in threads:
            thread.start()
        run_simple(host, port, app, threaded=True)
    except KeyboardInterrupt:
        pass  # a signal before the server's loop began
    finally:
        stop.set()
        for thread in threads:  # the row or job in hand finishes, or the watchdog ends the process
            if thread.is_alive():
                thread.join()
        logger.info("stopped")


@click.command("demo")
def demo_command() -> None:
    """Load a fictional network (organisations, people, offers, the first playbook) into an empty
    database, to try the service. Does nothing if anyone is registered already; never in production."""
    if current_app.config["SOLIDARITY_ENV"] == "production":
        click.echo("error: demo data has published passwords; it is not loaded in production", err=True)
        sys.exit(2)
    loaded = demo.load(db.session, now=utcnow())
    if loaded is None:
        click.echo("The database already holds organisations or people; demo data goes only into an empty "
                   "database. Nothing was changed.")
        return
    statuses = ", ".join(f"{loaded.organisations[status]} {status.value}" for status in Vetting
                         if loaded.organisations[status])
    click.echo(f"Loaded {loaded.organisations.total()} organisations ({statuses}), {loaded.people} people, "
               f"{loaded.offers.total()} offers of {len(loaded.offers)} help types, {loaded.plays} plays.")
    click.echo("Demo accounts: for trying the service only, everything in them is fictional:")
    click.echo(f"  coordinator   {demo.COORDINATOR_EMAIL}  password {demo.COORDINATOR_PASSWORD}")
    click.echo(f"  member admin  {demo.MEMBER_EMAIL}  password {demo.MEMBER_PASSWORD}  ({loaded.demo_org})")
    for name, email, _ in loaded.accounts[1:]:
        click.echo(f"  responder     {email}  password {demo.RESPONDER_PASSWORD}  ({name})")
    click.echo("Their phones, to try SMS with `flask --app wsgi sms receive --from NUMBER \"TEXT\"`:")
    for name, _, phone in loaded.accounts:
        click.echo(f"  {phone}  {name}")


@sms.command("receive")
@click.option("--from", "sender", required=True, help="The sender's number in E.164, e.g. +254712345678.")
@click.argument("body")
def sms_receive(sender: str, body: str) -> None:
    """Deliver an SMS as Twilio would: signed with TWILIO_AUTH_TOKEN and posted to the real webhook,
    so it meets the same signature check, limits and rules. Prints the reply. Development and
    testing only: in production only Twilio speaks for a phone."""
    app = current_app._get_current_object()
    if app.config["SOLIDARITY_ENV"] == "production":
        click.echo("error: `sms receive` pretends to be Twilio; it is refused in production", err=True)
        sys.exit(2)
    token = app.config.get("TWILIO_AUTH_TOKEN") or ""
    if not token:
        click.echo("error: set SOLIDARITY_TWILIO_AUTH_TOKEN (any value, in development) for the webhook to "
                   "check signatures against; without it the webhook refuses every message", err=True)
        sys.exit(2)
    path = "/webhooks/twilio/sms"
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": app.config.get("TWILIO_ACCOUNT_SID") or "AC0",
              "From": sender, "To": app.config.get("TWILIO_FROM") or "", "Body": body, "NumMedia": "0"}
    signature = twilio_sms.compute_signature(token, app.config["PUBLIC_URL"].rstrip("/") + path, params)
    response = app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})
    if response.status_code != 200:
        click.echo(f"error: the webhook answered {response.status_code}: {response.get_data(as_text=True)}",
                   err=True)
        sys.exit(1)
    # Our own TwiML: one <Message> or none.
    reply = re.search(r"<Message>(.*?)</Message>", response.get_data(as_text=True), re.S)
    click.echo(f"Reply: {html.unescape(reply.group(1))}" if reply else "(no reply)")


@backups.command("create")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_create(path: str) -> None:
    """Write a consistent copy of the database to PATH while the service runs (SQLite's online
    backup, or pg_dump). The keys are not in it: keep them apart (README "Backups")."""
    try:
        written = backup.create(db.engine.url, path)
    except backup.BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"backup written to {written} ({written.stat().st_size} bytes); it holds no keys: without "
               "SOLIDARITY_ENCRYPTION_KEYS and SOLIDARITY_BLIND_INDEX_KEY it cannot be read")


@backups.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite a database that is not empty.")
def backup_restore(path: str, replace: bool) -> None:
    """Load a backup into the configured database (empty unless --replace). Stop the web app, the
    worker and the scheduler first; start them with the keys the backup was made under."""
    db.engine.dispose()  # no pooled connection may keep the old file or schema open
    try:
        backup.restore(db.engine.url, path, replace=replace)
    except backup.BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo("restored; next: `flask --app wsgi db upgrade` (if this version is newer than the backup), "
               "then `flask --app wsgi check`")


def _migration_state(app: Flask) -> tuple[str | None, str | None] | Exception:
    """(the database's migration revision, this code's head), or the error met reading them."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from solidarity import ROOT, database_url

    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    url = make_url(database_url(app))
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        return None, head  # not created yet; connecting would create an empty file
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision(), head
    except Exception as exc:  # noqa: BLE001 - reported as a finding, whatever the driver raises
        return exc
    finally:
        engine.dispose()


@click.command("check")
@click.option("--skip-database", is_flag=True, help="Do not connect to the database.")
def check(skip_database: bool) -> None:
    """Check this configuration as production would run it, without serving: print each finding
    with how to fix it; exit 1 if any is an error."""
    from solidarity import preflight

    app = current_app._get_current_object()
    database = None if skip_database else _migration_state(app)
    found = preflight.findings(app.config, os.environ, database=database)
    for finding in found:
        click.echo(finding.line())
    errors = sum(finding.level == "error" for finding in found)
    if errors:
        click.echo(f"{errors} error(s), {len(found) - errors} warning(s): fix the errors before starting", err=True)
        sys.exit(1)
    click.echo(f"configuration ok ({len(found)} warning(s))")


def init_unconfigured(app: Flask) -> None:
    """The commands that work before the configuration is complete (see solidarity.unconfigured_app)."""
    fixing = AppGroup("keys", help="Make keys (the configuration is not complete: only `generate` works).")
    fixing.add_command(keys_generate)
    app.cli.add_command(fixing)
    app.cli.add_command(check)


def init_app(app: Flask) -> None:
    app.cli.add_command(check)
    for group in (keys, users, tokens, playbook, audit_trail, backups, sms):
        app.cli.add_command(group)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(serve)
