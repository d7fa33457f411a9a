"""The figures that answer "which design, under which theory of change, does best": a ranked forest plot
per output, the outputs over time split by theory (small multiples), and the final markers per theory.

Every stored name reaches a figure through :func:`experiments.untrusted.plot_label` (printable, ``$``
escaped); a value that is not a finite number is left out of a figure, never drawn.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from coprod.experiments.plots import _colours, _designs, _figure, _png
from coprod.experiments.report_labels import direction, label, value_label
from coprod.experiments.report_ranking import Ranking
from coprod.experiments.stored_runs import Runs
from coprod.experiments.summary import _design_order, _sort_key, mean_ci
from coprod.experiments.untrusted import plot_label
from coprod.model import MARKERS

DPI = 80  # these figures are many: smaller files, a report that loads quickly
FOREST_ROWS = 40  # cells drawn in one forest plot at most, best first; the page says how many are left out
CLEAR = "#b8860b"  # the clearly best cell's marker and band


def _finite_limits(values: list[float], *, unit: bool = True) -> tuple[float, float] | None:
    """Axis limits around the finite values, with a margin; with ``unit``, [0, 1] where every value lies
    in it."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    if unit and low >= -0.02 and high <= 1.02:
        return -0.02, 1.02
    with np.errstate(all="ignore"):
        pad = (high - low) * 0.05 or abs(high) * 0.05 or 0.05
        limits = (low - pad, high + pad)
    return limits if all(math.isfinite(v) for v in limits) and limits[0] < limits[1] else None


def forest_plot(ranking: Ranking, month: int, colours: dict) -> bytes:
    """The cells of one output, best on top: the mean (a dot) and the 95% CI (a bar), coloured by design.
    The leader's interval is shaded across the plot, so a reader sees which intervals overlap it; a
    clearly best leader is drawn as a star."""
    shown = ranking.cells[:FOREST_ROWS]
    fig = _figure(7.0, 0.22 * max(len(shown), 1) + 1.4)
    ax = fig.add_subplot()
    ax.set_autoscale_on(False)  # the limits are set below; autoscaling every artist is slow
    y = np.arange(len(shown))
    colour = [colours.get(c.design, "grey") for c in shown]
    bars = [i for i, c in enumerate(shown) if c.has_interval]
    ax.hlines(
        [y[i] for i in bars],
        [shown[i].low for i in bars],
        [shown[i].high for i in bars],
        colors=[colour[i] for i in bars],
        lw=2.2,
    )
    first = 1 if ranking.clear else 0  # a clearly best leader is drawn as a star
    ax.scatter(
        [c.mean for c in shown[first:]],
        y[first:],
        s=30,
        c=colour[first:],
        edgecolors="black",
        linewidths=0.5,
        zorder=3,
    )
    if first:
        ax.scatter(
            [shown[0].mean], [0], s=200, marker="*", c=CLEAR, edgecolors="black", linewidths=0.5, zorder=3
        )
    if shown and shown[0].has_interval:
        ax.axvspan(shown[0].low, shown[0].high, color=CLEAR if ranking.clear else "grey", alpha=0.12, lw=0)
    ax.set_yticks(y, [f"{i + 1}. {plot_label(c.short)}" for i, c in enumerate(shown)], fontsize=8)
    ax.set_ylim(len(shown) - 0.5, -0.5)  # the best on top
    limits = _finite_limits([v for c in shown for v in (c.mean, c.low, c.high)], unit=False)
    if limits:
        ax.set_xlim(*limits)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(f"month {month}: mean and 95% CI over replications", fontsize=8)
    verdict = "star: clearly best" if ranking.clear else "no single best (shaded: the leader's CI)"
    ax.set_title(f"{label(ranking.output)}: {direction(ranking.output)}\n{verdict}", fontsize=10)
    return _png(fig, DPI)


def _theories(runs: Runs) -> list[str]:
    order = _design_order(runs)
    return sorted({r["theory"] for r in runs.info}, key=lambda t: _sort_key(t, order))


def _band(runs: Runs, name: str, idx: list[int]) -> np.ndarray:
    """Per recorded step: the mean of ``name`` over the runs ``idx`` and its 95% interval."""
    return np.array([mean_ci(runs.values[name][idx, j]) for j in range(len(runs.steps))])


def over_time_by_theory(runs: Runs, outputs: tuple[str, ...], title: str) -> bytes:
    """Small multiples: a row per output, a panel per theory of change, and in each panel a line (the
    mean) and a 95% band per design. Runs that differ in any other factor are pooled within a design."""
    from matplotlib.ticker import MaxNLocator

    designs, theories = _designs(runs), _theories(runs)
    colours = _colours(designs)
    cells = {
        (d, t): [i for i, r in enumerate(runs.info) if r["design"] == d and r["theory"] == t]
        for d in designs
        for t in theories
    }
    ncols = len(theories)
    width, height = max(6.0, 2.9 * ncols + 1.0), 1.75 * len(outputs) + 1.3
    legend_rows = math.ceil(len(designs) / 3)
    fig = _figure(width, height)
    fig.set_layout_engine(None)  # margins in inches, below: the layout solver doubles the time
    bottom = 0.45 + 0.2 * legend_rows
    fig.subplots_adjust(
        left=1.0 / width,
        right=1 - 0.15 / width,
        top=1 - 0.6 / height,
        bottom=bottom / height,
        hspace=0.12,
        wspace=0.06,
    )
    axes = fig.subplots(len(outputs), ncols, squeeze=False, sharex=True, sharey="row")
    steps = runs.steps
    for row, name in enumerate(outputs):
        bands = {key: _band(runs, name, idx) for key, idx in cells.items() if idx}
        limits = _finite_limits([v for b in bands.values() for v in b.ravel().tolist()])
        for col, theory in enumerate(theories):
            ax = axes[row, col]
            ax.set_autoscale_on(False)  # limits are known: autoscaling every line is most of the time
            ax.set_xlim(float(steps[0]), float(max(steps[-1], steps[0] + 1)))
            if limits:
                ax.set_ylim(*limits)
            for design in designs:
                stats = bands.get((design, theory))
                if stats is None:
                    continue
                ok = np.isfinite(stats[:, 0])
                label_ = plot_label(value_label("design", design))
                ax.plot(steps[ok], stats[ok, 0], color=colours[design], lw=1.4, label=label_)
                band = ok & np.isfinite(stats[:, 1]) & np.isfinite(stats[:, 2])
                if band.any():
                    ax.fill_between(
                        steps[band], stats[band, 1], stats[band, 2], color=colours[design], alpha=0.18, lw=0
                    )
            if row == 0:
                ax.set_title(plot_label(value_label("theory", theory) or "(no theory)"), fontsize=9)
            ax.yaxis.set_major_locator(MaxNLocator(3))
            ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
            ax.tick_params(labelsize=7)
            ax.label_outer()
        axes[row, 0].set_ylabel("\n".join(textwrap.wrap(label(name), 20)), fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("month", fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncols=min(3, len(designs)), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=9)
    return _png(fig, DPI)


def radar_by_theory(runs: Runs) -> bytes:
    """The final markers per design (means over runs), one radar per theory of change."""
    designs, theories = _designs(runs), _theories(runs)
    colours = _colours(designs)
    angles = np.linspace(0, 2 * np.pi, len(MARKERS), endpoint=False)
    closed = np.append(angles, angles[0])
    ncols = min(2, len(theories))
    nrows = math.ceil(len(theories) / ncols)
    fig = _figure(5.0 * ncols, 4.6 * nrows + 0.8)
    finals = {name: runs.final(name) for name in MARKERS}
    for k, theory in enumerate(theories):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection="polar")
        for design in designs:
            idx = [i for i, r in enumerate(runs.info) if r["design"] == design and r["theory"] == theory]
            if not idx:
                continue
            with np.errstate(all="ignore"):
                means = np.array(
                    [
                        np.nanmean(finals[m][idx]) if np.isfinite(finals[m][idx]).any() else 0.0
                        for m in MARKERS
                    ]
                )
            means = np.clip(np.nan_to_num(means, nan=0.0, posinf=1.0, neginf=0.0), 0, 1)
            values = np.append(means, means[0])
            ax.plot(
                closed, values, color=colours[design], lw=1.6, label=plot_label(value_label("design", design))
            )
            ax.fill(closed, values, color=colours[design], alpha=0.06)
        ax.set_xticks(angles, ["\n".join(textwrap.wrap(label(m), 14)) for m in MARKERS], fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_yticks([0.25, 0.5, 0.75, 1.0], ["", "0.5", "", "1"], fontsize=7)
        ax.set_title(plot_label(value_label("theory", theory) or "(no theory)"), fontsize=10, pad=18)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(designs)), fontsize=8)
    fig.suptitle(f"progress markers at month {int(runs.steps[-1])}, mean per design, one radar per theory")
    return _png(fig, DPI)


__all__ = ["forest_plot", "over_time_by_theory", "radar_by_theory"]
