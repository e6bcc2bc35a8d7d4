"""HTTP glue shared by the HTML pages and the JSON API: error bodies and security headers."""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, g, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from limits import parse as parse_limit
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import safe_join

from solidarity import metrics
from solidarity.clock import wait_in_words
from solidarity.errors import DomainError, FieldError, RateLimited, ValidationError
from solidarity.extensions import db, limiter
from solidarity.text import hostile

JSON_PREFIXES = ("/api/", "/webhooks/")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def error_response(status: int, errors: list[FieldError]) -> Response:
    """The API's one error shape: {"errors": [{"field": ..., "message": ...}]}."""
    response = jsonify(errors=[{"field": e.field, "message": e.message} for e in errors])
    response.status_code = status
    return response


def domain_error(exc: DomainError):
    db.session.rollback()  # whatever the failed call had pending must not leak into a later commit
    if wants_json():
        response = error_response(exc.status, exc.errors)
    else:
        response = Response(render_template("error.html", code=exc.status, errors=exc.errors), exc.status,
                            mimetype="text/html")
    if getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def flatten_messages(messages: object, prefix: str = "") -> list[FieldError]:
    """Turn webargs/marshmallow's nested {"json": {"admin": {"email": ["..."]}}} into field errors."""
    if isinstance(messages, dict):
        out: list[FieldError] = []
        for key, value in messages.items():
            if key in ("json", "query", "form", "headers", "_schema") and not prefix:
                out += flatten_messages(value, "")
            elif isinstance(key, int):  # an item of a list: report the list
                out += flatten_messages(value, prefix)
            else:
                out += flatten_messages(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            return [FieldError(prefix, " ".join(messages))]
        return [e for m in messages for e in flatten_messages(m, prefix)]
    return [FieldError(prefix, str(messages))]


# Werkzeug's own descriptions are written for developers; these say what to do instead. Only used
# when nobody gave the error a message of its own (abort(400, "the form expired; ...") keeps its own).
PLAIN = {
    400: "That request could not be read. Go back, and try again.",
    404: "There is no page at this address. Check the link, or start again from the home page.",
    405: "This page cannot be used that way. Go back, and use its form or links.",
    413: "What you sent is too large. Go back, shorten the text or leave out the attachment, and send it again.",
    415: "That kind of content is not accepted here.",
    500: "Something went wrong on our side. Nothing you did caused it; please try again in a moment.",
}


def _limit_wait() -> int | None:
    """Seconds until the breached Flask-Limiter limit (sign-in, applications) has room again."""
    current = limiter.current_limit
    return max(1, math.ceil(current.reset_at - time.time())) if current is not None else None


def http_error(exc):
    code = getattr(exc, "code", None) or 500
    message = getattr(exc, "description", None) or ""
    wait = _limit_wait() if isinstance(exc, RateLimitExceeded) else None
    if wait is not None and not exc.limit.error_message:
        message = f"Too many attempts in a short time. You can try again in {wait_in_words(wait)}."
    elif not message or message == getattr(type(exc), "description", None):
        message = PLAIN.get(code, message) or PLAIN[500]
    if wants_json():
        messages = (getattr(exc, "data", None) or {}).get("messages")
        response = error_response(code, flatten_messages(messages) if messages else [FieldError("", message)])
    else:
        response = Response(render_template("error.html", code=code, errors=[FieldError("", message)]), code,
                            mimetype="text/html")
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    # A 405 must say which methods the resource takes (RFC 9110 15.5.6); werkzeug knows them.
    if getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


DATABASE_DOWN = "the service cannot reach its database just now; try again in a moment"


def database_unavailable(exc: Exception):
    """A request during a database outage: 503 in the one error shape, never a traceback.

    Only connection-level errors (the server gone, refusing, or the pool exhausted) land here; an
    error in a query's own logic is still a 500 and a bug."""
    if isinstance(exc, DBAPIError) and not isinstance(exc, (OperationalError, InterfaceError)):
        raise exc
    current_app.logger.warning("database unavailable for %s %s: %s", request.method, request.path,
                               str(getattr(exc, "orig", exc)).strip().splitlines()[:1])
    try:
        db.session.rollback()
    except DBAPIError:
        pass  # the connection is gone; the session is removed at the end of the request
    # Whoever is signed in cannot be looked up now: the page and its headers are rendered for an
    # anonymous visitor rather than trying the database again.
    g._login_user = current_app.login_manager.anonymous_user()
    if wants_json():
        response = error_response(503, [FieldError("", DATABASE_DOWN)])
    else:
        response = Response(render_template("error.html", code=503, errors=[FieldError("", DATABASE_DOWN)]), 503,
                            mimetype="text/html")
    response.headers["Retry-After"] = "5"
    return response


NEXT_MAX = 2000


def _plain_path(target: str) -> bool:
    # "/x" but not "//host" or "/\\host" (browsers read a backslash as a slash), and nothing a
    # URL parser would call a scheme or a host.
    parts = urlsplit(target)
    return (target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
            and not parts.scheme and not parts.netloc)


def safe_next(target: object) -> str | None:
    """`target` if it is a path on this site, else None (the caller goes home). The one check for
    every redirect to a place the request names (sign-in's `next`): an open redirect after sign-in
    hands the password and the two-factor code to a look-alike site.

    Strict rather than clever: only printable ASCII (our own links are; browsers percent-encode the
    rest), so no tab, CR/LF or other control character that browsers strip ("/<tab>/evil" is "//evil"
    to them) or that breaks the Location header, and no Unicode look-alike of a slash. The
    percent-decoded form must be a plain path too, for whatever decodes it once more.
    """
    if not isinstance(target, str) or not target or len(target) > NEXT_MAX:
        return None
    if not all("!" <= ch <= "~" for ch in target):
        return None
    decoded = target
    for _ in range(3):
        decoded = unquote(decoded)
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded) or not _plain_path(decoded):
            return None
    return target if _plain_path(target) else None


# -- Hostile input: refused before any view reads it ----------------------------------------------

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit` (or its brackets do not
    pair up), found without parsing it: the parser recurses, and thousands of levels end in a
    RecursionError. Each step is one linear regular-expression pass, so a hostile body costs little:
    drop escapes, then strings (brackets in them do not nest), then `limit` times the innermost
    pairs of brackets; whatever bracket is left was deeper."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    text = _STRING.sub(b"", _ESCAPE.sub(b"", body))
    for _ in range(limit):
        text, removed = _INNERMOST.subn(b"", text)
        if not removed:
            break
    return any(bracket in text for bracket in (b"[", b"]", b"{", b"}"))


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field, text) for every key and string in a parsed JSON document; fields as in our errors."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            yield field, key
            yield from _strings(item, field)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


def _request_strings() -> Iterator[tuple[str, str]]:
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            yield key, key
            yield key, value
    if request.is_json:
        body = request.get_data(cache=True)
        limit = current_app.config["JSON_MAX_DEPTH"]
        if json_too_deep(body, limit):
            raise DomainError(f"the JSON body nests deeper than {limit} levels or its brackets do not pair up",
                              field="")
        try:
            document = json.loads(body)
        except RecursionError:
            raise DomainError(f"the JSON body nests deeper than {limit} levels", field="") from None
        except json.JSONDecodeError:
            return  # not JSON at all: the view's parser says so, as it always has
        except ValueError:  # an integer of thousands of digits, which Python refuses to convert
            raise DomainError("the JSON body holds a number too long to read", field="") from None
        yield from _strings(document)


def refuse_hostile_input() -> None:
    """Every request, before its view: JSON nested too deep (400), and control characters, NUL or
    lone surrogates in any field of the query, form or JSON body (422 naming the field; rules in
    solidarity/text.py). The same refusal for web forms, the API and Twilio's webhooks, so no view
    can forget it and nothing is written."""
    errors, seen = [], set()
    for field, text in _request_strings():
        problem = hostile(text)
        if problem and field not in seen:
            seen.add(field)
            errors.append(FieldError(field if field.isprintable() else "", problem))
    if errors:
        raise ValidationError(errors)


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if _fingerprinted_static(response):
        # The URL names the content, so it never changes under it: the stylesheet is fetched once,
        # not with every page (a signed-in person's pages stay no-store).
        headers["Cache-Control"] = STATIC_CACHE
    elif request.path.startswith(JSON_PREFIXES) or current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    return response


STATIC_CACHE = "public, max-age=31536000, immutable"


def static_fingerprint(filename: str) -> str | None:
    """A short hash of a static file's content, or None if there is no such file. Cached by the
    file's size and modification time, so an edited file gets a new URL without a restart."""
    path = safe_join(current_app.static_folder, filename)
    try:
        stat = Path(path).stat() if path else None
    except OSError:
        return None
    if stat is None:
        return None
    cache = current_app.extensions.setdefault("solidarity.static_fingerprints", {})
    key = (filename, stat.st_mtime_ns, stat.st_size)
    if key not in cache:
        cache[key] = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    return cache[key]


def fingerprint_static_urls(endpoint: str, values: dict) -> None:
    """url_for("static", filename=...) carries the content's hash (?v=...), in every template."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        digest = static_fingerprint(values["filename"])
        if digest:
            values["v"] = digest


def _fingerprinted_static(response: Response) -> bool:
    # Only the URL of the current content is cached for ever: an old or made-up ?v= is not.
    return (request.endpoint == "static" and response.status_code in (200, 304) and bool(request.args.get("v"))
            and request.args.get("v") == static_fingerprint((request.view_args or {}).get("filename", "")))


@dataclass(frozen=True)
class Allowance:
    """One abuse limit (config/default.py, "Abuse limits"): its setting, its storage key (no personal
    data), and whose allowance it is, in words."""

    setting: str
    key: str
    who: str


def intake_allowances(user) -> list[Allowance]:
    """Reports per person and per organisation. Web and API draw on the same allowances."""
    return [Allowance("INTAKE_RATE_LIMIT_ACCOUNT", f"intake-account:{user.id}", "reports from your account"),
            Allowance("INTAKE_RATE_LIMIT_ORGANISATION", f"intake-organisation:{user.organisation_id}",
                      "reports from your organisation")]


def _refused(allowance: Allowance, item) -> RateLimited:
    reset_at, _ = limiter.limiter.get_window_stats(item, allowance.key)
    wait = max(1, math.ceil(reset_at - time.time()))
    field = allowance.setting.rsplit("_", 1)[-1].lower()  # "account", "organisation", "phone"
    return RateLimited(f"Too many {allowance.who} in a short time. You can send again in "
                       f"{wait_in_words(wait)}.", field=field, retry_after=wait)


def _each(allowances: list[Allowance], *, spend: bool) -> None:
    if not limiter.enabled:
        return
    strategy = limiter.limiter
    for allowance in allowances:
        item = parse_limit(current_app.config[allowance.setting])
        if not (strategy.hit if spend else strategy.test)(item, allowance.key):
            raise _refused(allowance, item)


def check_allowances(allowances: list[Allowance]) -> None:
    """Raise RateLimited (with the wait) if one of these allowances is used up. Spends nothing."""
    _each(allowances, spend=False)


def spend_allowances(allowances: list[Allowance]) -> None:
    """Spend one of each. Each hit is atomic in the limiter's storage, so concurrent requests cannot
    all slip through a test made before any of them spent; the loser of such a race is refused."""
    _each(allowances, spend=True)


def within_allowances(allowances: list[Allowance], validate: Callable[[], Any], act: Callable[[], Any]):
    """Limits count what was done, not what was refused: check (spending nothing), validate the input,
    spend, then act. A form sent back for a mistake costs nothing, so a person who gets it wrong ten
    times can still file the eleventh. What passed its checks and is then refused by a later rule
    (the fan-out cap) has spent its share: that keeps a flood from retrying for free."""
    check_allowances(allowances)
    validate()
    spend_allowances(allowances)
    return act()


def trust_proxies(app) -> None:
    """Honour X-Forwarded-* from exactly PROXY_FIX_HOPS proxies. ProxyFix reads each header from
    the right, where our own proxies appended, so whatever a client prepends is ignored."""
    hops = app.config["PROXY_FIX_HOPS"]
    if not isinstance(hops, int) or isinstance(hops, bool) or hops < 0:
        raise ValueError(f"SOLIDARITY_PROXY_FIX_HOPS must be a whole number, 0 or more, not {hops!r}")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from a proxy's or client's X-Request-ID: short, and only characters that cannot
# break a log line or a header; anything else is replaced by one of ours.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
access_log = logging.getLogger("solidarity.request")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def start_request() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _user_id() -> str | None:
    user = g.get("api_user")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    return str(user.id) if user is not None else None


def finish_request(response: Response) -> Response:
    """Echo the request id, count the request by route and status, and write the access line.

    The route is the endpoint name from the URL map ("incidents.show"), never the path, which can
    hold an id or a signed token; a URL that matched no route counts as "unmatched".
    """
    if "request_id" not in g:  # refused by a hook that ran before ours
        start_request()
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    # Any token is a method to HTTP: a label of whatever a client sends would grow without bound.
    method = request.method if request.method in KNOWN_METHODS else "other"
    seconds = time.perf_counter() - g.request_started
    status = response.status_code
    metrics.HTTP_REQUESTS.labels(endpoint, method, str(status)).inc()
    metrics.HTTP_DURATION.labels(endpoint).observe(seconds)
    if status == 429:
        metrics.RATE_LIMIT_REFUSALS.labels(endpoint).inc()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    access_log.info("%s %s %s %.1fms", method, endpoint, status, seconds * 1000, extra={
        "route": endpoint, "method": method, "status": status, "duration_ms": round(seconds * 1000, 1),
        "user_id": _user_id()})
    return response


def init_app(app) -> None:
    trust_proxies(app)
    # First of all before-request hooks: the rate limiter's runs earlier otherwise, and a refused
    # request would have no id and no start time.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(finish_request)
    app.after_request(security_headers)
    app.url_defaults(fingerprint_static_urls)
    app.register_error_handler(DomainError, domain_error)
    for exc in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(exc, database_unavailable)
    for code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500):
        app.register_error_handler(code, http_error)
