"""Whose views moved: the views of each group of actors over the months of a run, as a small SVG.

Drawn the way ``dashboards/charts.py`` draws its charts (its frame, grid, fonts and helpers), from the opinion
quantiles a run's story keeps (:class:`coprod.story.Story`): for each group, the median view as a line and
the middle half of the group's views (25th to 75th percentile) as a shaded band. The two groups consensus
bias compares (``story.MARKED``: marginalised residents and officials) are drawn heavier, on top, and in
bold in the legend, so a room can see whether they converged and whose view moved to meet the other's.
Every constant here is a presentation choice; none changes what is drawn from.
"""

from __future__ import annotations

from html import escape

import numpy as np
from coprod.dashboards.charts import _points, _svg, plot_frame
from coprod.dashboards.words import KINDS, MARGINALISED_COLOUR, number

from coprod.story import GROUP_WORDS, GROUPS, MARKED, QUANTILES

# Each group in the colour the network picture gives its actors (words.KINDS), so the two pictures agree.
GROUP_COLOURS = {
    "marginalised": MARGINALISED_COLOUR,
    "other_residents": KINDS[0][1],
    "officials": KINDS[1][1],
    "academics": KINDS[2][1],
    "groups": KINDS[3][1],
}
# The groups' names as the page shows them (the story's words, capitalised like words.KINDS).
GROUP_NAMES = {name: words[0].upper() + words[1:] for name, words in GROUP_WORDS.items()}
# The band: from the 25th to the 75th percentile (the middle half of a group); the line: the median.
BAND = (QUANTILES.index(0.25), QUANTILES.index(0.75))
MEDIAN = QUANTILES.index(0.5)
# The chart's box in pixels: as wide as one of two cards side by side on a 1280-pixel screen.
WIDTH, PAD_L, PAD_R, PAD_T, PLOT_H, PAD_B = 460, 34, 10, 8, 190, 22
# The legend under the plot: two columns, one row of this height per two groups.
LEGEND_COLUMNS, LEGEND_ROW = 2, 17
# How heavy a group is drawn: (line width, band opacity, dot radius) for the marked groups and the others.
MARKED_STYLE = (2.8, 0.22, 3.5)
OTHER_STYLE = (1.4, 0.09, 2.5)
EMPTY = "No views yet"


def thinned(n: int, most: int) -> np.ndarray:
    """Which of ``n`` months to draw: all of them up to ``most``, else ``most`` evenly spread ones, the
    first and the last always (a line has no more points than the plot has pixels across, so a long run's
    chart is no heavier to send and redraw than a short one's)."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))


def opinion_chart(months: np.ndarray, quantiles: np.ndarray, horizon: int) -> str:
    """Views by group over the months so far: ``months`` (month 0 first) and ``quantiles`` (months, groups,
    quantiles), as ``Story.quantiles()`` gives them; months run along the bottom to ``horizon``.

    One ``<g class="opinion-series">`` per group of ``story.GROUPS`` (class ``marked`` for those in
    ``story.MARKED``), each with its band, its median line and a dot at the latest month; a group with
    nobody in it keeps its (empty) series and says so in the legend."""
    months = np.asarray(months, dtype=float)
    quantiles = np.asarray(quantiles, dtype=float)
    horizon = max(int(horizon), 1)
    plot_w = WIDTH - PAD_L - PAD_R
    drawn = thinned(len(months), plot_w)  # at most one month per pixel across
    months, quantiles = months[drawn], quantiles[drawn] if len(quantiles) else quantiles
    legend_top = PAD_T + PLOT_H + PAD_B + 6
    height = legend_top + LEGEND_ROW * -(-len(GROUPS) // LEGEND_COLUMNS)
    body = plot_frame(PAD_L, PAD_T, plot_w, PLOT_H)
    body.append(
        f'<text x="{PAD_L + 4}" y="{PAD_T + 11}" font-size="9" fill="#999">radical change</text>'
        f'<text x="{PAD_L + 4}" y="{PAD_T + PLOT_H - 4}" font-size="9" fill="#999">no change needed</text>'
        f'<text x="{PAD_L}" y="{PAD_T + PLOT_H + 14}" font-size="9" fill="#999">month 0</text>'
        f'<text x="{PAD_L + plot_w}" y="{PAD_T + PLOT_H + 14}" font-size="9" fill="#999" '
        f'text-anchor="end">month {horizon}</text>'
    )
    if len(months) == 0:
        body.append(
            f'<text x="{PAD_L + plot_w / 2:.1f}" y="{PAD_T + PLOT_H / 2:.1f}" font-size="11" fill="#999" '
            f'text-anchor="middle">{EMPTY}</text>'
        )
    xs = PAD_L + plot_w * np.minimum(months, horizon) / horizon
    order = [g for g, name in enumerate(GROUPS) if name not in MARKED] + [
        g for g, name in enumerate(GROUPS) if name in MARKED
    ]  # the marked groups last, so on top
    for g in order:
        body.append(_series(GROUPS[g], xs, quantiles[:, g] if len(months) else np.zeros((0, len(QUANTILES)))))
    for i, name in enumerate(GROUPS):
        body.append(_legend_item(i, name, legend_top, empty=bool(len(months)) and _empty(quantiles[:, i])))
    return _svg(WIDTH, height, body, "Views by group over time")


def _empty(q: np.ndarray) -> bool:
    """Whether a group had nobody in it (its quantiles are all ``nan``)."""
    return bool(np.isnan(q).all())


def _series(name: str, xs: np.ndarray, q: np.ndarray) -> str:
    """One group: its band, its median line and a dot at the latest month, with a hover text."""
    marked = name in MARKED
    width, opacity, radius = MARKED_STYLE if marked else OTHER_STYLE
    colour = GROUP_COLOURS[name]
    parts = []
    if len(q) and not _empty(q):
        ys = PAD_T + PLOT_H * (1 - np.clip(q, 0, 1))
        low, high, median = ys[:, BAND[0]], ys[:, BAND[1]], ys[:, MEDIAN]
        band = _points(np.concatenate([xs, xs[::-1]]), np.concatenate([high, low[::-1]]))
        tip = (
            f"{GROUP_NAMES[name]}: median view {number(q[-1, MEDIAN])} now "
            f"({number(q[0, MEDIAN])} at the start); the middle half from {number(q[-1, BAND[0]])} "
            f"to {number(q[-1, BAND[1]])}"
        )
        parts = [
            f"<title>{escape(tip)}</title>",
            f'<polygon class="opinion-band" points="{band}" fill="{colour}" fill-opacity="{opacity}" '
            f'stroke="none"/>',
            f'<polyline class="opinion-median" points="{_points(xs, median)}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}" stroke-linejoin="round"/>',
            f'<circle cx="{xs[-1]:.1f}" cy="{median[-1]:.1f}" r="{radius}" fill="{colour}"/>',
        ]
    classes = f"opinion-series opinion-{name}" + (" marked" if marked else "")
    return f'<g class="{classes}" data-group="{name}">{"".join(parts)}</g>'


def _legend_item(i: int, name: str, top: float, *, empty: bool) -> str:
    marked = name in MARKED
    width, opacity, _ = MARKED_STYLE if marked else OTHER_STYLE
    colour = GROUP_COLOURS[name]
    column_w = (WIDTH - PAD_L) / LEGEND_COLUMNS
    x, y = PAD_L + (i % LEGEND_COLUMNS) * column_w, top + LEGEND_ROW * (i // LEGEND_COLUMNS) + 10
    weight = ' font-weight="700"' if marked else ""
    words = GROUP_NAMES[name] + (" (none in this run)" if empty else "")
    return (
        f'<g class="opinion-legend{" marked" if marked else ""}">'
        f'<rect x="{x:.1f}" y="{y - 9}" width="22" height="10" fill="{colour}" fill-opacity="{opacity}"/>'
        f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 22:.1f}" y2="{y - 4}" stroke="{colour}" '
        f'stroke-width="{width}"/>'
        f'<text x="{x + 27:.1f}" y="{y}" font-size="11" fill="#333"{weight}>{escape(words)}</text></g>'
    )
