"""matching.waves: the escalation policy table by severity, as configured."""
from __future__ import annotations

from datetime import timedelta

import pytest

from solidarity.matching.waves import max_waves, wave_interval, wave_size


@pytest.mark.parametrize(("severity", "interval"), [
    (4, timedelta(minutes=10)), (3, timedelta(hours=1)), (2, timedelta(hours=6)), (1, timedelta(hours=24))])
def test_defaults_by_severity(app, severity, interval):
    assert (wave_size(severity), wave_interval(severity), max_waves(severity)) == (3, interval, 3)


def test_a_table_from_the_environment_has_string_keys_and_seconds(app, monkeypatch):
    monkeypatch.setitem(app.config, "ESCALATION_POLICY", {"4": {"wave_size": 2, "interval": 5, "max_waves": 2}})
    assert (wave_size(4), wave_interval(4), max_waves(4)) == (2, timedelta(seconds=5), 2)


def test_a_missing_severity_is_named(app, monkeypatch):
    monkeypatch.setitem(app.config, "ESCALATION_POLICY", {4: {"wave_size": 3, "interval": 60, "max_waves": 3}})
    with pytest.raises(LookupError, match="severity 2"):
        wave_size(2)


@pytest.mark.parametrize(("entry", "call", "name"), [
    ({"wave_size": 0}, wave_size, "wave_size"),
    ({"wave_size": True}, wave_size, "wave_size"),
    ({"max_waves": "3"}, max_waves, "max_waves"),
    ({"interval": 0}, wave_interval, "interval"),
    ({"interval": timedelta(minutes=-1)}, wave_interval, "interval"),
    ({}, wave_interval, "interval"),
])
def test_a_bad_value_is_named(app, monkeypatch, entry, call, name):
    monkeypatch.setitem(app.config, "ESCALATION_POLICY", {3: entry})
    with pytest.raises(ValueError, match=name):
        call(3)
