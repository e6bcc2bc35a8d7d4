"""Bootstrapping commands: the first coordinator and API tokens (keys are in test_crypto.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from solidarity.extensions import db
from solidarity.members.models import Role, User
from tests.conftest import csrf_token
from tests.factories import PASSWORD, bearer


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)
    return invoke


def test_create_coordinator_reads_the_password_from_stdin_and_can_sign_in(cli, client):
    result = cli("users", "create-coordinator", "Chair@Network.example", "--name", "Chair",
                 "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert (user.role, user.name, user.email, user.organisation_id) == (Role.coordinator, "Chair",
                                                                         "chair@network.example", None)
    assert f"coordinator {user.id} created" in result.output
    assert PASSWORD not in result.output
    signed_in = client.post("/login", data={"email": "chair@network.example", "password": PASSWORD,
                                            "csrf_token": csrf_token(client, "/login")})
    # Signed in, but a coordinator uses nothing before setting up two-factor sign-in.
    assert signed_in.status_code == 302 and client.get("/").location == "/account/two-factor"


def test_create_coordinator_prompts_for_the_password_twice(cli):
    result = cli("users", "create-coordinator", "chair@network.example", "--name", "Chair",
                 input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User)).one().is_coordinator


@pytest.mark.parametrize(("email", "password", "field"), [
    ("not-an-email", PASSWORD, "email"),
    ("chair@network.example", "short", "password"),
    ("chair@network.example", "", "password"),
])
def test_create_coordinator_refuses_bad_input_naming_the_field(cli, email, password, field):
    result = cli("users", "create-coordinator", email, "--name", "Chair", "--password-stdin", input=password + "\n")
    assert result.exit_code == 2
    assert f"error: {field}:" in result.output
    assert db.session.scalars(select(User)).all() == []


def test_create_coordinator_refuses_a_registered_email(cli, make):
    taken = make.admin_of(make.org(vetted=False)).email
    result = cli("users", "create-coordinator", taken.upper(), "--name", "Chair", "--password-stdin",
                 input=PASSWORD + "\n")
    assert result.exit_code == 2 and "error: email: is already registered" in result.output
    assert db.session.scalars(select(User).where(User.role == Role.coordinator)).all() == []


def test_tokens_create_prints_a_working_token_alone_on_the_last_line(cli, client, make):
    admin = make.admin_of(make.org())
    result = cli("tokens", "create", admin.email)
    assert result.exit_code == 0, result.output
    token = result.output.rstrip("\n").splitlines()[-1]
    assert token == token.strip() and " " not in token
    response = client.get(f"/api/v1/organisations/{admin.organisation_id}/users", headers=bearer(token))
    assert response.status_code == 200


def test_tokens_create_for_an_unknown_email_fails(cli):
    result = cli("tokens", "create", "nobody@nowhere.example")
    assert result.exit_code == 2 and "error: email:" in result.output


def test_tokens_revoke_ends_every_token_of_the_person(cli, client, make):
    admin = make.admin_of(make.org())
    first, second = make.token(admin), make.token(admin)
    result = cli("tokens", "revoke", admin.email)
    assert result.exit_code == 0 and "2 token(s) revoked" in result.output
    for token in (first, second):
        assert client.get("/api/v1/organisations", headers=bearer(token)).status_code == 401
