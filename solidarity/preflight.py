"""`flask --app wsgi check`: read a configuration as production would and list what is wrong with
it, each finding with how to fix it, without serving anything. Errors make the command exit 1.

Only settings are read (and the database asked for its migration version): `check` must work
when create_app would refuse to start, which is when it is most needed.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from solidarity.crypto import KeyConfigError, decode_key, parse_master_keys

# Placeholders shipped in config/testing.py: a configuration that reuses them has public keys.
KNOWN_TEST_VALUES = ("test-secret-key-not-for-production", "ktest1:", "B" * 42 + "Q=")
MIN_SECRET_LENGTH = 32
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")  # noqa: S104 - names compared, nothing bound
GENERATE = "`flask --app wsgi keys generate --blind-index`"


@dataclass(frozen=True)
class Finding:
    level: str  # "error" (will not work safely) or "warning" (works; check it is what you meant)
    setting: str
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.level}: {self.setting}: {self.problem}. Fix: {self.fix}."


def findings(config: Mapping[str, Any], environ: Mapping[str, str], *,
             database: tuple[str | None, str | None] | Exception | None = None) -> list[Finding]:
    """Everything wrong with `config` (plus gunicorn's WEB_CONCURRENCY from `environ`).

    `database` is (current revision, head revision), or the error met asking for it, or None to skip.
    """
    out: list[Finding] = []
    production = config.get("SOLIDARITY_ENV") == "production"
    if not production:
        out.append(Finding("warning", "SOLIDARITY_ENV", f"is {config.get('SOLIDARITY_ENV')!r}, so this checks a "
                           "configuration that is not the production one", "run the check with SOLIDARITY_ENV="
                           "production and the production environment or instance file"))
    out += _secrets(config)
    out += _public_url(config, production)
    out += _proxy(config)
    out += _rate_limits(config, environ)
    out += _sms(config, production)
    out += _email(config, production)
    out += _metrics(config)
    out += _database(database)
    return out


def _secrets(config: Mapping[str, Any]) -> list[Finding]:
    out = []
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        value = config.get(name)
        if not value:
            how = "`flask --app wsgi keys generate`" if name == "ENCRYPTION_KEYS" else GENERATE
            out.append(Finding("error", name, "is missing", f"set SOLIDARITY_{name} to the output of {how}, in the "
                               "environment or the instance file (never in the repository or a backup)"))
        elif any(str(value).startswith(test) for test in KNOWN_TEST_VALUES):
            out.append(Finding("error", name, "is the published test value from config/testing.py",
                               f"generate a new one ({GENERATE} or `keys generate`)"))
    secret = config.get("SECRET_KEY")
    if secret and len(str(secret)) < MIN_SECRET_LENGTH:
        out.append(Finding("error", "SECRET_KEY", f"is only {len(str(secret))} characters; it signs sessions and "
                           "answer links", f"use at least {MIN_SECRET_LENGTH} random characters: {GENERATE}"))
    if config.get("ENCRYPTION_KEYS"):
        try:
            parse_master_keys(str(config["ENCRYPTION_KEYS"]))
        except KeyConfigError as exc:
            out.append(Finding("error", "ENCRYPTION_KEYS", str(exc), "use `kid:base64key` items from "
                               "`flask --app wsgi keys generate`, newest first, separated by commas"))
    if config.get("BLIND_INDEX_KEY"):
        try:
            decode_key(str(config["BLIND_INDEX_KEY"]))
        except KeyConfigError as exc:
            out.append(Finding("error", "BLIND_INDEX_KEY", str(exc), f"use the output of {GENERATE}"))
    if config.get("SESSION_COOKIE_SECURE") is not True:
        out.append(Finding("error", "SESSION_COOKIE_SECURE", "is off, so the session cookie also travels over "
                           "plain http", "remove the override (it is on by default)"))
    return out


def _public_url(config: Mapping[str, Any], production: bool) -> list[Finding]:
    url = urlsplit(str(config.get("PUBLIC_URL") or ""))
    if url.scheme != "https" or not url.hostname:
        return [Finding("error", "PUBLIC_URL", f"is {config.get('PUBLIC_URL')!r}, not an https:// address; links "
                        "in emails and the Twilio signature check are computed against it",
                        "set SOLIDARITY_PUBLIC_URL=https://your.host (the address people and Twilio reach)")]
    if production and url.hostname in LOCAL_HOSTS:
        return [Finding("error", "PUBLIC_URL", f"points at {url.hostname}, which nobody else can reach",
                        "set SOLIDARITY_PUBLIC_URL to the public https address")]
    return []


def _proxy(config: Mapping[str, Any]) -> list[Finding]:
    hops = config.get("PROXY_FIX_HOPS")
    if not isinstance(hops, int) or isinstance(hops, bool) or hops < 0:
        return [Finding("error", "PROXY_FIX_HOPS", f"is {hops!r}, not a whole number",
                        "set the number of reverse proxies in front of the app (0, or 1 for one nginx)")]
    if hops == 0 and urlsplit(str(config.get("PUBLIC_URL") or "")).scheme == "https":
        return [Finding("warning", "PROXY_FIX_HOPS", "is 0 while PUBLIC_URL is https: if a reverse proxy terminates "
                        "TLS (deploy/), every client looks like the proxy to the rate limits and requests look "
                        "like plain http", "set SOLIDARITY_PROXY_FIX_HOPS=1 behind one proxy (never more than "
                        "really sit in front); leave 0 only if gunicorn itself serves TLS")]
    return []


def _web_processes(config: Mapping[str, Any], environ: Mapping[str, str]) -> int:
    counts = [config.get("WEB_PROCESSES") or 1, environ.get("WEB_CONCURRENCY") or 1]
    try:
        return max(int(count) for count in counts)
    except (TypeError, ValueError):
        return 2  # unreadable: assume the unsafe case


def _rate_limits(config: Mapping[str, Any], environ: Mapping[str, str]) -> list[Finding]:
    out = []
    if config.get("RATELIMIT_ENABLED") is False:
        out.append(Finding("error", "RATELIMIT_ENABLED", "is off: sign-in guessing and report floods are not "
                           "slowed down", "remove the override (limits are on by default)"))
    processes = _web_processes(config, environ)
    if processes > 1 and str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
        out.append(Finding("error", "RATELIMIT_STORAGE_URI", f"is memory:// with {processes} web processes "
                           "(WEB_PROCESSES / WEB_CONCURRENCY): each counts alone, so every limit is multiplied",
                           "set SOLIDARITY_RATELIMIT_STORAGE_URI=redis://host:6379/0 (the `redis` extra), shared "
                           "by every web process"))
    return out


def _sms(config: Mapping[str, Any], production: bool) -> list[Finding]:
    backend = config.get("SMS_BACKEND")
    missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM") if not config.get(name)]
    if backend == "twilio" and missing:
        return [Finding("error", ", ".join(missing), "missing while SMS_BACKEND=twilio: no SMS can be sent",
                        "set " + ", ".join(f"SOLIDARITY_{name}" for name in missing) + " from the Twilio console")]
    if backend == "twilio":
        sender = str(config["TWILIO_FROM"])
        if not (sender.startswith("+") and sender[1:].isdigit()) and not sender.startswith("MG"):
            return [Finding("error", "TWILIO_FROM", f"{sender!r} is neither an E.164 number nor a messaging service",
                            "use our number as +<country><number>, or a Messaging Service SID (MG...)")]
        return []
    if backend == "log" and production:
        out = [Finding("warning", "SMS_BACKEND", "is log: SMS go to a file in the instance folder, nobody receives "
                       "them", "set SOLIDARITY_SMS_BACKEND=twilio with the TWILIO_* settings")]
        if not config.get("TWILIO_AUTH_TOKEN"):
            out.append(Finding("warning", "TWILIO_AUTH_TOKEN", "is missing, so every inbound SMS webhook is refused",
                               "set SOLIDARITY_TWILIO_AUTH_TOKEN if members text our number"))
        return out
    if backend not in ("log", "twilio"):
        return [Finding("error", "SMS_BACKEND", f"is {backend!r}", "use twilio (or log, to send nothing)")]
    return []


def _email(config: Mapping[str, Any], production: bool) -> list[Finding]:
    backend = config.get("EMAIL_BACKEND")
    if backend == "log":
        if not production:
            return []
        return [Finding("warning", "EMAIL_BACKEND", "is log: emails go to a file in the instance folder, nobody "
                        "receives them", "set SOLIDARITY_EMAIL_BACKEND=smtp with the SMTP_* settings")]
    if backend != "smtp":
        return [Finding("error", "EMAIL_BACKEND", f"is {backend!r}", "use smtp (or log, to send nothing)")]
    out = []
    host = str(config.get("SMTP_HOST") or "")
    if not host:
        out.append(Finding("error", "SMTP_HOST", "is missing", "set SOLIDARITY_SMTP_HOST to your mail relay"))
    sender = str(config.get("SMTP_FROM") or "")
    if "@" not in sender or sender.rstrip(">").endswith("@localhost"):
        out.append(Finding("error", "SMTP_FROM", f"is {sender!r}, which receiving servers refuse",
                           "set SOLIDARITY_SMTP_FROM='Solidarity <alerts@your.domain>'"))
    if bool(config.get("SMTP_USERNAME")) != bool(config.get("SMTP_PASSWORD")):
        out.append(Finding("error", "SMTP_USERNAME, SMTP_PASSWORD", "only one of the two is set",
                           "set both (or neither, for a relay that needs no login)"))
    if not config.get("SMTP_STARTTLS") and host not in LOCAL_HOSTS:
        out.append(Finding("warning", "SMTP_STARTTLS", f"is off for {host}: mail and the password cross the network "
                           "in clear", "turn it on, or relay through a local MTA"))
    return out


def _metrics(config: Mapping[str, Any]) -> list[Finding]:
    token = config.get("METRICS_TOKEN")
    if token and len(str(token)) < MIN_SECRET_LENGTH:
        return [Finding("error", "METRICS_TOKEN", f"is only {len(str(token))} characters",
                        f"use at least {MIN_SECRET_LENGTH} random characters: {GENERATE}")]
    return []


def _database(database: tuple[str | None, str | None] | Exception | None) -> list[Finding]:
    if database is None:
        return []
    if isinstance(database, Exception):
        return [Finding("error", "DATABASE_URL", f"cannot be read: {type(database).__name__}: {database}",
                        "check SOLIDARITY_DATABASE_URL, that the server runs and the user may connect")]
    current, head = database
    if current != head:
        return [Finding("error", "DATABASE_URL", f"the database is at migration {current or '(none)'}, this version "
                        f"needs {head}", "back it up (`flask --app wsgi backup create PATH`), then run "
                        "`flask --app wsgi db upgrade`")]
    return []
