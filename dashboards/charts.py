"""The dashboard's pictures as small SVG documents, written directly.

A matplotlib figure of eight small panels took over 400 ms to draw here, which would stall a run playing at
ten months a second; these take about a millisecond, so the page can redraw them while a run plays. Every
label carries a ``<title>``: hovering it in the browser shows the plain-language explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from coprod.dashboards.runs import NetworkPicture
from coprod.dashboards.words import (
    CHANGE_WITHIN,
    HIGHER_IS_BETTER,
    KINDS,
    LABELS,
    MARGINALISED_COLOUR,
    SPOKES,
    explain,
    good_news,
    number,
)
from coprod.model import MARKERS

SETUP_COLOURS = ("#1f77b4", "#d62728")  # set-up A, set-up B
START_COLOUR = "#888888"
GRID = "#dddddd"
FONT = "font-family: Roboto, Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Trace:
    """One set-up's outputs over time: its name, its months, its values (month 0 first) and colour."""

    name: str
    months: np.ndarray
    series: dict[str, np.ndarray]
    colour: str


def trace(name: str, series: dict[str, np.ndarray], colour: str) -> Trace:
    """A trace recorded every month from month 0."""
    length = len(next(iter(series.values()))) if series else 0
    return Trace(name, np.arange(length), series, colour)


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'aria-label="{escape(label)}" style="width:100%;max-width:{width:g}px;height:auto;{FONT}">'
        + "".join(body)
        + "</svg>"
    )


def _points(xs: np.ndarray, ys: np.ndarray) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def radar(traces: Sequence[Trace], *, with_start: bool) -> str:
    """The eight progress markers on a radar: each trace now and, for one set-up, where it started."""
    size, radius = 420, 130
    cx, cy = size / 2, size / 2 + 10
    angles = np.pi / 2 - np.linspace(0, 2 * np.pi, len(MARKERS), endpoint=False)
    ux, uy = np.cos(angles), -np.sin(angles)
    body = []
    for level in (0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<polygon points="{_points(cx + radius * level * ux, cy + radius * level * uy)}" '
            f'fill="none" stroke="{GRID}"/>'
        )
    for level in (0.5, 1.0):
        body.append(
            f'<text x="{cx + 3:.1f}" y="{cy - radius * level - 2:.1f}" font-size="9" fill="#999">'
            f"{number(level)}</text>"
        )
    for marker, x, y in zip(MARKERS, ux, uy, strict=True):
        body.append(
            f'<line x1="{cx}" y1="{cy}" x2="{cx + radius * x:.1f}" y2="{cy + radius * y:.1f}" '
            f'stroke="{GRID}"/>'
        )
        anchor = "middle" if abs(x) < 0.3 else ("start" if x > 0 else "end")
        lines = SPOKES[marker].split("\n")
        tx, ty = cx + (radius + 12) * x, cy + (radius + 14) * y - 6 * (len(lines) - 1) + 4
        spans = "".join(
            f'<tspan x="{tx:.1f}" dy="{0 if i == 0 else 12}">{escape(t)}</tspan>' for i, t in enumerate(lines)
        )
        body.append(
            f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="11" text-anchor="{anchor}" fill="#333">'
            f"<title>{escape(LABELS[marker])}: {escape(explain(marker))}</title>{spans}</text>"
        )

    def polygon(values: np.ndarray, colour: str, *, dashed: bool, name: str) -> str:
        xs, ys = cx + radius * values * ux, cy + radius * values * uy
        dash = ' stroke-dasharray="5,4" fill="none"' if dashed else f' fill="{colour}" fill-opacity="0.15"'
        dots = (
            ""
            if dashed
            else "".join(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
                for x, y in zip(xs, ys, strict=True)
            )
        )
        return (
            f'<g class="radar-{escape(name)}"><polygon points="{_points(xs, ys)}" stroke="{colour}" '
            f'stroke-width="2"{dash}/>{dots}</g>'
        )

    legend = []
    if with_start and traces:
        start = np.array([traces[0].series[m][0] for m in MARKERS])
        body.append(polygon(np.clip(start, 0, 1), START_COLOUR, dashed=True, name="start"))
        legend.append(("at the start", START_COLOUR, True))
    for t in traces:
        now = np.array([t.series[m][-1] for m in MARKERS])
        body.append(polygon(np.clip(now, 0, 1), t.colour, dashed=False, name="now"))
        legend.append(("now" if with_start else t.name, t.colour, False))
    for i, (name, colour, dashed) in enumerate(legend):
        y = 14 + 16 * i
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        body.append(
            f'<line x1="6" y1="{y}" x2="26" y2="{y}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="30" y="{y + 4}" font-size="11" fill="#333">{escape(name)}</text>'
        )
    return _svg(size, size + 20, body, "Progress markers, radar")


def marker_lines(traces: Sequence[Trace], horizon: int, names: Sequence[str] = MARKERS) -> str:
    """One small panel per output (the progress markers unless told), each set-up a line, months along
    the bottom."""
    cols, panel_w, panel_h, pad_l, pad_t, gap = 4, 200, 92, 30, 20, 14
    rows = (len(names) + cols - 1) // cols
    legend_h = 18 * len(traces) + 4 if len(traces) > 1 else 0
    width = cols * (pad_l + panel_w + gap)
    height = rows * (pad_t + panel_h + 20) + legend_h
    horizon = max(int(horizon), 1)
    body = []
    for i, marker in enumerate(names):
        x0 = (i % cols) * (pad_l + panel_w + gap) + pad_l
        y0 = (i // cols) * (pad_t + panel_h + 20) + pad_t
        body.append(
            f'<text x="{x0}" y="{y0 - 6}" font-size="11" fill="#333">'
            f"<title>{escape(explain(marker))}</title>{escape(LABELS[marker])}</text>"
            f'<rect x="{x0}" y="{y0}" width="{panel_w}" height="{panel_h}" fill="none" stroke="{GRID}"/>'
            f'<line x1="{x0}" y1="{y0 + panel_h / 2}" x2="{x0 + panel_w}" y2="{y0 + panel_h / 2}" '
            f'stroke="{GRID}" stroke-dasharray="2,3"/>'
            f'<text x="{x0 - 4}" y="{y0 + 4}" font-size="9" fill="#999" text-anchor="end">{number(1)}</text>'
            f'<text x="{x0 - 4}" y="{y0 + panel_h}" font-size="9" fill="#999" text-anchor="end">'
            f"{number(0)}</text>"
            f'<text x="{x0}" y="{y0 + panel_h + 12}" font-size="9" fill="#999">0</text>'
            f'<text x="{x0 + panel_w}" y="{y0 + panel_h + 12}" font-size="9" fill="#999" '
            f'text-anchor="end">month {horizon}</text>'
        )
        for t in traces:
            values = np.clip(np.asarray(t.series[marker], dtype=float), 0, 1)
            xs = x0 + panel_w * np.minimum(t.months, horizon) / horizon
            ys = y0 + panel_h * (1 - values)
            body.append(
                f'<polyline class="line-{escape(marker)}" points="{_points(xs, ys)}" fill="none" '
                f'stroke="{t.colour}" stroke-width="1.8"/>'
            )
    if legend_h:
        for j, t in enumerate(traces):
            x, y = pad_l, height - legend_h + 14 + 18 * j
            body.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 20}" y2="{y - 4}" stroke="{t.colour}" '
                f'stroke-width="2"/>'
                f'<text x="{x + 24}" y="{y}" font-size="11" fill="#333">{escape(t.name)}</text>'
            )
    return _svg(width, height, body, "Outputs over time")


def network(picture: NetworkPicture, ties: np.ndarray, taking_part: np.ndarray) -> str:
    """Actors coloured by kind at their fixed positions; this month's participants ringed in black."""
    size, margin, legend_h = 420, 12, 40
    xy = np.asarray(picture.xy, dtype=float)
    low, high = xy.min(axis=0), xy.max(axis=0)
    scale = (size - 2 * margin) / max(float((high - low).max()), 1e-9)
    px = margin + (xy - low) * scale
    body = []
    if len(ties):
        segments = px[ties]
        path = "".join(f"M{a[0]:.1f} {a[1]:.1f}L{b[0]:.1f} {b[1]:.1f}" for a, b in segments)
        body.append(
            f'<path d="{path}" stroke="#bbbbbb" stroke-width="0.5" stroke-opacity="0.7" fill="none"/>'
        )
    colours = np.array([colour for _, colour in KINDS], dtype=object)[picture.kind]
    colours[picture.marginalised] = MARGINALISED_COLOUR
    radii = np.where(picture.kind == 0, 2.6, 5.0)
    order = np.argsort(picture.kind != 0, kind="stable")  # residents first, the few others on top
    for i in order:
        ring = ' stroke="black" stroke-width="1.2"' if taking_part[i] else ""
        body.append(
            f'<circle cx="{px[i, 0]:.1f}" cy="{px[i, 1]:.1f}" r="{radii[i]}" fill="{colours[i]}"{ring}/>'
        )
    items = [(name, colour) for name, colour in KINDS]
    items.insert(1, ("Marginalised residents", MARGINALISED_COLOUR))
    for j, (name, colour) in enumerate([*items, ("Taking part this month", "white")]):
        x, y = 8 + (j % 3) * 140, size + 12 + 16 * (j // 3)
        ring = ' stroke="black" stroke-width="1.2"' if colour == "white" else ""
        body.append(
            f'<circle cx="{x}" cy="{y - 4}" r="4.5" fill="{colour}"{ring}/>'
            f'<text x="{x + 9}" y="{y}" font-size="11" fill="#333">{escape(name)}</text>'
        )
    return _svg(size, size + legend_h, body, "Network of actors")


def plot_frame(left: float, top: float, width: float, height: float) -> list[str]:
    """The frame of a 0..1 plot: its box and dashed grid lines at every quarter, labelled on the left."""
    body = [f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="{GRID}"/>']
    for level in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + height * (1 - level)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-dasharray="2,3"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="9" fill="#999" text-anchor="end">'
            f"{number(level)}</text>"
        )
    return body


def over_time(traces: Sequence[Trace], horizon: int, name: str) -> str:
    """One output over the months, one line per set-up, wide enough to read from the back of a room."""
    width, height, pad_l, pad_r, pad_t, pad_b = 440, 150, 34, 10, 8, 22
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    horizon = max(int(horizon), 1)
    body = plot_frame(pad_l, pad_t, plot_w, plot_h)
    body.append(
        f'<text x="{pad_l}" y="{height - 6}" font-size="9" fill="#999">month 0</text>'
        f'<text x="{pad_l + plot_w}" y="{height - 6}" font-size="9" fill="#999" text-anchor="end">'
        f"month {horizon}</text>"
    )
    for t in traces:
        values = np.clip(np.asarray(t.series[name], dtype=float), 0, 1)
        xs = pad_l + plot_w * np.minimum(t.months, horizon) / horizon
        ys = pad_t + plot_h * (1 - values)
        body.append(
            f'<polyline class="line-{escape(name)}" points="{_points(xs, ys)}" fill="none" '
            f'stroke="{t.colour}" stroke-width="2.2"><title>{escape(t.name)}</title></polyline>'
        )
    return _svg(width, height, body, f"{LABELS[name]} over time")


def indicator_rows(
    outputs: Sequence[dict[str, float]], names: Sequence[str], starts: Sequence[dict[str, float]] = ()
) -> str:
    """One HTML row per output: its name with an info tip, a bar per set-up, and the numbers."""
    rows = []
    for name in names:
        bars = "".join(
            f'<div class="bar"><div style="width:{100 * min(max(values[name], 0.0), 1.0):.1f}%;'
            f'background:{SETUP_COLOURS[i]}"></div></div>'
            for i, values in enumerate(outputs)
        )
        rows.append(
            f'<div class="indicator-row indicator-{name}"><div class="indicator-name">{escape(LABELS[name])}'
            f'<span class="tip mdi mdi-information-outline" data-tip="{escape(explain(name))}"></span></div>'
            f'<div class="indicator-bars">{bars}</div>'
            f'<div class="indicator-value">{_numbers(name, outputs, starts)}</div></div>'
        )
    return "".join(rows)


# How a change is drawn: its colour class and the words a hover (and a screen reader) gives.
NEWS = {True: ("better", "better"), False: ("worse", "worse"), None: ("neutral", "no judgement")}


def change_arrow(name: str, change: float) -> str:
    """An arrow for a change since the start, green when it is good news for this output, red when bad,
    grey when there is no change or the output does not judge (``words.HIGHER_IS_BETTER``)."""
    arrow = "↑" if change >= CHANGE_WITHIN else ("↓" if change <= -CHANGE_WITHIN else "→")
    news = good_news(name, change)
    css, words = NEWS[news]
    higher = HIGHER_IS_BETTER.get(name)
    way = "" if higher is None else (" (higher is better)" if higher else " (lower is better)")
    if news is None and arrow == "→":
        words = "no change"
    return f'<span class="change {css}" title="{escape(words + way)}">{arrow}</span>'


def _numbers(name: str, outputs: Sequence[dict[str, float]], starts: Sequence[dict[str, float]]) -> str:
    """The numbers after a bar, as HTML: now with a coloured arrow from the start, or A vs B."""
    if len(outputs) == 1 and starts:
        now, start = outputs[0][name], starts[0][name]
        return f"{number(now)} ({change_arrow(name, now - start)} from {number(start)})"
    return " vs ".join(number(values[name]) for values in outputs)
