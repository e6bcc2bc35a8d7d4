"""HTTP glue shared by the HTML pages and the JSON API: error bodies and security headers."""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, jsonify, render_template, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from solidarity.errors import DomainError, FieldError, ValidationError
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
        return error_response(exc.status, exc.errors)
    return render_template("error.html", code=exc.status, errors=exc.errors), exc.status


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


def http_error(exc):
    code = getattr(exc, "code", None) or 500
    message = getattr(exc, "description", None) or "something went wrong on our side"
    if wants_json():
        messages = (getattr(exc, "data", None) or {}).get("messages")
        response = error_response(code, flatten_messages(messages) if messages else [FieldError("", message)])
    else:
        response = Response(render_template("error.html", code=code, errors=[FieldError("", message)]), code,
                            mimetype="text/html")
    # A 405 must say which methods the resource takes (RFC 9110 15.5.6); werkzeug knows them.
    if getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
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
    if request.path.startswith(JSON_PREFIXES) or current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    return response


INTAKE_LIMITED = "too many incident reports from {who} in a short time; wait, or call a coordinator"


def intake_limited(user_of: Callable[[], Any]) -> Callable:
    """Limit filing incidents per account and per organisation (INTAKE_RATE_LIMIT_*).

    Shared scopes, so the web form and the API draw on one allowance. `user_of` gives the signed-in
    user or None (the web's current_user, the API's token user); an anonymous request is keyed by
    its address and refused by the view anyway. The limit is checked before the view runs, so a
    refused report writes nothing.
    """
    def key(kind: str) -> Callable[[], str]:
        def key_func() -> str:
            user = user_of()
            if user is None:
                return f"intake-anonymous:{get_remote_address()}"
            return f"intake-{kind}:{user.id if kind == 'account' else user.organisation_id}"
        return key_func

    def decorate(view: Callable) -> Callable:
        for kind, setting, who in (("account", "INTAKE_RATE_LIMIT_ACCOUNT", "your account"),
                                   ("organisation", "INTAKE_RATE_LIMIT_ORGANISATION", "your organisation")):
            view = limiter.shared_limit(lambda setting=setting: current_app.config[setting], scope=f"intake-{kind}",
                                        key_func=key(kind), methods=["POST"],
                                        error_message=INTAKE_LIMITED.format(who=who))(view)
        return view
    return decorate


def trust_proxies(app) -> None:
    """Honour X-Forwarded-* from exactly PROXY_FIX_HOPS proxies. ProxyFix reads each header from
    the right, where our own proxies appended, so whatever a client prepends is ignored."""
    hops = app.config["PROXY_FIX_HOPS"]
    if not isinstance(hops, int) or isinstance(hops, bool) or hops < 0:
        raise ValueError(f"SOLIDARITY_PROXY_FIX_HOPS must be a whole number, 0 or more, not {hops!r}")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def init_app(app) -> None:
    trust_proxies(app)
    app.after_request(security_headers)
    app.register_error_handler(DomainError, domain_error)
    for code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500):
        app.register_error_handler(code, http_error)
