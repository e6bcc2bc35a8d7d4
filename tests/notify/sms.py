"""Posting to our Twilio webhooks as Twilio does: form fields signed with the real RequestValidator."""
from __future__ import annotations

import re
import uuid
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

from tests.notify.conftest import PUBLIC_URL
from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM


def signed_post(client, path: str, params: dict, *, signature: str | None = "compute", token: str = AUTH_TOKEN):
    headers = {}
    if signature == "compute":
        signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=params, headers=headers)


def text_message(client, sender: str, body: str, **kwargs):
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": sender, "To": FROM,
              "Body": body, "NumMedia": "0"}
    return signed_post(client, "/webhooks/twilio/sms", params, **kwargs)


def reply_text(response) -> str | None:
    """The text of the TwiML <Message> in a webhook response (None when it says nothing)."""
    assert response.status_code == 200 and response.mimetype == "application/xml", response.get_data(as_text=True)
    found = ElementTree.fromstring(response.get_data()).find("Message")
    return None if found is None else re.sub(r"\s+", " ", found.text or "").strip()
