"""Sign-in throttling per address and per account, its shared (Redis) storage, and forged
X-Forwarded-* headers, which must move neither the rate-limit key nor a webhook's signed URL."""
from __future__ import annotations

import re
import uuid

import pytest
import redis
from twilio.request_validator import RequestValidator

from solidarity import create_app
from solidarity.extensions import limiter
from tests.conftest import csrf_token
from tests.factories import PASSWORD

REDIS_URL = "redis://127.0.0.1:6379/0"
AUTH_TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://solidarity.example"


@pytest.fixture
def build(app, app_config):
    """Build an app with limits on (Flask-Limiter reads RATELIMIT_* once, when an app is built)."""
    def make_app(**config):
        return create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute",
                           "LOGIN_ACCOUNT_RATE_LIMIT": "3 per hour", **config})
    try:
        yield make_app
    finally:
        limiter.reset()
        limiter.enabled = False


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client, email: str, **headers):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": "wrong password!!", "csrf_token": token},
                       headers=headers).status_code


def test_sign_in_attempts_are_limited_per_address(build):
    client = build().test_client()
    assert [attempt(client, f"person{n}@example.org") for n in range(4)] == [400, 400, 400, 429]
    assert client.get("/login").status_code == 200  # reading the form is not limited


def test_sign_in_attempts_are_limited_per_account_from_any_address(build):
    app = build(LOGIN_RATE_LIMIT="100 per minute")
    codes = [attempt(from_address(app, f"203.0.113.{n}"), "target@example.org") for n in range(4)]
    assert codes == [400, 400, 400, 429]
    assert attempt(from_address(app, "203.0.113.99"), "someone-else@example.org") == 400  # per account, not for all


def test_the_code_step_is_limited_per_account_from_any_address(build, make):
    user = make.admin_of(make.org())
    make.enrol(user)
    client = build(LOGIN_RATE_LIMIT="100 per minute").test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")})
    statuses = []
    for n in range(4):
        token = csrf_token(client, "/login/code")
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"  # a botnet guessing codes for one account
        statuses.append(client.post("/login/code", data={"code": "000000", "csrf_token": token}).status_code)
    assert statuses == [400, 400, 400, 429]


def test_forged_forwarded_for_does_not_dodge_the_limit_without_a_trusted_proxy(build):
    client = build().test_client()
    codes = [attempt(client, f"p{n}@example.org", **{"X-Forwarded-For": f"192.0.2.{n}"}) for n in range(4)]
    assert codes == [400, 400, 400, 429]


def test_behind_one_proxy_only_the_address_the_proxy_saw_counts(build):
    app = build(PROXY_FIX_HOPS=1)
    # The proxy (10.0.0.1) appends the address it saw; whatever the client put before it is ignored.
    client = from_address(app, "10.0.0.1")
    codes = [attempt(client, f"p{n}@example.org", **{"X-Forwarded-For": f"192.0.2.{n}, 203.0.113.7"})
             for n in range(4)]
    assert codes == [400, 400, 400, 429]
    # Another real client behind the same proxy has its own allowance.
    assert attempt(client, "p9@example.org", **{"X-Forwarded-For": "203.0.113.8"}) == 400


@pytest.mark.parametrize("hops", ["two", -1, True])
def test_a_bad_proxy_hop_count_stops_start_up(app_config, hops):
    with pytest.raises(ValueError, match="PROXY_FIX_HOPS"):
        create_app({**app_config, "PROXY_FIX_HOPS": hops})


def test_limits_are_counted_in_redis_when_configured(build, monkeypatch):
    prefix = f"solidarity-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("SOLIDARITY_RATELIMIT_STORAGE_URI", REDIS_URL)  # the documented way to set it
    app = build(RATELIMIT_KEY_PREFIX=prefix)
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    client = app.test_client()
    assert [attempt(client, f"r{n}@example.org") for n in range(4)] == [400, 400, 400, 429]
    store = redis.Redis.from_url(REDIS_URL)
    try:
        keys = store.keys(f"*{prefix}*")
        assert keys  # counted where every process sees it
        # A second process sharing the store sees the same count.
        second = build(RATELIMIT_KEY_PREFIX=prefix).test_client()
        assert attempt(second, "r9@example.org") == 429
    finally:
        if keys := store.keys(f"*{prefix}*"):
            store.delete(*keys)


def _signed(url: str, params: dict) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


@pytest.mark.parametrize("hops", [0, 1])
def test_forged_forwarded_host_or_proto_cannot_make_a_webhook_signature_valid(app, app_config, hops):
    app = create_app({**app_config, "PROXY_FIX_HOPS": hops, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                      "PUBLIC_URL": PUBLIC_URL})
    client = app.test_client()
    params = {"From": "+254700000009", "Body": "HELP"}
    # Signed by someone who knows the token's output for their own host only (e.g. a replayed request
    # to a staging host): the forged headers would make that URL the one the app sees.
    forged_url = "http://attacker.example/webhooks/twilio/sms"
    response = client.post("/webhooks/twilio/sms", data=params, base_url="http://attacker.example", headers={
        "X-Twilio-Signature": _signed(forged_url, params), "X-Forwarded-Host": "attacker.example",
        "X-Forwarded-Proto": "http"})
    assert response.status_code == 403
    # The same request signed over the public URL passes, so the 403 above is the URL's doing.
    good = client.post("/webhooks/twilio/sms", data=params, base_url="http://attacker.example", headers={
        "X-Twilio-Signature": _signed(PUBLIC_URL + "/webhooks/twilio/sms", params),
        "X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "http"})
    assert good.status_code == 200


def test_a_refused_sign_in_says_when_to_try_again_and_whom_to_call(build):
    client = build(EMERGENCY_CONTACT="+254 700 000 111").test_client()
    for n in range(3):
        attempt(client, f"person{n}@example.org")
    token = csrf_token(client, "/login")
    page = client.post("/login", data={"email": "x@example.org", "password": "wrong password!!", "csrf_token": token})
    text = page.get_data(as_text=True)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert re.search(r"You can try again in \d+ (minute|hour|second)s?\.", text), text
    assert "per 1 minute" not in text and "+254 700 000 111" in text
