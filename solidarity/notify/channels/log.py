"""The embedded default: write what would have been sent to a file in the instance folder.

A newcomer running everything in one process sees every SMS and email here, and tests use it as
the do-nothing twin of the real adapters. Addresses are masked, as in every log we write; the
bodies carry only a reference code and a help type by construction (notify.messages).
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from solidarity.members.contact import mask_phone
from solidarity.notify.channels import OutgoingMessage, Receipt
from solidarity.notify.models import Channel

logger = logging.getLogger("solidarity.notify.log")


def mask_address(address: str) -> str:
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return mask_phone(address)


class LogSender:
    def __init__(self, path: Path, channel: Channel):
        self.path = path
        self.channel = channel
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, channel: Channel, instance_path: str) -> LogSender:
        path = Path(instance_path) / str(config.get("NOTIFY_LOG_FILE") or "outbox.log")
        return cls(path, channel)

    def send(self, message: OutgoingMessage) -> Receipt:
        provider_id = f"log-{uuid.uuid4().hex[:16]}"
        head = (f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} {self.channel.value} "
                f"to={mask_address(message.to)} id={provider_id} notification={message.notification_id}")
        if message.subject:
            head += f" subject={message.subject!r}"
        logger.info("%s", head)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(f"{head}\n{message.body}\n---\n")
        return Receipt(provider_id=provider_id, provider_status="sent")
