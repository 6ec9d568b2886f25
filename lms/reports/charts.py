"""Charts drawn on the server as plain SVG: no script, no ``<style>``, no ``style=`` attribute
(the Content-Security-Policy forbids inline styles), only presentation attributes.

Right to left: every x position is mirrored and the text's ``direction`` is ``rtl`` (with it,
``text-anchor="start"`` is the right end of the text), so bars grow from the right and time
runs from right to left, as an Arabic reader reads. Each chart is an ``img`` with a title and
a description; the page also gives its numbers as a table for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 560
INK = "#1c2430"
MUTED = "#4f5b6b"
LINE = "#d5dbe5"
BAR = "#0b5cad"
BAR_LOW = "#b34700"
TRACK = "#e8f0fb"
FONT = 17  # read at about 10 px on a phone, where the chart is 330 px wide


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # in the chart's unit (percent for fill rates, children for ages)
    text: str  # the figure written next to the bar
    low: bool = False  # drawn in the warning colour


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None  # percent; None: no lesson counted that week


def _attrs(**attributes) -> str:
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"'
        for name, value in attributes.items()
        if value is not None
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", **attributes) -> str:
    return (
        f"<text {_attrs(x=f'{x:.1f}', y=f'{y:.1f}', text_anchor=anchor, **attributes)}>"
        f"{escape(content)}</text>"
    )


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


class _Canvas:
    def __init__(self, height: float, *, rtl: bool, title: str, description: str, id_: str):
        self.height = height
        self.rtl = rtl
        self.parts: list[str] = []
        self.title = title
        self.description = description
        self.id = id_

    def x(self, value: float) -> float:
        """A logical x (from the start edge) as drawn."""
        return WIDTH - value if self.rtl else value

    def rect(self, start: float, y: float, width: float, height: float, **attributes) -> None:
        """A rectangle from ``start`` (logical) over ``width`` towards the end edge."""
        left = WIDTH - start - width if self.rtl else start
        size = _attrs(
            x=f"{left:.1f}", y=f"{y:.1f}", width=f"{max(width, 0):.1f}", height=f"{height:.1f}"
        )
        self.parts.append(f"<rect {size} {_attrs(**attributes)}/>")

    def text(self, start: float, y: float, content: str, anchor: str = "start", **attrs) -> None:
        self.parts.append(_text(self.x(start), y, content, anchor=anchor, **attrs))

    def line(self, x1: float, y1: float, x2: float, y2: float, **attributes) -> None:
        ends = _attrs(
            x1=f"{self.x(x1):.1f}", y1=f"{y1:.1f}", x2=f"{self.x(x2):.1f}", y2=f"{y2:.1f}"
        )
        self.parts.append(f"<line {ends} {_attrs(**attributes)}/>")

    def svg(self) -> Markup:
        title_id, desc_id = f"{self.id}-title", f"{self.id}-desc"
        head = _attrs(
            xmlns="http://www.w3.org/2000/svg",
            viewBox=f"0 0 {WIDTH} {self.height:.0f}",
            class_="chart",
            role="img",
            aria_labelledby=f"{title_id} {desc_id}",
            direction="rtl" if self.rtl else "ltr",
            font_size=str(FONT),
            fill=INK,
        )
        return Markup(  # noqa: S704 - attributes and texts are escaped as they are written
            f'<svg {head}><title id="{title_id}">{escape(self.title)}</title>'
            f'<desc id="{desc_id}">{escape(self.description)}</desc>'
            + "".join(self.parts)
            + "</svg>"
        )


def horizontal_bars(
    bars: Sequence[Bar],
    *,
    rtl: bool,
    title: str,
    description: str,
    id_: str,
    maximum: float = 100,
) -> Markup:
    """One bar per row (fill rates): the label on a line of its own, then the bar on a pale
    track and the figure. A label has the chart's whole width, so group names are not cut
    short on a phone (two groups of one course then read the same)."""
    row, top = 46, 4
    canvas = _Canvas(top * 2 + row * max(len(bars), 1), rtl=rtl, title=title,
                     description=description, id_=id_)  # fmt: skip
    area = WIDTH - 130
    for index, bar in enumerate(bars):
        y = top + index * row
        canvas.text(0, y + 16, _short(bar.label, 60))
        canvas.rect(0, y + 23, area, 16, fill=TRACK)
        share = min(max(bar.value / maximum, 0), 1) if maximum else 0
        canvas.rect(0, y + 23, area * share, 16, fill=BAR_LOW if bar.low else BAR)
        canvas.text(area + 8, y + 36, bar.text)
    return canvas.svg()


def vertical_bars(
    bars: Sequence[Bar], *, rtl: bool, title: str, description: str, id_: str, axis_label: str
) -> Markup:
    """Columns side by side (children by age), the first at the start edge."""
    height, top, bottom = 220, 24, 40
    canvas = _Canvas(height, rtl=rtl, title=title, description=description, id_=id_)
    plot = height - top - bottom
    biggest = max((bar.value for bar in bars), default=0) or 1
    slot = (WIDTH - 40) / max(len(bars), 1)
    width = min(slot * 0.7, 60)
    canvas.line(20, top + plot, WIDTH - 20, top + plot, stroke=LINE)
    for index, bar in enumerate(bars):
        middle = 20 + slot * index + slot / 2
        size = plot * bar.value / biggest
        canvas.rect(middle - width / 2, top + plot - size, width, size, fill=BAR)
        canvas.text(middle, top + plot - size - 6, bar.text, anchor="middle")
        canvas.text(middle, top + plot + 18, bar.label, anchor="middle")
    canvas.text(WIDTH / 2, height - 4, axis_label, anchor="middle", fill=MUTED)
    return canvas.svg()


def line_chart(
    points: Sequence[Point],
    *,
    rtl: bool,
    title: str,
    description: str,
    id_: str,
    reference: float | None = None,
    reference_label: str = "",
    tick_label: Callable[[float], str] = lambda value: f"{value:g} %",
) -> Markup:
    """A percentage over time (attendance per week), time running in the reading direction."""
    height, top, bottom, start, end = 260, 36, 44, 64, 24
    canvas = _Canvas(height, rtl=rtl, title=title, description=description, id_=id_)
    plot_w, plot_h = WIDTH - start - end, height - top - bottom

    def y_of(value: float) -> float:
        return top + plot_h * (1 - value / 100)

    for tick in (0, 25, 50, 75, 100):
        canvas.line(start, y_of(tick), WIDTH - end, y_of(tick), stroke=LINE)
        canvas.text(start - 6, y_of(tick) + 4, tick_label(tick), anchor="end", fill=MUTED)
    if reference is not None:
        dashed = {"stroke": BAR_LOW, "stroke_dasharray": "6 4", "stroke_width": "1.5"}
        canvas.line(start, y_of(reference), WIDTH - end, y_of(reference), **dashed)
        # Its label is a legend above the plot: written on the line, the points hid it.
        canvas.line(start, 12, start + 28, 12, **dashed)
        canvas.text(start + 36, 17, reference_label, fill=BAR_LOW)
    step = plot_w / max(len(points) - 1, 1)
    every = max(1, -(-len(points) // 6))  # at most six dates under the axis
    drawn: list[tuple[float, float]] = []
    for index, point in enumerate(points):
        x = start + (step * index if len(points) > 1 else plot_w / 2)
        last = index == len(points) - 1
        # A regular date too close to the last one is left out, so that they don't overlap.
        if last or (index % every == 0 and len(points) - 1 - index >= every):
            # The last date ends at its point, so that it stays inside the chart.
            anchor = "end" if last and len(points) > 1 else "middle"
            canvas.text(x, height - bottom + 18, point.label, anchor=anchor, fill=MUTED)
        if point.value is not None:
            drawn.append((canvas.x(x), y_of(point.value)))
    if len(drawn) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in drawn)
        canvas.parts.append(
            f"<polyline {_attrs(points=path, fill='none', stroke=BAR, stroke_width='2.5')}/>"
        )
    for x, y in drawn:
        canvas.parts.append(f"<circle {_attrs(cx=f'{x:.1f}', cy=f'{y:.1f}', r='4', fill=BAR)}/>")
    return canvas.svg()
