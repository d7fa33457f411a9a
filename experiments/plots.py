"""The plots of a Sobol or Morris experiment's report, and the frame every figure of the reports is drawn in.

The plots: the outputs over time with a line and a 95% band per design, a radar of the final markers per
design, bar charts of the indices per base scenario, and heatmaps of normalised indices (for docs). The
frame: a matplotlib figure without pyplot (:func:`_figure`), its PNG bytes (:func:`_png`), a colour per
design (:func:`_colours`) and the designs in their order (:func:`_designs`), shared with the grid
experiment's figures (:mod:`experiments.report_figures`) and the dashboard. Every stored name reaches a
figure through :func:`experiments.untrusted.plot_label`.
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

import numpy as np
from coprod.experiments.stored_runs import Runs
from coprod.experiments.summary import _design_order, _sort_key, mean_ci
from coprod.experiments.untrusted import plot_label
from coprod.model import MARKERS


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig, dpi: float | None = None) -> bytes:
    """The figure as PNG bytes (written to a file later, inside the output folder only), at ``dpi``
    (default: the figure's own)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # a stranger's name in a script the font lacks: the glyph is left out, not warned about
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        fig.savefig(buf, format="png", dpi=dpi or "figure")
    return buf.getvalue()


def _nanmean(x: np.ndarray) -> float:
    """The mean of the values that are not NaN; NaN (and no warning) when there are none."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if not len(x):
        return math.nan
    with np.errstate(all="ignore"):
        return float(x.mean())


def _colours(names: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {n: cmap(i % 10) for i, n in enumerate(names)}


def _designs(runs: Runs) -> list[str]:
    order = _design_order(runs)
    return sorted({r["design"] for r in runs.info}, key=lambda d: _sort_key(d, order))


def plot_over_time(runs: Runs, outputs: tuple[str, ...], title: str) -> bytes:
    """One panel per output: the mean over runs of each design, with its 95% confidence band."""
    designs = _designs(runs)
    colours = _colours(designs)
    ncols = min(4, len(outputs))
    nrows = math.ceil(len(outputs) / ncols)
    fig = _figure(3.6 * ncols, 2.8 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax, name in zip(axes.flat, outputs, strict=False):
        for design in designs:
            idx = [i for i, r in enumerate(runs.info) if r["design"] == design]
            stats = np.array([mean_ci(runs.values[name][idx, j]) for j in range(len(runs.steps))])
            ax.plot(
                runs.steps,
                stats[:, 0],
                color=colours[design],
                label=plot_label(design.replace("_", " ")),
                lw=1.6,
            )
            if len(idx) > 1:
                ax.fill_between(runs.steps, stats[:, 1], stats[:, 2], color=colours[design], alpha=0.2, lw=0)
        ax.set_title(name, fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("month")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(designs)), fontsize=9)
    fig.suptitle(title)
    return _png(fig)


def plot_radar(runs: Runs) -> bytes:
    """The final markers per design (means over runs) on one radar."""
    designs = _designs(runs)
    colours = _colours(designs)
    angles = np.linspace(0, 2 * np.pi, len(MARKERS), endpoint=False)
    closed = np.append(angles, angles[0])
    fig = _figure(8.0, 7.6)
    ax = fig.add_subplot(projection="polar")
    finals = {name: runs.final(name) for name in MARKERS}
    for design in designs:
        idx = [i for i, r in enumerate(runs.info) if r["design"] == design]
        means = np.array([_nanmean(finals[name][idx]) for name in MARKERS])
        values = np.append(means, means[0])
        ax.plot(closed, values, color=colours[design], lw=1.8, label=plot_label(design.replace("_", " ")))
        ax.fill(closed, values, color=colours[design], alpha=0.08)
    ax.set_xticks(angles, [m.replace("_", "\n") for m in MARKERS], fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0], ["0.25", "0.5", "0.75", "1"], fontsize=7)
    ax.tick_params(axis="x", pad=14)
    fig.legend(loc="outside lower center", ncols=3, fontsize=9)
    fig.suptitle(f"progress markers at month {int(runs.steps[-1])}, mean per design")
    return _png(fig)


def plot_indices(rows: list[dict], scenario: str, kind: str) -> bytes:
    """Bar charts of the indices of one base scenario: one panel per output."""
    mine = [r for r in rows if r["scenario"] == scenario]
    outputs = list(dict.fromkeys(r["output"] for r in mine))
    factors = list(dict.fromkeys(r["factor"] for r in mine))
    ncols = min(3, len(outputs))
    nrows = math.ceil(len(outputs) / ncols)
    fig = _figure(4.4 * ncols, 0.45 * len(factors) * nrows + 1.4 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    y = np.arange(len(factors))
    bars = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST"))
    if kind == "morris":
        bars = (("mu_star", "mu_star_conf", "mu*"), ("sigma", None, "sigma"))
    for ax, output in zip(axes.flat, outputs, strict=False):
        data = {r["factor"]: r for r in mine if r["output"] == output}
        for k, (col, conf, label) in enumerate(bars):
            vals = np.array([data[f][col] for f in factors])
            err = np.array([data[f][conf] for f in factors]) if conf else None
            ax.barh(y + (k - 0.5) * 0.38, vals, height=0.38, xerr=err, label=label, capsize=2)
        ax.set_yticks(y, [plot_label(f) for f in factors], fontsize=8)
        ax.set_title(output, fontsize=10)
        ax.axvline(0, color="black", lw=0.6)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].invert_yaxis()  # shared by all panels: the first factor on top
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    fig.suptitle(
        f"{'Sobol' if kind == 'sobol' else 'Morris'} indices at the final month: {plot_label(scenario)}"
    )
    return _png(fig)


def plot_heatmap(panels: list[tuple[str, list[dict], str]]) -> bytes:
    """Heatmaps of normalised indices, one panel per ``(title, rows of one base scenario, kind)``: outputs
    down, factors (or groups) across. Morris: mu* over the output's largest mu* (1: the factor that matters
    most for that output); Sobol: the total index ST. A cell whose index is below the output's replication
    noise (mu* < noise_mu_star; ST < noise_share) is marked with a dot: not distinguishable from zero."""
    widths = [max(3.0, 0.55 * len({r["factor"] for r in rows}) + 2.4) for _, rows, _ in panels]
    height = max(3.0, 0.42 * max(len({r["output"] for r in rows}) for _, rows, _ in panels) + 2.6)
    fig = _figure(sum(widths) + 0.8, height)
    axes = fig.subplots(1, len(panels), squeeze=False, width_ratios=widths)[0]
    image = None
    for ax, (title, rows, kind) in zip(axes, panels, strict=True):
        outputs = list(dict.fromkeys(r["output"] for r in rows))
        factors = list(dict.fromkeys(r["factor"] for r in rows))
        grid = np.full((len(outputs), len(factors)), np.nan)
        below = np.zeros(grid.shape, dtype=bool)
        for r in rows:
            i, j = outputs.index(r["output"]), factors.index(r["factor"])
            if kind == "morris":
                top = max(q["mu_star"] for q in rows if q["output"] == r["output"])
                grid[i, j] = r["mu_star"] / top if top > 0 else 0.0
                below[i, j] = r.get("noise_mu_star", math.nan) > r["mu_star"]
            else:
                grid[i, j] = r["ST"]
                below[i, j] = r.get("noise_share", math.nan) > r["ST"]
        image = ax.imshow(np.clip(grid, 0, 1), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            if math.isfinite(v):
                colour = "black" if v > 0.6 else "white"
                ax.text(
                    j,
                    i,
                    f"{v:.2f}" + (" \u00b7" if below[i, j] else ""),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=colour,
                )
        ax.set_xticks(
            range(len(factors)), [plot_label(f) for f in factors], rotation=45, ha="right", fontsize=8
        )
        ax.set_yticks(range(len(outputs)), [plot_label(o) for o in outputs], fontsize=8)
        ax.set_title(plot_label(title), fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="mu* / largest mu* (Morris); ST (Sobol)")
    fig.suptitle("Sensitivity at the final month (\u00b7 below the replication noise)", fontsize=10)
    return _png(fig)
