"""Server-drawn bar charts: bars scale to the largest total, stack by series, and keep their numbers."""
from __future__ import annotations

from datetime import timedelta

import pytest

from solidarity.web import charts
from solidarity.web.console import duration

PLOT = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH


def test_bars_scale_to_the_largest_total_and_stack_by_series():
    chart = charts.bar_chart("c", "T", "D", [("Jan", {"a": 1, "b": 3}), ("Feb", {"b": 2}), ("Mar", {})],
                             series=["a", "b"])
    jan, feb, mar = chart.bars
    assert [s.series for s in jan.segments] == ["a", "b"] and jan.total == 4
    assert jan.segments[0].x == charts.LABEL_WIDTH and jan.segments[0].width == PLOT / 4
    assert jan.segments[1].x == charts.LABEL_WIDTH + PLOT / 4 and jan.segments[1].width == 3 * PLOT / 4
    assert [(s.series, s.value, s.width) for s in feb.segments] == [("b", 2, PLOT / 2)]
    assert mar.segments == [] and mar.text == "0"
    assert [b.y for b in chart.bars] == [0, charts.STEP, 2 * charts.STEP] and chart.height == 3 * charts.STEP
    assert chart.legend == [("a", charts.PALETTE[0]), ("b", charts.PALETTE[1])]


def test_all_zero_or_no_rows_draw_nothing_and_a_single_series_needs_no_legend():
    assert charts.bar_chart("c", "T", "D", [("x", {"n": 0})], series=["n"]).bars[0].segments == []
    empty = charts.bar_chart("c", "T", "D", [], series=["n"])
    assert empty.bars == [] and empty.legend == [] and empty.height == charts.STEP


def test_long_labels_are_cut_but_kept_whole_for_the_title():
    bar = charts.bar_chart("c", "T", "D", [("Australia and New Zealand", {"n": 1})], series=["n"]).bars[0]
    assert bar.label == "Australia and New Zealand" and bar.short_label == "Australia and New…"
    assert len(bar.short_label) == charts.MAX_LABEL


def test_values_are_written_with_the_given_format():
    bar = charts.bar_chart("c", "T", "D", [("Median", {"h": 1.5})], series=["h"], fmt=lambda h: f"{h} h").bars[0]
    assert bar.text == "1.5 h" and bar.segments[0].text == "1.5 h"


@pytest.mark.parametrize("value, text", [
    (None, "–"), (timedelta(seconds=59), "0 min"), (timedelta(minutes=45), "45 min"),
    (timedelta(hours=3), "3 h"), (timedelta(hours=3, minutes=10), "3 h 10 min"), (7200.0, "2 h"),
    (timedelta(days=2), "2 d"), (timedelta(days=2, hours=5, minutes=59), "2 d 5 h"),
])
def test_durations_read_as_a_coordinator_needs_them(value, text):
    assert duration(value) == text
