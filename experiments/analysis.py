"""Read an experiment back from the results database: summaries, sensitivity indices, plots, one report.

``coprod analyze --db PATH [--experiment NAME] [--out DIR]`` writes, into ``DIR`` (default
``results/<experiment>/``):

- ``summary.csv`` and ``summary.md``: per design and theory of change (and per value of any other listed
  factor), the mean and the t-based 95% confidence interval over replications, at the final step, of every
  progress marker, ``consensus_bias`` and the three qualities of just coproduction;
- for Sobol and Morris experiments, ``sensitivity.csv`` and ``sensitivity.md``: SALib's first-order and
  total indices with their confidence intervals (S1, ST), or Morris's mu* (with its interval) and sigma,
  per base scenario, for each of the experiment's ``outputs`` at the final step (replications averaged);
- PNG plots: the markers over time with a 95% band per design, the consensus bias and the qualities over
  time, a radar of the final markers per design, and bar charts of the sensitivity indices;
- ``report.html``: one self-contained page (images inlined) with the tables, the plots and the experiment's
  definition.

Only runs with status ``done`` enter the numbers; the report says how many there are of how many planned.
"""

from __future__ import annotations

import base64
import csv
import difflib
import html
import json
import math
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model import CONSENSUS, DESCRIPTIONS, MARKERS, OUTPUTS, QUALITIES

SUMMARY_OUTPUTS = (*MARKERS, CONSENSUS[0], *QUALITIES)
GROUP_KEYS = ("design.kind", "theory.kind")
RESULTS_DIR = Path("results")


# -------------------------------------------------------------------------------------------- data


@dataclass
class Runs:
    """The done runs of one experiment as arrays: ``values[output]`` is (runs x recorded steps)."""

    experiment: str
    definition: dict
    info: list[dict[str, Any]]
    steps: np.ndarray
    values: dict[str, np.ndarray]
    counts: dict[str, int] = field(default_factory=dict)

    def final(self, output: str) -> np.ndarray:
        """Each run's value at its last recorded step."""
        v = self.values[output]
        last = np.where(~np.isnan(v), np.arange(v.shape[1]), -1).max(axis=1)
        return v[np.arange(len(v)), last]


def load_runs(store, experiment: str) -> Runs:
    """Read the done runs and their steps of ``experiment`` from a :class:`experiments.store.Store`."""
    row = store.experiment(experiment)
    definition = row["definition"] if row else {}
    counts: dict[str, int] = {}
    info = []
    for run in store.runs_of(experiment):
        counts[run["status"]] = counts.get(run["status"], 0) + 1
        if run["status"] != "done":
            continue
        info.append(run_info(run["run_key"], run["scenario"], json.loads(run["params"])))
    index = {r["run_key"]: i for i, r in enumerate(info)}
    by_run: dict[int, dict[int, dict]] = {}
    all_steps: set[int] = set()
    for s in store.steps_of(experiment):
        i = index.get(s["run_key"])
        if i is not None:
            by_run.setdefault(i, {})[s["step"]] = s
            all_steps.add(s["step"])
    steps = np.array(sorted(all_steps), dtype=int)
    column = {t: j for j, t in enumerate(steps.tolist())}
    values = {name: np.full((len(info), len(steps)), np.nan) for name in OUTPUTS}
    for i, rows in by_run.items():
        for t, s in rows.items():
            for name in OUTPUTS:
                if s[name] is not None:
                    values[name][i, column[t]] = s[name]
    return Runs(experiment, definition, info, steps, values, counts)


def run_info(run_key: str, scenario: str, params: dict[str, Any]) -> dict[str, Any]:
    """What the analysis needs to know of one run; the sample index and replication come from its key
    (see :func:`experiments.design.run_key`)."""
    sample = re.search(r"/sample=(\d+)(/|$)", run_key)
    rep = re.search(r"/rep=(\d+)$", run_key)
    return {
        "run_key": run_key,
        "scenario": scenario,
        "params": params,
        "design": params.get("design.kind", ""),
        "theory": params.get("theory.kind", ""),
        "sample": int(sample.group(1)) if sample else None,
        "rep": int(rep.group(1)) if rep else 0,
    }


# ----------------------------------------------------------------------------------------- summary


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-based confidence interval (Student's t, n-1 degrees of freedom); NaN when n < 2."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def group_columns(runs: Runs) -> list[str]:
    """Design and theory, then any other listed factor of a grid experiment, then the base scenario
    where its name does not already say the design."""
    cols = ["design", "theory"]
    definition = runs.definition
    if definition.get("sampler", {}).get("kind", "grid") == "grid":
        for f in definition.get("factors", []):
            if "values" in f and f["key"] not in GROUP_KEYS:
                cols.append(f["key"])
    if any(r["scenario"] != r["design"] for r in runs.info):
        cols.insert(0, "scenario")
    return cols


def _cell(run: dict, col: str) -> Any:
    if col in ("design", "theory", "scenario"):
        return run[col]
    value = run["params"].get(col)
    return "+".join(map(str, value)) if isinstance(value, list) else value


def summary(runs: Runs, outputs=SUMMARY_OUTPUTS) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per group: its columns, ``n``, and per output ``mean``, ``ci_low``, ``ci_high``."""
    cols = group_columns(runs)
    groups: dict[tuple, list[int]] = {}
    for i, run in enumerate(runs.info):
        groups.setdefault(tuple(_cell(run, c) for c in cols), []).append(i)
    order = _design_order(runs)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(_sort_key(v, order) for v in k)):
        idx = groups[key]
        row: dict[str, Any] = dict(zip(cols, key, strict=True))
        row["n"] = len(idx)
        for name in outputs:
            mean, lo, hi = mean_ci(runs.final(name)[idx])
            row[f"{name}_mean"], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = mean, lo, hi
        rows.append(row)
    return cols, rows


def _design_order(runs: Runs) -> dict[str, int]:
    from model import DESIGN_PRESETS, THEORY_PRESETS

    names = [*DESIGN_PRESETS, *THEORY_PRESETS]
    for b in runs.definition.get("scenarios", []):
        names.append(b["name"])
    return {n: i for i, n in enumerate(names)}


def _sort_key(value: Any, order: dict[str, int]) -> tuple:
    if isinstance(value, str):
        return (0, order.get(value, len(order)), value)
    return (1, 0, value if value is not None else 0)


def summary_markdown(cols: list[str], rows: list[dict], outputs=SUMMARY_OUTPUTS) -> str:
    head = [*cols, "n", *outputs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(row[c]) for c in cols] + [str(row["n"])]
        cells += [_pm(row[f"{o}_mean"], row[f"{o}_ci_low"], row[f"{o}_ci_high"]) for o in outputs]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pm(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "–"
    if math.isnan(lo):
        return f"{mean:.3f}"
    return f"{mean:.3f} ± {(hi - lo) / 2:.3f}"


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            )


# ------------------------------------------------------------------------------------- sensitivity


def sobol_indices(problem: dict, y: np.ndarray, *, second_order: bool = False, seed: int = 0) -> dict:
    """First-order and total Sobol indices with 95% confidence intervals (SALib, Saltelli/Jansen)."""
    from SALib.analyze import sobol

    result = sobol.analyze(problem, np.asarray(y, dtype=float), calc_second_order=second_order, seed=seed)
    return {k: np.asarray(result[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}


def morris_indices(problem: dict, x: np.ndarray, y: np.ndarray, *, levels: int = 4, seed: int = 0) -> dict:
    """Morris elementary effects: mu* with its 95% interval, mu and sigma (SALib)."""
    from SALib.analyze import morris

    result = morris.analyze(problem, x, np.asarray(y, dtype=float), num_levels=levels, seed=seed)
    return {k: np.asarray(result[k], dtype=float) for k in ("mu_star", "mu_star_conf", "mu", "sigma")}


def sample_means(runs: Runs, scenario: str, output: str, n_samples: int) -> np.ndarray | None:
    """The final value of ``output`` per sample index of one base scenario, replications averaged;
    None unless every sample has at least one done run (the estimators need the whole design)."""
    sums, counts = np.zeros(n_samples), np.zeros(n_samples)
    final = runs.final(output)
    for i, run in enumerate(runs.info):
        if run["scenario"] == scenario and run["sample"] is not None and not math.isnan(final[i]):
            sums[run["sample"]] += final[i]
            counts[run["sample"]] += 1
    if (counts == 0).any():
        return None
    return sums / counts


def sensitivity(runs: Runs) -> tuple[list[dict], list[str]]:
    """Sobol or Morris indices per base scenario and output; the rows and notes on what was skipped."""
    from experiments.design import Factor, Sampler, problem, run_seed, sample_matrix

    definition = runs.definition
    sampler = Sampler.from_json(definition.get("sampler", {}))
    if sampler.kind not in ("sobol", "morris"):
        return [], []
    factors = tuple(Factor.from_json(f) for f in definition["factors"])
    spec = problem(factors)
    x = sample_matrix(factors, sampler, definition["root_seed"])
    seed = run_seed(definition["root_seed"], "analysis") % 2**32
    rows, notes = [], []
    for base in definition["scenarios"]:
        for output in definition.get("outputs", [CONSENSUS[0], *MARKERS]):
            y = sample_means(runs, base["name"], output, len(x))
            if y is None:
                notes.append(f"{base['name']}: not every sample point has a done run; no indices yet")
                break
            if np.ptp(y) == 0:
                notes.append(f"{base['name']}: {output} does not vary across the sample; no indices")
                continue
            with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                # SALib's bootstrap can divide by a zero variance in a resample of a near-constant output
                warnings.simplefilter("ignore", RuntimeWarning)
                if sampler.kind == "sobol":
                    ind = sobol_indices(spec, y, second_order=sampler.second_order, seed=seed)
                else:
                    ind = morris_indices(spec, x, y, levels=sampler.levels or 4, seed=seed)
            for j, f in enumerate(factors):
                rows.append(
                    {"scenario": base["name"], "output": output, "factor": f.key}
                    | {k: float(v[j]) for k, v in ind.items()}
                )
    return rows, notes


def sensitivity_markdown(rows: list[dict]) -> str:
    if not rows:
        return ""
    numbers = [k for k in rows[0] if k not in ("scenario", "output", "factor")]
    lines = [
        "| scenario | output | factor | " + " | ".join(numbers) + " |",
        "|" + "---|" * (3 + len(numbers)),
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['output']} | {r['factor']} | "
            + " | ".join(f"{r[k]:.3f}" for k in numbers)
            + " |"
        )
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- plots


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _colours(names: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {n: cmap(i % 10) for i, n in enumerate(names)}


def _designs(runs: Runs) -> list[str]:
    order = _design_order(runs)
    return sorted({r["design"] for r in runs.info}, key=lambda d: _sort_key(d, order))


def plot_over_time(runs: Runs, outputs: tuple[str, ...], path: Path, title: str) -> Path:
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
            ax.plot(runs.steps, stats[:, 0], color=colours[design], label=design.replace("_", " "), lw=1.6)
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
    fig.savefig(path)
    return path


def plot_radar(runs: Runs, path: Path) -> Path:
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
        means = np.array([np.nanmean(finals[name][idx]) for name in MARKERS])
        values = np.append(means, means[0])
        ax.plot(closed, values, color=colours[design], lw=1.8, label=design.replace("_", " "))
        ax.fill(closed, values, color=colours[design], alpha=0.08)
    ax.set_xticks(angles, [m.replace("_", "\n") for m in MARKERS], fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0], ["0.25", "0.5", "0.75", "1"], fontsize=7)
    ax.tick_params(axis="x", pad=14)
    fig.legend(loc="outside lower center", ncols=3, fontsize=9)
    fig.suptitle(f"progress markers at month {int(runs.steps[-1])}, mean per design")
    fig.savefig(path)
    return path


def plot_indices(rows: list[dict], scenario: str, kind: str, path: Path) -> Path:
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
        ax.set_yticks(y, factors, fontsize=8)
        ax.set_title(output, fontsize=10)
        ax.axvline(0, color="black", lw=0.6)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].invert_yaxis()  # shared by all panels: the first factor on top
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    fig.suptitle(f"{'Sobol' if kind == 'sobol' else 'Morris'} indices at the final month: {scenario}")
    fig.savefig(path)
    return path


# ------------------------------------------------------------------------------------------- report


@dataclass
class Analysis:
    experiment: str
    out: Path
    summary_md: str
    sensitivity_md: str
    files: list[Path]
    notes: list[str]

    @property
    def report(self) -> Path:
        return self.out / "report.html"


def analyze(store, experiment: str, out: Path) -> Analysis:
    """Write every table, plot and the report of ``experiment`` into ``out``."""
    runs = load_runs(store, experiment)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    notes: list[str] = []
    planned = runs.definition.get("runs", sum(runs.counts.values()))
    done = runs.counts.get("done", 0)
    if done < planned:
        notes.append(f"{done} of {planned} planned runs are done; the numbers use those only")

    cols, rows = summary(runs)
    summary_md = summary_markdown(cols, rows)
    write_csv(out / "summary.csv", rows)
    (out / "summary.md").write_text(summary_md)
    files += [out / "summary.csv", out / "summary.md"]

    kind = runs.definition.get("sampler", {}).get("kind", "grid")
    sens_rows, sens_notes = sensitivity(runs)
    notes += sens_notes
    sensitivity_md = sensitivity_markdown(sens_rows)
    if sens_rows:
        write_csv(out / "sensitivity.csv", sens_rows)
        (out / "sensitivity.md").write_text(sensitivity_md)
        files += [out / "sensitivity.csv", out / "sensitivity.md"]

    images: list[tuple[str, Path]] = []
    if runs.info:
        images.append(
            (
                "Progress markers over time",
                plot_over_time(
                    runs,
                    MARKERS,
                    out / "markers_over_time.png",
                    "progress markers: mean and 95% band per design",
                ),
            )
        )
        images.append(
            (
                "Consensus bias and the qualities of just coproduction over time",
                plot_over_time(
                    runs,
                    (CONSENSUS[0], *QUALITIES),
                    out / "consensus_and_qualities_over_time.png",
                    "consensus bias and the three qualities: mean and 95% band per design",
                ),
            )
        )
        images.append(("Final markers per design", plot_radar(runs, out / "radar_markers.png")))
    for base in dict.fromkeys(r["scenario"] for r in sens_rows):
        path = plot_indices(sens_rows, base, kind, out / f"indices_{base}.png")
        images.append((f"{'Sobol' if kind == 'sobol' else 'Morris'} indices: {base}", path))
    files += [p for _, p in images]

    (out / "report.html").write_text(_report_html(store, runs, cols, rows, sens_rows, kind, images, notes))
    files.append(out / "report.html")
    return Analysis(experiment, out, summary_md, sensitivity_md, files, notes)


def _report_html(store, runs, cols, rows, sens_rows, kind, images, notes) -> str:
    e = html.escape
    d = runs.definition
    counts = ", ".join(f"{v} {k}" for k, v in sorted(runs.counts.items())) or "no runs"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(runs.experiment)}: coproduction-abm report</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;"
        "color:#222}table{border-collapse:collapse;font-size:.8rem;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.25rem .45rem;text-align:right}th{background:#f3f3f3}td.k,th.k{text-align:left}"
        "img{max-width:100%;border:1px solid #eee;margin:.5rem 0}pre{background:#f7f7f7;padding:1rem;"
        "overflow:auto;font-size:.8rem}.note{color:#8a4b00}dt{font-weight:600}</style></head><body>",
        f"<h1>{e(runs.experiment)}</h1>",
        f"<p>{e(d.get('description', ''))}</p>",
        f"<p>Database <code>{e(str(store.path))}</code>; runs: {e(counts)}; "
        f"sampler <b>{e(kind)}</b>, {d.get('replications', '?')} replications, root seed "
        f"{d.get('root_seed', '?')}, {d.get('steps') or 'scenario'} months recorded every "
        f"{d.get('record_every', 1)}.</p>",
    ]
    parts += [f"<p class='note'>{e(n)}</p>" for n in notes]
    parts.append("<h2>Summary at the final step</h2>")
    parts.append("<p>Mean and 95% confidence interval (Student's t over replications) per group.</p>")
    parts.append(_summary_table(cols, rows))
    if sens_rows:
        parts.append(f"<h2>{'Sobol' if kind == 'sobol' else 'Morris'} sensitivity indices</h2>")
        parts.append(
            "<p>At the final step, replications averaged per sample point. Every run has its own seed, so "
            "run-to-run noise enters the indices as if it were interaction: total indices far above the "
            "first-order ones for every factor (and summing past 1) mean noise, not structure; more "
            "replications average it out.</p>"
        )
        parts.append(_sens_table(sens_rows))
    parts.append("<h2>Plots</h2>")
    for title, path in images:
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<h3>{e(title)}</h3><img alt='{e(title)}' src='data:image/png;base64,{data}'>")
    parts.append("<h2>What the outputs mean</h2><dl>")
    for name in SUMMARY_OUTPUTS:
        parts.append(f"<dt>{e(name)}</dt><dd>{e(DESCRIPTIONS.get(name, ''))}</dd>")
    parts.append("</dl><h2>Experiment definition</h2>")
    shown = {k: v for k, v in d.items() if k != "scenarios"}
    shown["scenarios"] = [{"name": s["name"], "path": s.get("path")} for s in d.get("scenarios", [])]
    parts.append(f"<pre>{e(json.dumps(shown, indent=2, sort_keys=True), quote=False)}</pre>")
    for s in d.get("scenarios", []):
        parts.append(f"<details><summary>Parameters of base scenario {e(s['name'])}</summary>")
        parts.append(f"<pre>{e(json.dumps(s.get('params', {}), indent=2), quote=False)}</pre></details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _summary_table(cols, rows) -> str:
    e = html.escape
    head = "".join(f"<th class='k'>{e(c)}</th>" for c in cols) + "<th>n</th>"
    head += "".join(f"<th>{e(o)}</th>" for o in SUMMARY_OUTPUTS)
    body = []
    for r in rows:
        cells = "".join(f"<td class='k'>{e(str(r[c]))}</td>" for c in cols) + f"<td>{r['n']}</td>"
        cells += "".join(
            f"<td>{e(_pm(r[f'{o}_mean'], r[f'{o}_ci_low'], r[f'{o}_ci_high']))}</td>" for o in SUMMARY_OUTPUTS
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _sens_table(rows) -> str:
    e = html.escape
    numbers = [k for k in rows[0] if k not in ("scenario", "output", "factor")]
    head = "".join(f"<th class='k'>{k}</th>" for k in ("scenario", "output", "factor"))
    head += "".join(f"<th>{e(k)}</th>" for k in numbers)
    body = [
        "<tr>"
        + "".join(f"<td class='k'>{e(str(r[k]))}</td>" for k in ("scenario", "output", "factor"))
        + "".join(f"<td>{r[k]:.3f}</td>" for k in numbers)
        + "</tr>"
        for r in rows
    ]
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


# -------------------------------------------------------------------------------------- entry point


def main_analyze(args) -> int:
    """``coprod analyze``: print each summary table and the paths of the report and the database."""
    from experiments.store import Store

    with Store.existing(args.db) as store:
        return _analyze_all(store, args)


def _analyze_all(store, args) -> int:
    from experiments.store import StoreError

    names = store.experiment_names()
    if args.experiment is not None:
        if args.experiment not in names:
            guess = difflib.get_close_matches(args.experiment, names, n=1)
            hint = f"; did you mean {guess[0]}?" if guess else f"; it holds {', '.join(names) or 'none'}"
            raise StoreError(f"{args.db}: no experiment {args.experiment!r}{hint}")
        names = [args.experiment]
    if not names:
        raise StoreError(f"{args.db}: no experiments recorded (run `coprod sweep` first)")
    for name in names:
        if args.out is None:
            out = RESULTS_DIR / name
        else:
            out = Path(args.out) if len(names) == 1 else Path(args.out) / name
        result = analyze(store, name, out)
        print(f"\n{name}: final-step summary (mean ± 95% CI half-width over replications)\n")
        print(result.summary_md)
        if result.sensitivity_md:
            print(f"{name}: sensitivity indices\n")
            print(result.sensitivity_md)
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"report: {result.report}")
        print(f"tables and plots: {result.out}/")
    print(f"database: {args.db}")
    return 0


__all__ = [
    "Analysis",
    "Runs",
    "analyze",
    "load_runs",
    "main_analyze",
    "mean_ci",
    "morris_indices",
    "run_info",
    "sample_means",
    "sensitivity",
    "sobol_indices",
    "summary",
]
