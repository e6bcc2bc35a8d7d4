"""Where log lines go and in which shape: plain text (development default) or JSON (LOG_FORMAT=json).

One handler on the root logger, tagged so a second call (wsgi.py, then a CLI command) replaces it
instead of printing every line twice. A record made during a request carries that request's id
(see http.py), so a line from deep in a service can be joined to its access line.

Every field of a JSON line is redacted (solidarity/redact.py), not only the message: the record
factory there rewrites the message when a record is made, but `extra=` fields and the formatted
traceback are added later, and would otherwise reach the log as they were given.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

from flask import g, has_request_context
from pythonjsonlogger.json import JsonFormatter

from solidarity.redact import redact

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return value


class RedactingJsonFormatter(JsonFormatter):
    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _redacted(value) for key, value in log_data.items()}


class RequestContext(logging.Filter):
    """Stamp each record made inside a request with its request id (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return RedactingJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                      rename_fields={"levelname": "level", "name": "logger"}, timestamp=False)
    if fmt == "text":
        return logging.Formatter(TEXT)
    raise ValueError(f"SOLIDARITY_LOG_FORMAT must be text or json, not {fmt!r}")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written, not when the handler was made."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(fmt: str = "text", level: int | str = logging.INFO, *, force: bool = False) -> logging.Handler | None:
    """Send every log record of this process to stderr in `fmt`; calling it again replaces ours.

    Like logging.basicConfig, it leaves a root logger that someone else already equipped alone
    (a test runner's capture, an embedding application) unless `force` is given.
    """
    # APScheduler's own lines only from WARNING (not one per tick; our jobs log what they did).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "solidarity", False)]
    if len(ours) < len(root.handlers) and not force:
        return None
    for old in ours:
        root.removeHandler(old)
    handler = _Stderr()
    handler.solidarity = True
    handler.setFormatter(formatter(fmt))
    handler.addFilter(RequestContext())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
