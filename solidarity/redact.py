"""Keep secrets and personal data out of the logs, whoever logs and whatever handler writes them.

Installed as a log-record factory (not a filter on one logger or handler), because filters do not
reach records of child loggers or handlers added later (gunicorn's, the worker's basicConfig);
every record of the process is rewritten once, when it is made. Phone numbers keep their last two
digits and emails their domain, enough to tell two apart while debugging, not to reach anyone.
"""
from __future__ import annotations

import logging
import re

_PATTERNS: list[tuple[re.Pattern[str], object]] = [
    # Authorization headers and our API tokens (sol_ + 43 characters of urlsafe base64).
    (re.compile(r"(?i)\bbearer\s+[^\s,;\"']+"), "Bearer [token]"),
    (re.compile(r"\bsol_[A-Za-z0-9_-]{16,}"), "sol_[token]"),
    # Signed answer links (/answer/<itsdangerous token>) and any other itsdangerous-shaped token.
    (re.compile(r"/answer/[^\s?#\"']+"), "/answer/[token]"),
    (re.compile(r"/reset/[^\s?#\"']+"), "/reset/[token]"),  # password reset links
    (re.compile(r"\b[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}\b"), "[signed-token]"),
    (re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)"), lambda m: f"[email]@{m.group(1)}"),
    # Phone numbers: international form (what we store, what Twilio sends), or a bare run of 9 to
    # 15 digits. Dates and times have separators every 2-4 digits and are left alone.
    (re.compile(r"(?:\+|\b00)\d(?:[\s().-]?\d){6,14}"), lambda m: f"[phone …{m.group(0)[-2:]}]"),
    (re.compile(r"(?<![\w.:/-])\d{9,15}(?![\w.:/-])"), lambda m: f"[phone …{m.group(0)[-2:]}]"),
]


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_ESCAPED_RUN = re.compile(r"[^\s\"']*%[0-9A-Fa-f]{2}[^\s\"']*")


def _printable(match: re.Match[str]) -> str:
    # Printable ASCII only: a decoded %0A would let a request line forge a log line of its own.
    byte = int(match.group(1), 16)
    return chr(byte) if 0x20 <= byte < 0x7F else match.group(0)


def _decoded(run: re.Match[str]) -> str:
    text = run.group(0)
    for _ in range(3):  # %252B is %2B is +: a double-encoded number must not slip through either
        decoded = _ESCAPE.sub(_printable, text)
        if decoded == text:
            break
        text = decoded
    return text


def redact(text: str) -> str:
    """Percent-encoded runs (query strings and paths as access logs print them) are decoded first,
    so `%2B2547…` or `awa%40example.org` meet the same patterns as their plain forms."""
    text = _ESCAPED_RUN.sub(_decoded, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _make_factory(previous):
    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging itself reports it when formatting
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # Tracebacks carry values (a failing INSERT's parameters, a URL): redact them too.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    factory.solidarity_redacting = True
    return factory


def install() -> None:
    """Idempotent: create_app runs many times in one test process."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "solidarity_redacting", False):
        logging.setLogRecordFactory(_make_factory(current))
