"""Plain words for the internal keys pages would otherwise show: statuses, timeline kinds, rounds of
requests. One place, registered as template filters (`|status_label` ...); every string here is a
whole phrase, ready for gettext."""
from __future__ import annotations

from flask import Flask

from solidarity.playbook.models import THREAT_LABELS

STATUS = {"open": "Open", "responding": "Being helped", "resolved": "Resolved", "closed": "Closed",
          "withdrawn": "Withdrawn"}
# The button that moves a case there ("Mark resolved" reads as a command; these say what happens).
STATUS_ACTION = {"open": "Reopen", "responding": "Mark as being helped", "resolved": "Mark as resolved",
                 "closed": "Close the case", "withdrawn": "Withdraw the case"}
MATCH_STATUS = {"proposed": "Not asked yet", "notified": "Asked, waiting for an answer", "accepted": "Accepted",
                "declined": "Declined", "expired": "No answer in time", "completed": "Helped",
                "handed_back": "Handed back"}
NEED_STATE = {"seeking": "asking responders", "covered": "someone is coming", "exhausted": "no one accepted"}
TIMELINE = {
    "filed": "Report filed", "matched": "Responders chosen", "notified": "Requests sent",
    "wave": "Next round of requests", "accepted": "Request accepted", "declined": "Request declined",
    "exhausted": "No one left to ask", "covered": "Help is coming", "handed_back": "A responder handed the case back",
    "need_added": "Help asked for", "need_removed": "Help no longer needed", "note": "Update",
    "status": "Status changed", "reviewed": "Review written", "coordinators_alerted": "Coordinators alerted",
    "checkin_requested": "Safety check-ins set up", "checkin_due": "Check-in reminder sent",
    "checkin_missed": "Check-in missed", "checkin_confirmed": "Check-in confirmed",
    "checkin_stopped": "Safety check-ins stopped",
}
CHECKIN_STATE = {"active": "Running", "missed": "Missed", "stopped": "Stopped"}
VETTING = {"applied": "Applying", "vetted": "Vetted", "suspended": "Suspended", "rejected": "Rejected"}
VIEWER = {"coordinator": "Coordinator", "reporter": "Reporting organisation", "accepted": "Helping",
          "asked": "Asked to help"}
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _plain(key: object) -> str:
    # A key added later without a label still reads as words, never as "some_key".
    return str(key or "").replace("_", " ").capitalize()


def _value(key: object) -> str:
    if not key:  # None, "", or a field this viewer is not shown (Jinja's Undefined)
        return ""
    return str(getattr(key, "value", key))


def status_label(key: object) -> str:
    return STATUS.get(_value(key)) or _plain(_value(key))  # "" for a case whose status this viewer is not shown


def status_action(key: object) -> str:
    return STATUS_ACTION.get(_value(key)) or _plain(_value(key))


def match_status_label(key: object) -> str:
    return MATCH_STATUS.get(_value(key)) or _plain(_value(key))


def need_state_label(key: object) -> str:
    return NEED_STATE.get(_value(key)) or _plain(_value(key)).lower()


def timeline_label(key: object) -> str:
    return TIMELINE.get(_value(key)) or _plain(_value(key))


def threat_label(key: object) -> str:
    return THREAT_LABELS.get(_value(key)) or _plain(_value(key))


def checkin_state_label(key: object) -> str:
    return CHECKIN_STATE.get(_value(key)) or _plain(_value(key))


def vetting_label(key: object) -> str:
    return VETTING.get(_value(key)) or _plain(_value(key))


def viewer_label(key: object) -> str:
    return VIEWER.get(_value(key)) or _plain(_value(key))


def wave_label(number: object) -> str:
    """1 -> "first round of requests"."""
    try:
        n = int(number)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return f"{ORDINALS[n - 1]} round of requests" if 1 <= n <= len(ORDINALS) else f"round {n} of requests"


def init_app(app: Flask) -> None:
    for f in (status_label, status_action, match_status_label, need_state_label, timeline_label, threat_label,
              viewer_label, wave_label, checkin_state_label, vetting_label):
        app.add_template_filter(f)
