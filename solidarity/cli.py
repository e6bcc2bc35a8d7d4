"""Operator commands: `flask --app wsgi keys|users|tokens|demo|serve` (and `db` from Flask-Migrate)."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from solidarity import audit
from solidarity.clock import utcnow
from solidarity.crypto import generate_master_key, generate_secret
from solidarity.errors import DomainError
from solidarity.extensions import db
from solidarity.fields import DataKey
from solidarity.members import auth, service

keys = AppGroup("keys", help="Master keys: generate, rotate.")
users = AppGroup("users", help="Accounts.")
tokens = AppGroup("tokens", help="API tokens.")


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
    for data_key in session.scalars(select(DataKey)).yield_per(500):
        if data_key.wrapped is None:
            destroyed += 1
        elif data_key.rewrap():
            rewrapped += 1
        else:
            kept += 1
    primary = current_app.extensions["solidarity.keyring"].primary_kid
    audit.record(session, "cli", "keys.rotated", at=utcnow(), primary=primary, rewrapped=rewrapped)
    session.commit()
    click.echo(f"rewrapped {rewrapped}, already current {kept}, destroyed {destroyed}; wrapping key {primary}")


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


def init_app(app: Flask) -> None:
    for group in (keys, users, tokens):
        app.cli.add_command(group)
