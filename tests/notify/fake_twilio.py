"""A local stand-in for Twilio's Messages API (POST /2010-04-01/Accounts/<sid>/Messages.json).

It answers like Twilio (201 with a message SID, or Twilio's error JSON), checks Basic auth and
records every form it accepted, so tests and the benchmark can assert what the real SDK sent.
`fault` lets a test make it answer 429, 500, 21610 or hang.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token"
FROM = "+15005550006"


@dataclass
class Sent:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    validity_period: str | None
    at: float = field(default_factory=time.monotonic)

    @property
    def notification_id(self) -> str | None:
        if not self.status_callback:
            return None
        return (parse_qs(urlsplit(self.status_callback).query).get("n") or [None])[0]


def twilio_error(status: int, code: int, message: str) -> Response:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    return Response(json.dumps(body), status=status, content_type="application/json")


class FakeTwilio:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0):
        self.server = HTTPServer(host=host, port=port, threaded=True)
        self.sent: list[Sent] = []
        self.requests = 0
        self.fault: Callable[[dict], Response | None] | None = None
        self._lock = threading.Lock()
        self.on_sent: Callable[[Sent], None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def start(self) -> FakeTwilio:
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        self.server.expect_request(path, method="POST").respond_with_handler(self._create)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.clear()
            self.server.stop()

    def _create(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return twilio_error(401, 20003, "Authenticate")
        form = request.form.to_dict()
        if self.fault is not None:
            injected = self.fault(form)
            if injected is not None:
                return injected
        sent = Sent(sid="SM" + uuid.uuid4().hex, to=form.get("To", ""), from_=form.get("From", ""),
                    body=form.get("Body", ""), status_callback=form.get("StatusCallback"),
                    validity_period=form.get("ValidityPeriod"))
        with self._lock:
            self.sent.append(sent)
        if self.on_sent is not None:
            self.on_sent(sent)
        payload = {"sid": sent.sid, "account_sid": ACCOUNT_SID, "to": sent.to, "from": sent.from_,
                   "body": sent.body, "status": "queued", "num_segments": "1", "direction": "outbound-api",
                   "api_version": "2010-04-01", "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sent.sid}.json"}
        return Response(json.dumps(payload), status=201, content_type="application/json")

    def by_notification(self) -> dict[str, list[Sent]]:
        out: dict[str, list[Sent]] = {}
        with self._lock:
            for sent in self.sent:
                out.setdefault(sent.notification_id or "", []).append(sent)
        return out
