"""The wave policy by severity: how many organisations to ask at once, how long to wait, how often.

Read from settings()["ESCALATION_POLICY"] (documented in config/default.py) on every call, so a
test or an operator changing the table takes effect without a restart. Pure otherwise.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from solidarity.extensions import settings


def _entry(severity: int) -> Mapping[str, Any]:
    policy = settings()["ESCALATION_POLICY"]
    # Set from the environment the table is JSON, whose keys are strings.
    entry = policy.get(severity, policy.get(str(severity)))
    if entry is None:
        raise LookupError(f"ESCALATION_POLICY has no entry for severity {severity!r}")
    return entry


def _positive_int(severity: int, name: str) -> int:
    value = _entry(severity).get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"ESCALATION_POLICY[{severity}][{name!r}] must be a whole number of at least 1, "
                         f"not {value!r}")
    return value


def wave_size(severity: int) -> int:
    """How many organisations one wave asks for one need."""
    return _positive_int(severity, "wave_size")


def max_waves(severity: int) -> int:
    """How many waves go out for a need before the coordinators are alerted."""
    return _positive_int(severity, "max_waves")


def wave_interval(severity: int) -> timedelta:
    """How long a wave waits for an acceptance before the next one opens."""
    value = _entry(severity).get("interval")
    interval = value if isinstance(value, timedelta) else (
        timedelta(seconds=value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None)
    if interval is None or interval <= timedelta(0):
        raise ValueError(f"ESCALATION_POLICY[{severity}]['interval'] must be a positive timedelta or "
                         f"number of seconds, not {value!r}")
    return interval
