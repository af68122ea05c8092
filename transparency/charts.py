"""Geometry for the dashboard's small SVG charts, computed on the server.

No chart library and no script: templates draw these rectangles and labels as inline SVG
with presentation attributes and CSS classes (the strict CSP forbids style attributes).
The viewBox is narrow (a phone's width), so the charts scale up on a desktop and never
shrink text below a readable size on a phone. Every chart is paired with a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 340


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass
class Text:
    x: float
    y: float
    text: str
    css: str = ""
    anchor: str = "start"


@dataclass
class Chart:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def short_number(n: int) -> str:
    """1234 -> "1.2k", 12345 -> "12k": column labels stay narrow; tables give exact counts."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{round(n / 1000):,}k"


def _scale(value: float, biggest: float, room: float) -> float:
    if biggest <= 0 or value <= 0:
        return 0.0
    return max(2.0, round(value / biggest * room, 1))  # a non-zero value stays visible


def bars(rows: list[tuple[str, int, str]], *, width: int = WIDTH) -> Chart:
    """Horizontal bars, one per (label, value, css class): the label on its own line above
    the bar (long labels fit a phone), the value at the bar's end."""
    row_height, bar_height, value_room = 40, 14, 56
    chart = Chart(width=width, height=max(row_height * len(rows), row_height))
    biggest = max((value for _, value, _ in rows), default=0)
    for i, (label, value, css) in enumerate(rows):
        top = i * row_height
        length = _scale(value, biggest, width - value_room)
        chart.texts.append(Text(0, top + 13, label, "chart-label"))
        chart.rects.append(Rect(0, top + 19, length, bar_height, css))
        chart.texts.append(Text(length + 6, top + 31, f"{value:,}", "chart-value"))
    return chart


def columns(
    buckets: list[tuple[str, dict[str, int]]],
    series: list[tuple[str, str]],
    *,
    width: int = WIDTH,
    height: int = 170,
) -> Chart:
    """Stacked columns, one per (short label, {series key: value}), oldest first. `series`
    gives the stacking order as (key, css class)."""
    left, bottom, top_room = 4, 22, 18
    chart = Chart(width=width, height=height)
    room = height - bottom - top_room
    base = height - bottom
    slot = (width - left) / max(len(buckets), 1)
    bar = max(4.0, round(slot * 0.62, 1))
    biggest = max((sum(values.values()) for _, values in buckets), default=0)
    chart.lines.append((left, base, width, base))
    for i, (label, values) in enumerate(buckets):
        x = round(left + i * slot + (slot - bar) / 2, 1)
        y: float = base
        for key, css in series:
            h = _scale(values.get(key, 0), biggest, room)
            if h:
                y -= h
                chart.rects.append(Rect(x, round(y, 1), bar, h, css))
        total = sum(values.values())
        centre = round(x + bar / 2, 1)
        if total:
            chart.texts.append(
                Text(centre, round(y - 4, 1), short_number(total), "chart-value", "middle")
            )
        chart.texts.append(Text(centre, height - 6, label, "chart-axis", "middle"))
    return chart
