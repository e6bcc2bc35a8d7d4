"""Email through smtplib: plain text with an HTML alternative, STARTTLS and login as configured.

Errors while connecting, greeting or logging in are transient whatever their code: they are about
our server or our settings, not this message, and nothing was handed over yet. Once the message
is being handed over, a 4xx reply is transient and a 5xx reply permanent (RFC 5321 §4.2.1); a
dropped connection or a timeout at that point is ambiguous.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from solidarity.notify.channels import (
    AmbiguousError,
    BackendConfigError,
    OutgoingMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from solidarity.notify.models import Channel


class SmtpSender:
    def __init__(self, *, host: str, port: int, username: str | None, password: str | None, starttls: bool,
                 from_: str, timeout: float):
        if not host or not from_:
            raise BackendConfigError("EMAIL_BACKEND=smtp needs SOLIDARITY_SMTP_HOST and SOLIDARITY_SMTP_FROM")
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls
        self.from_ = from_
        self.domain = parseaddr(from_)[1].rpartition("@")[2] or "localhost"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, channel: Channel, instance_path: str) -> SmtpSender:
        return cls(host=config.get("SMTP_HOST") or "", port=int(config.get("SMTP_PORT") or 587),
                   username=config.get("SMTP_USERNAME") or None, password=config.get("SMTP_PASSWORD") or None,
                   starttls=bool(config.get("SMTP_STARTTLS")), from_=config.get("SMTP_FROM") or "",
                   timeout=float(config.get("SMTP_TIMEOUT") or 15))

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.from_
        mail["To"] = message.to
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime(datetime.now(timezone.utc))
        # A domain of our own: without one, make_msgid asks DNS for this host's name on every call.
        mail["Message-ID"] = make_msgid(domain=self.domain)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders must not answer
        mail.set_content(message.body)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        # After add_alternative, which moves Content-* headers into the first part.
        mail["Content-Language"] = message.language
        return mail

    def send(self, message: OutgoingMessage) -> Receipt:
        mail = self.compose(message)
        smtp = self._connect()
        try:
            smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            (code, text), *_ = exc.recipients.values()
            if 400 <= code < 500:
                raise TransientError(f"recipient deferred by the mail server: {_text(text)}", code=code) from exc
            raise PermanentError(f"recipient refused by the mail server: {_text(text)}", code=code) from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, _text(exc.smtp_error)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise AmbiguousError(f"mail server connection lost while sending: {type(exc).__name__}",
                                 code="connection") from exc
        finally:
            _close(smtp)
        return Receipt(provider_id=mail["Message-ID"].strip("<>")[:64], provider_status="sent")

    def _connect(self) -> smtplib.SMTP:
        smtp = None
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
            return smtp
        except smtplib.SMTPResponseException as exc:
            _close(smtp)
            raise TransientError(f"mail server said {exc.smtp_code} before we could send: "
                                 f"{_text(exc.smtp_error)}", code=exc.smtp_code) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close(smtp)
            raise TransientError(f"could not reach the mail server: {type(exc).__name__}", code="connect") from exc


def _by_code(code: int, text: str) -> Exception:
    if 400 <= code < 500:
        return TransientError(f"mail server deferred the message: {text}", code=code)
    return PermanentError(f"mail server refused the message: {text}", code=code)


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text.splitlines()[0][:200] if text else ""


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
