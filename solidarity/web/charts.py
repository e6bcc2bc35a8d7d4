"""Horizontal bar charts drawn on the server as SVG.

No script and no style attribute (the CSP forbids both inline), only SVG presentation attributes,
so a chart shows on any browser, without JavaScript, and prints. Bars run sideways because month
and region names stay readable on a phone that way. Each rectangle carries its number in a
<title> (a tooltip, and what a screen reader reads) and in data-* attributes (what tests read);
every chart on a page also has a table with the same numbers next to it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# Okabe and Ito's palette: told apart with the common colour blindnesses, dark enough on white.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")

WIDTH = 320  # viewBox units; the SVG scales to the page's width
LABEL_WIDTH = 104  # row names, right-aligned, left of the bars
VALUE_WIDTH = 52  # the row's total, right of its bar
BAR = 18
STEP = 26  # a bar and the gap below it
MAX_LABEL = 18  # characters; longer names are cut, the full name stays in the <title>


@dataclass(frozen=True)
class Segment:
    series: str
    value: float
    text: str
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    y: float
    total: float
    text: str
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    bars: list[Bar]
    legend: list[tuple[str, str]]  # (series, colour); drawn when there is more than one series
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * STEP

    @property
    def value_x(self) -> float:
        return WIDTH - VALUE_WIDTH + 4


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"


def bar_chart(id: str, title: str, desc: str, rows: Sequence[tuple[str, Mapping[str, float]]], *,
              series: Sequence[str], fmt: Callable[[float], str] = lambda v: f"{v:g}") -> Chart:
    """A chart of one bar per row, stacked by `series` (a missing series is 0), scaled to the largest total."""
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    totals = [sum(values.get(name, 0) for name in series) for _, values in rows]
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    scale = plot / max(totals) if totals and max(totals) > 0 else 0
    bars = []
    for index, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        x, segments = float(LABEL_WIDTH), []
        for name in series:
            value = values.get(name, 0)
            if value:
                segments.append(Segment(name, value, fmt(value), round(x, 2), round(value * scale, 2), colours[name]))
                x += value * scale
        bars.append(Bar(label, _short(label), index * STEP, total, fmt(total), segments))
    return Chart(id, title, desc, bars, list(colours.items()) if len(series) > 1 else [])
