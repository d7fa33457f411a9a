"""Read an experiment back from the results database: summaries, sensitivity indices, plots, one report.

``coprod analyze --db PATH [--experiment NAME] [--out DIR]`` writes, into ``DIR`` (default
``results/<experiment>/``):

- ``summary.csv`` and ``summary.md``: per design and theory of change (and per value of any other listed
  factor), the mean and the t-based 95% confidence interval over replications, at the final step, of every
  output in :data:`model.OUTPUTS`;
- for a grid (or Latin hypercube) experiment, the question "which design, under which theory of change,
  does best?" answered: a ranked forest plot per output that has a better direction
  (``forest_OUTPUT.png``, the best cell marked where its interval clears the next best's), the outputs
  over time with one panel per theory and a line and band per design (``over_time_GROUP.png``), a radar
  of the final markers per theory (``radar_markers.png``), and on the terminal a short ranked summary of
  the key outputs in 100 columns (:mod:`experiments.report_page`, :mod:`experiments.report_ranking`,
  :mod:`experiments.report_figures`; names and directions from :mod:`experiments.report_labels`);
- for Sobol and Morris experiments, as before: ``sensitivity.csv`` and ``sensitivity.md``, SALib's
  first-order and total indices with their confidence intervals (S1, ST), or Morris's mu* (with its
  interval) and sigma, per base scenario, for each of the experiment's ``outputs`` at the final step
  (replications averaged); PNG plots of the markers over time with a 95% band per design, the consensus
  bias and the qualities over time, a radar of the final markers per design, and bar charts of the
  indices; the headline outputs' table on the terminal;
- ``report.html``: one self-contained page (images inlined) with the tables, the plots and the experiment's
  definition.

Only runs with status ``done`` enter the numbers; the report says how many there are of how many planned.

A results file may come from someone else, so nothing in it is trusted:

- every stored text is escaped where it is written, and every file is written inside the output folder
  (``--out``, or ``results/``; one folder per experiment when there are several) under a safe name, never
  through a link: see :mod:`experiments.untrusted`.
- a value the analysis computes with that is not what it must be is refused in one line, exit 2
  (:class:`experiments.store.StoreError`), before anything is written; it is never skipped: an output
  that is not a number (``DB: runs 'KEY': output NAME is not a number (got 'abc')``) or not finite, a step
  that is not a whole number from 0 to the longest run allowed, ``params`` that is not a JSON object, a
  definition that is not JSON or whose sampler, factors, scenarios, outputs, root seed or run count have
  the wrong shape, text that is not UTF-8. Texts that are only shown (the description, the replications,
  the status and error of a run) are shown as they are, escaped. A finite number too large to average
  gives ``inf`` or ``nan`` in the tables, without a warning; a done run with no steps counts with no
  values; indices that SALib refuses to compute are left out with a note, as is a sampled design larger
  than the runs recorded.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import difflib
import html
import io
import json
import math
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from coprod.experiments.store import StoreError, design_position
from coprod.experiments.untrusted import (
    check_targets,
    csv_cell,
    markdown_cell,
    plain,
    plot_label,
    safe_name,
    shown,
    text,
    write_files,
)
from coprod.model import CONSENSUS, DESCRIPTIONS, MARKERS, OUTPUTS, PARAMETERS, QUALITIES

SUMMARY_OUTPUTS = (*MARKERS, CONSENSUS[0], *QUALITIES)
GROUP_KEYS = ("design.kind", "theory.kind")
RESULTS_DIR = Path("results")
SAMPLER_KINDS = ("grid", "lhs", "sobol", "morris")
MAX_STEP = PARAMETERS["run.steps"].high
MAX_DEPTH = 50  # JSON nesting in a stored definition or params; coprod writes 3 or 4 levels


# ----------------------------------------------------------------------------------- stored values


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite_range(low: Any, high: Any) -> bool:
    return _number(low) and _number(high) and math.isfinite(low) and math.isfinite(high) and low < high


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON data nests deeper than ``limit`` (counted without recursion)."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            v
            for item in level
            if isinstance(item, dict | list)
            for v in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return False
    return True


def _json(raw: Any) -> Any:
    """Parse a stored JSON text; ``ValueError`` for anything that is not JSON, or nests too deep."""
    try:
        data = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        raise ValueError("not JSON") from None
    if _too_deep(data):
        raise ValueError("nested too deep")
    return data


@contextlib.contextmanager
def _reading(path: Any) -> Iterator[None]:
    """Text in the file that is not UTF-8 (SQLite cannot decode it) is the file's fault: one line, exit 2."""
    try:
        yield
    except sqlite3.OperationalError as err:
        if "decode" not in str(err).lower():
            raise
        raise StoreError(f"{path}: cannot be read: {plain(str(err), 100)} (text that is not UTF-8)") from None


def check_definition(where: str, data: Any) -> dict:
    """The stored definition, its shape checked wherever the analysis computes with it.

    Raises :class:`StoreError` ``WHERE: definition: KEY: what is wrong (got VALUE)``. What is only shown
    (the description, the replications, the steps) is left as it is.
    """

    def bad(key: str, what: str, got: Any) -> StoreError:
        return StoreError(f"{where}: definition: {key}: {what} (got {shown(got)})")

    if not isinstance(data, dict):
        raise StoreError(f"{where}: definition is not a JSON object (got {shown(data)})")
    sampler = data.get("sampler", {})
    if not isinstance(sampler, dict):
        raise bad("sampler", "is not a table", sampler)
    kind = sampler.get("kind", "grid")
    if kind not in SAMPLER_KINDS:
        raise bad("sampler.kind", f"unknown sampler, not one of {', '.join(SAMPLER_KINDS)}", kind)
    indices = kind in ("sobol", "morris")
    for key in ("n", "levels"):
        value = sampler.get(key)
        needed = indices and (key == "n" or kind == "morris")
        if (value is not None or needed) and not (_whole(value) and value >= (1 if key == "n" else 2)):
            raise bad(
                f"sampler.{key}", "is not a whole number of at least " + ("1" if key == "n" else "2"), value
            )
    if not isinstance(sampler.get("second_order", False), bool | None):
        raise bad("sampler.second_order", "is not true or false", sampler["second_order"])
    factors = data.get("factors", [])
    if not isinstance(factors, list):
        raise bad("factors", "is not a list", factors)
    if indices and not factors:
        raise bad("factors", f"a {kind} experiment varies at least one factor", factors)
    for i, f in enumerate(factors):
        if not isinstance(f, dict) or not isinstance(f.get("key"), str):
            raise bad(f"factors[{i}]", "is not a table with a text key", f)
        if "values" in f:
            if not isinstance(f["values"], list) or not f["values"]:
                raise bad(f"factors[{i}].values", "is not a list of values", f["values"])
        elif not _finite_range(f.get("low"), f.get("high")):
            raise bad(f"factors[{i}]", "has no values and no finite low < high", f)
        if "group" in f and not isinstance(f["group"], str):
            raise bad(f"factors[{i}].group", "is not a text name", f["group"])
    scenarios = data.get("scenarios", [])
    if not isinstance(scenarios, list):
        raise bad("scenarios", "is not a list", scenarios)
    for i, b in enumerate(scenarios):
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            raise bad(f"scenarios[{i}]", "is not a table with a text name", b)
    outputs = data.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list):
            raise bad("outputs", "is not a list", outputs)
        for name in outputs:
            if not isinstance(name, str) or name not in OUTPUTS:
                raise bad("outputs", "not an output of the model", name)
    seed = data.get("root_seed")
    if indices and not (_whole(seed) and 0 <= seed < 2**63):
        raise bad("root_seed", "is not a whole number from 0 to 2**63 - 1", seed)
    runs = data.get("runs")
    if runs is not None and not (_whole(runs) and runs >= 0):
        raise bad("runs", "is not a whole number", runs)
    return data


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
        if v.shape[1] == 0:
            return np.full(len(v), np.nan)
        last = np.where(~np.isnan(v), np.arange(v.shape[1]), -1).max(axis=1)
        return v[np.arange(len(v)), last]


def load_runs(store, experiment: Any) -> Runs:
    """Read the done runs and their steps of ``experiment`` from a :class:`experiments.store.Store`.

    Everything is checked as it is read (see the module's docstring); :class:`StoreError` says what is
    wrong, in one line.
    """
    with _reading(store.path):
        return _load_runs(store, experiment)


def _load_runs(store, experiment: Any) -> Runs:
    where = f"{store.path}: experiments {shown(text(experiment))}"
    try:
        row = store.experiment(experiment)
    except (ValueError, TypeError, RecursionError):
        raise StoreError(f"{where}: definition is not JSON") from None
    definition = check_definition(where, row["definition"] if row else {})
    if _too_deep(definition):
        raise StoreError(f"{where}: definition nests more than {MAX_DEPTH} levels deep")
    counts: dict[str, int] = {}
    info = []
    for run in store.runs_of(experiment):
        status = text(run["status"])
        counts[status] = counts.get(status, 0) + 1
        if status != "done":
            continue
        key = text(run["run_key"])
        try:
            params = _json(run["params"])
        except ValueError:
            params = None
        if not isinstance(params, dict):
            raise StoreError(
                f"{store.path}: runs {shown(key)}: params is not a JSON object (got {shown(run['params'])})"
            )
        info.append(run_info(key, text(run["scenario"]), params, _position(run, store.path, key)))
    index = {r["run_key"]: i for i, r in enumerate(info)}
    by_run: dict[int, dict[int, dict[str, float]]] = {}
    all_steps: set[int] = set()
    for s in store.steps_of(experiment):
        key = text(s["run_key"])
        i = index.get(key)
        if i is None:
            continue
        step, here = s["step"], f"{store.path}: runs {shown(key)}"
        if not (_whole(step) and 0 <= step <= MAX_STEP):
            raise StoreError(f"{here}: step is not a whole number from 0 to {MAX_STEP} (got {shown(step)})")
        row: dict[str, float] = {}
        for name in OUTPUTS:
            value = s[name]
            if value is None:
                continue
            if not _number(value):
                raise StoreError(
                    f"{store.path}: runs {shown(key)}: output {name} is not a number (got {shown(value)})"
                )
            if not math.isfinite(value):
                raise StoreError(f"{here}: output {name} is not a finite number (got {shown(value)})")
            row[name] = float(value)
        by_run.setdefault(i, {})[step] = row
        all_steps.add(step)
    steps = np.array(sorted(all_steps), dtype=int)
    column = {t: j for j, t in enumerate(steps.tolist())}
    values = {name: np.full((len(info), len(steps)), np.nan) for name in OUTPUTS}
    for i, rows in by_run.items():
        for t, row in rows.items():
            for name, value in row.items():
                values[name][i, column[t]] = value
    return Runs(text(experiment), definition, info, steps, values, counts)


def run_info(
    run_key: str, scenario: str, params: dict[str, Any], position: tuple[Any, Any] = (None, None)
) -> dict[str, Any]:
    """What the analysis needs to know of one run. ``position`` is its ``sample`` and ``replication``
    columns; a file written before them (both None) has them read off the key
    (:func:`experiments.store.design_position`)."""
    sample, rep = position if position != (None, None) else design_position(run_key)
    return {
        "run_key": run_key,
        "scenario": scenario,
        "params": params,
        "design": text(params.get("design.kind", "")),
        "theory": text(params.get("theory.kind", "")),
        "sample": sample,
        "rep": 0 if rep is None else rep,
    }


def _position(run: dict, path: Any, key: str) -> tuple[Any, Any]:
    """The run's ``sample`` and ``replication`` columns, each None or a whole number from 0 to 10**9."""
    found = []
    for column in ("sample", "replication"):
        value = run.get(column)
        if value is not None and not (_whole(value) and 0 <= value <= 10**9):
            raise StoreError(
                f"{path}: runs {shown(key)}: {column} is not a whole number from 0 (got {shown(value)})"
            )
        found.append(None if value is None else int(value))
    return found[0], found[1]


# ----------------------------------------------------------------------------------------- summary


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-based confidence interval (Student's t, n-1 degrees of freedom); NaN when n < 2."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    with np.errstate(all="ignore"):  # a stranger's 1e308 overflows to inf: shown as such, not warned about
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
    if isinstance(value, list):
        return "+".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN is never equal to itself: it would make a group per run
    return value


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
    from coprod.model import DESIGN_PRESETS, THEORY_PRESETS

    names = [*DESIGN_PRESETS, *THEORY_PRESETS]
    for b in runs.definition.get("scenarios", []):
        names.append(b["name"])
    return {n: i for i, n in enumerate(names)}


def _sort_key(value: Any, order: dict[str, int]) -> tuple:
    if isinstance(value, str):
        return (0, order.get(value, len(order)), value)
    return (1, 0, value if value is not None else 0)


def summary_markdown(cols: list[str], rows: list[dict], outputs=SUMMARY_OUTPUTS) -> str:
    head = [markdown_cell(h) for h in (*cols, "n", *outputs)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [markdown_cell(row[c]) for c in cols] + [str(row["n"])]
        cells += [_pm(row[f"{o}_mean"], row[f"{o}_ci_low"], row[f"{o}_ci_high"]) for o in outputs]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pm(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "–"
    if math.isnan(lo):
        return _num(mean)
    return f"{_num(mean)} ± {_num((hi - lo) / 2)}"


def _num(x: float) -> str:
    """Three decimals; a number too large for them (a stranger's 1e308) in scientific notation."""
    return f"{x:.3f}" if not math.isfinite(x) or abs(x) < 1e6 else f"{x:.3e}"


def csv_text(rows: list[dict]) -> str:
    """The rows as CSV (header from the first row), each cell through
    :func:`experiments.untrusted.csv_cell`."""
    if not rows:
        return ""
    f = io.StringIO(newline="")
    writer = csv.writer(f)
    keys = list(rows[0])
    writer.writerow([csv_cell(k) for k in keys])
    for row in rows:
        writer.writerow([csv_cell(row[k]) for k in keys])
    return f.getvalue()


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
    by_point = _finals_by_point(runs, scenario, output, n_samples)
    if len(by_point) < n_samples:
        return None
    return np.array([np.mean(by_point[i]) for i in range(n_samples)])


def _finals_by_point(runs: Runs, scenario: str, output: str, n_samples: int) -> dict[int, list[float]]:
    """The final values of ``output`` of one base scenario's done runs, by sample index."""
    final = runs.final(output)
    by_point: dict[int, list[float]] = {}
    for i, run in enumerate(runs.info):
        sample = run["sample"]
        if (
            run["scenario"] == scenario
            and sample is not None
            and sample < n_samples
            and not math.isnan(final[i])
        ):
            by_point.setdefault(sample, []).append(float(final[i]))
    return by_point


def replication_noise(runs: Runs, scenario: str, output: str, n_samples: int, *, levels: int = 4) -> dict:
    """How much of the sample means is replication noise, for one base scenario and output.

    ``noise_se``: the mean over sample points of the standard error of the replication mean (sd across
    replications / sqrt(R)), in output units; ``noise_mu_star``: the Morris mu* a factor with no effect at
    all would get from that noise alone (an elementary effect is a difference of two point means over the
    step delta = levels / (2 (levels - 1)), and E|N(0, s)| = s sqrt(2 / pi)); ``noise_share``: the share of
    the variance of the point means that is replication noise (mean within-point variance / R over the
    variance of the point means), which a Sobol total index carries for every factor. NaN where fewer than
    two replications of a point are done.
    """
    by_point = _finals_by_point(runs, scenario, output, n_samples)
    se2 = [np.var(v, ddof=1) / len(v) for v in by_point.values() if len(v) >= 2]
    nan = {"noise_se": math.nan, "noise_mu_star": math.nan, "noise_share": math.nan}
    if not se2:
        return nan
    se = [math.sqrt(v) for v in se2]
    means = np.array([np.mean(v) for v in by_point.values()])
    delta = levels / (2 * (levels - 1))
    total = float(np.var(means, ddof=1)) if len(means) > 1 else 0.0
    return {
        "noise_se": float(np.mean(se)),
        "noise_mu_star": float(2 / math.sqrt(math.pi) * math.sqrt(np.mean(se2)) / delta),
        "noise_share": float(np.mean(se2) / total) if total > 0 else math.nan,
    }


def sensitivity(runs: Runs) -> tuple[list[dict], list[str]]:
    """Sobol or Morris indices per base scenario and output (per group when the factors are grouped), each
    row with the output's replication noise beside them (:func:`replication_noise`); the rows and notes on
    what was skipped."""
    from coprod.experiments.design import Factor, Sampler, group_names, problem, run_seed, sample_matrix

    definition = runs.definition
    sampler = Sampler.from_json(definition.get("sampler", {}))
    if sampler.kind not in ("sobol", "morris"):
        return [], []
    factors = tuple(Factor.from_json(f) for f in definition["factors"])
    bases = definition.get("scenarios", [])
    outputs = definition.get("outputs")
    outputs = [CONSENSUS[0], *MARKERS] if outputs is None else outputs
    # never draw a design bigger than the runs there are (a stranger's n = 10**12)
    names = group_names(factors)
    d = len(names)
    per_point = (2 * d + 2 if sampler.second_order else d + 2) if sampler.kind == "sobol" else d + 1
    if sampler.n * per_point > len(runs.info):
        return [], [f"{b['name']}: not every sample point has a done run; no indices yet" for b in bases]
    spec = problem(factors)
    try:
        x = sample_matrix(factors, sampler, definition["root_seed"])
    except (ValueError, RuntimeError) as err:  # SALib refusing a stored design
        return [], [
            f"{b['name']}: SALib could not draw the design ({plain(err, 100)}); no indices" for b in bases
        ]
    seed = run_seed(definition["root_seed"], "analysis") % 2**32
    rows, notes = [], []
    for base in bases:
        for output in outputs:
            y = sample_means(runs, base["name"], output, len(x))
            if y is None:
                notes.append(f"{base['name']}: not every sample point has a done run; no indices yet")
                break
            if np.ptp(y) == 0:
                notes.append(f"{base['name']}: {output} does not vary across the sample; no indices")
                continue
            with np.errstate(all="ignore"), warnings.catch_warnings():
                # SALib's bootstrap can divide by a zero variance in a resample of a near-constant output
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    if sampler.kind == "sobol":
                        ind = sobol_indices(spec, y, second_order=sampler.second_order, seed=seed)
                    else:
                        ind = morris_indices(spec, x, y, levels=sampler.levels or 4, seed=seed)
                except (ValueError, RuntimeError, ZeroDivisionError) as err:  # SALib refusing these numbers
                    notes.append(f"{base['name']}: {output}: SALib computed no indices ({plain(err, 100)})")
                    continue
            noise = replication_noise(runs, base["name"], output, len(x), levels=sampler.levels or 4)
            if sampler.kind == "sobol":
                noise.pop("noise_mu_star")
            for j, name in enumerate(names):
                rows.append(
                    {"scenario": base["name"], "output": output, "factor": name}
                    | {k: float(v[j]) for k, v in ind.items()}
                    | noise
                )
    return rows, notes


NOISE_NOTE = (
    "The noise columns are the output's replication noise, the same in every row of an output: noise_se is "
    "the mean standard error of a sample point's replication mean (output units); noise_mu_star the mu* a "
    "factor with no effect would get from that noise alone (Morris); noise_share the share of the variance "
    "of the point means that is noise, which every Sobol total index ST carries. An index below its noise "
    "(mu* below noise_mu_star, ST below noise_share) is not distinguishable from zero."
)


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
            f"| {markdown_cell(r['scenario'])} | {markdown_cell(r['output'])} | "
            f"{markdown_cell(r['factor'])} | " + " | ".join(_num(r[k]) for k in numbers) + " |"
        )
    if any(k.startswith("noise_") for k in numbers):
        lines += ["", NOISE_NOTE]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- plots


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


@dataclass
class Prepared:
    """Everything analyze writes for one experiment, in memory: ``contents`` maps file name to bytes;
    ``terminal`` is what the command line prints for it (a ranked summary for a grid experiment)."""

    experiment: str
    contents: dict[str, bytes]
    summary_md: str
    sensitivity_md: str
    notes: list[str]
    terminal: str = ""


def analyze(store, experiment: Any, out: Path, root: Path | None = None) -> Analysis:
    """Write every table, plot and the report of ``experiment`` into ``out`` (which is ``root``, or a
    folder right inside it; see :func:`write_files`)."""
    prepared = prepare(store, experiment)
    files = write_files(out, prepared.contents, root)
    return Analysis(
        prepared.experiment, out, prepared.summary_md, prepared.sensitivity_md, files, prepared.notes
    )


def prepare(store, experiment: Any) -> Prepared:
    """Read and check ``experiment``, and make its tables, plots and report, writing nothing."""
    runs = load_runs(store, experiment)
    contents: dict[str, bytes] = {}
    notes: list[str] = []
    planned = runs.definition.get("runs")
    planned = sum(runs.counts.values()) if planned is None else planned
    done = runs.counts.get("done", 0)
    if done < planned:
        notes.append(f"{done} of {planned} planned runs are done; the numbers use those only")

    kind = runs.definition.get("sampler", {}).get("kind", "grid")
    cols, rows = summary(runs, OUTPUTS)
    summary_md = summary_markdown(cols, rows, OUTPUTS)
    contents["summary.csv"] = csv_text(rows).encode()
    contents["summary.md"] = summary_md.encode()
    if kind not in ("sobol", "morris"):  # a study of designs and theories: rank them
        return _prepare_ranked(store, runs, cols, rows, contents, summary_md, notes)
    summary_md = summary_markdown(cols, rows)  # printed: the headline outputs, as before

    sens_rows, sens_notes = sensitivity(runs)
    notes += sens_notes
    sensitivity_md = sensitivity_markdown(sens_rows)
    if sens_rows:
        contents["sensitivity.csv"] = csv_text(sens_rows).encode()
        contents["sensitivity.md"] = sensitivity_md.encode()

    images: list[tuple[str, str]] = []
    if runs.info and len(runs.steps):
        plots = (
            (
                "Progress markers over time",
                "markers_over_time.png",
                lambda: plot_over_time(runs, MARKERS, "progress markers: mean and 95% band per design"),
            ),
            (
                "Consensus bias and the qualities of just coproduction over time",
                "consensus_and_qualities_over_time.png",
                lambda: plot_over_time(
                    runs,
                    (CONSENSUS[0], *QUALITIES),
                    "consensus bias and the three qualities: mean and 95% band per design",
                ),
            ),
            ("Final markers per design", "radar_markers.png", lambda: plot_radar(runs)),
        )
        for title, name, plot in plots:
            contents[name] = plot()
            images.append((title, name))
    for base in dict.fromkeys(r["scenario"] for r in sens_rows):
        name = f"indices_{safe_name(base)}.png"  # the hash in a changed name keeps two bases apart
        contents[name] = plot_indices(sens_rows, base, kind)
        images.append((f"{'Sobol' if kind == 'sobol' else 'Morris'} indices: {base}", name))
        name = f"heatmap_{safe_name(base)}.png"  # a file of its own, for docs; the report has the bars
        mine = [r for r in sens_rows if r["scenario"] == base]
        contents[name] = plot_heatmap([(f"{'Sobol' if kind == 'sobol' else 'Morris'}: {base}", mine, kind)])

    from coprod.experiments.discovery import html_section as discovery_html

    found = discovery_html(store.discoveries(runs.experiment))  # boxes kept by `coprod discover`
    page = _report_html(
        store, runs, cols, rows, sens_rows, kind, [(t, contents[n]) for t, n in images], notes, found
    )
    contents["report.html"] = page.encode()
    return Prepared(runs.experiment, contents, summary_md, sensitivity_md, notes)


def _prepare_ranked(store, runs, cols, rows, contents, summary_md, notes) -> Prepared:
    """A grid (or Latin hypercube) experiment: the ranked report (:mod:`experiments.report_page`) and the
    short ranked summary for the terminal (:mod:`experiments.report_ranking`)."""
    from coprod.experiments import report_page
    from coprod.experiments.discovery import html_section as discovery_html
    from coprod.experiments.hypotheses import evaluate as judge_hypotheses
    from coprod.experiments.hypotheses import html_section as hypotheses_html
    from coprod.experiments.hypotheses import load_hypotheses
    from coprod.experiments.hypotheses import markdown as hypotheses_markdown
    from coprod.experiments.regret import report_parts as regret_parts
    from coprod.experiments.report_ranking import terminal_summary

    ranks = report_page.rankings(cols, rows)
    pngs = report_page.figures(runs, ranks)
    contents.update(pngs)
    answer = report_page.sections(runs, cols, rows, ranks, pngs)
    verdicts, verdict_notes = judge_hypotheses(runs, load_hypotheses())
    if verdicts:  # the theories' stated hypotheses, where the experiment has runs of their theories
        contents["hypotheses.md"] = hypotheses_markdown(verdicts, verdict_notes).encode()
        contents["hypotheses.csv"] = csv_text(verdicts).encode()
        answer += hypotheses_html(verdicts, verdict_notes)
    regret_files, regret_html = regret_parts(runs)  # a crossed experiment of the theories: who wins where
    contents.update(regret_files)
    answer += regret_html
    answer += discovery_html(store.discoveries(runs.experiment))  # boxes kept by `coprod discover`
    answer += report_page.glossary()
    contents["report.html"] = _report_html(store, runs, cols, rows, [], "grid", [], notes, answer).encode()
    month = int(runs.steps[-1]) if len(runs.steps) else "?"
    terminal = terminal_summary(runs.experiment, cols, rows, month) if rows else ""
    return Prepared(runs.experiment, contents, summary_md, "", notes, terminal)


def _report_html(store, runs, cols, rows, sens_rows, kind, images, notes, answer: str = "") -> str:
    """The page: the run's provenance and notes, then ``answer`` (the ranked report of a grid experiment)
    or the summary table, indices and plots, then the experiment's definition."""
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
        f"sampler <b>{e(kind)}</b>, {e(text(d.get('replications', '?')))} replications, root seed "
        f"{e(text(d.get('root_seed', '?')))}, {e(text(d.get('steps') or 'scenario'))} months recorded every "
        f"{e(text(d.get('record_every', 1)))}.</p>",
    ]
    parts += [f"<p class='note'>{e(n)}</p>" for n in notes]
    if answer:
        parts.append(answer)
        return _definition_html(parts, d)
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
        parts.append(f"<p>{e(NOISE_NOTE)}</p>")
        parts.append(_sens_table(sens_rows))
    parts.append("<h2>Plots</h2>")
    for title, png in images:
        data = base64.b64encode(png).decode()
        parts.append(f"<h3>{e(title)}</h3><img alt='{e(title)}' src='data:image/png;base64,{data}'>")
    parts.append("<h2>What the outputs mean</h2><dl>")
    for name in SUMMARY_OUTPUTS:
        parts.append(f"<dt>{e(name)}</dt><dd>{e(DESCRIPTIONS.get(name, ''))}</dd>")
    parts.append("</dl>")
    return _definition_html(parts, d)


def _definition_html(parts: list[str], d: dict) -> str:
    e = html.escape
    parts.append("<h2>Experiment definition</h2>")
    listed = {k: v for k, v in d.items() if k != "scenarios"}
    listed["scenarios"] = [{"name": s["name"], "path": s.get("path")} for s in d.get("scenarios", [])]
    parts.append(f"<pre>{e(json.dumps(listed, indent=2, sort_keys=True), quote=False)}</pre>")
    for s in d.get("scenarios", []):
        parts.append(f"<details><summary>Parameters of base scenario {e(text(s['name']))}</summary>")
        parts.append(f"<pre>{e(json.dumps(s.get('params', {}), indent=2), quote=False)}</pre></details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _summary_table(cols, rows) -> str:
    e = html.escape
    head = "".join(f"<th class='k'>{e(c)}</th>" for c in cols) + "<th>n</th>"
    head += "".join(f"<th>{e(o)}</th>" for o in SUMMARY_OUTPUTS)
    body = []
    for r in rows:
        cells = "".join(f"<td class='k'>{e(text(r[c]))}</td>" for c in cols) + f"<td>{e(text(r['n']))}</td>"
        cells += "".join(
            f"<td>{e(_pm(r[f'{o}_mean'], r[f'{o}_ci_low'], r[f'{o}_ci_high']))}</td>" for o in SUMMARY_OUTPUTS
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _sens_table(rows) -> str:
    e = html.escape
    numbers = [k for k in rows[0] if k not in ("scenario", "output", "factor")]
    head = "".join(f"<th class='k'>{e(k)}</th>" for k in ("scenario", "output", "factor"))
    head += "".join(f"<th>{e(k)}</th>" for k in numbers)
    body = [
        "<tr>"
        + "".join(f"<td class='k'>{e(text(r[k]))}</td>" for k in ("scenario", "output", "factor"))
        + "".join(f"<td>{_num(r[k])}</td>" for k in numbers)
        + "</tr>"
        for r in rows
    ]
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


# -------------------------------------------------------------------------------------- entry point


def main_analyze(args) -> int:
    """``coprod analyze``: print each summary table and the paths of the report and the database."""
    from coprod.experiments.store import Store

    with Store.existing(args.db) as store:
        return _analyze_all(store, args)


def _analyze_all(store, args) -> int:
    """Read, check and prepare every chosen experiment, check every target, then write: a file that is
    refused anywhere leaves nothing written."""
    with _reading(store.path):
        stored = store.experiment_names()
    names = {text(n): n for n in stored}
    if args.experiment is not None:
        if args.experiment not in names:
            guess = difflib.get_close_matches(args.experiment, list(names), n=1)
            held = ", ".join(plain(n, 60) for n in list(names)[:10]) + (", ..." if len(names) > 10 else "")
            hint = f"; did you mean {plain(guess[0], 60)}?" if guess else f"; it holds {held or 'none'}"
            raise StoreError(f"{args.db}: no experiment {shown(args.experiment)}{hint}")
        chosen = [args.experiment]
    else:
        chosen = list(names)
    if not chosen:
        singles = store.db.execute("SELECT count(*) FROM runs").fetchone()[0]
        if singles:  # `coprod run --db` records runs without an experiment definition to analyse
            raise StoreError(
                f"{args.db}: holds {singles} single run{'s' if singles > 1 else ''} recorded by `coprod run "
                "--db` and no experiment; analyze reads experiments from `coprod sweep`. Look at a single "
                f"run with `coprod rerun --db {args.db} RUN_KEY` or in the dashboard's Stored results"
            )
        raise StoreError(f"{args.db}: no experiments recorded (run `coprod sweep` first)")
    root = RESULTS_DIR if args.out is None else Path(args.out)
    folders: dict[str, str] = {}
    plans: list[tuple[str, Path, Prepared]] = []
    for name in chosen:
        if args.out is not None and len(chosen) == 1:
            out = root
        else:
            folder = safe_name(name)
            if folder in folders:  # only a crafted hash collision gets here
                raise StoreError(
                    f"{args.db}: experiments {shown(folders[folder])} and {shown(name)} would share the "
                    f"folder {folder}; analyse them one at a time with --experiment and --out"
                )
            folders[folder] = name
            out = root / folder
        plans.append((name, out, prepare(store, names[name])))
    for _, out, prepared in plans:
        check_targets(out, list(prepared.contents), root)
    for name, out, prepared in plans:
        files = write_files(out, prepared.contents, root)
        result = Analysis(name, out, prepared.summary_md, prepared.sensitivity_md, files, prepared.notes)
        if prepared.terminal:
            print(f"\n{prepared.terminal}")
            print(f"every output and cell: {result.out / 'summary.md'}")
        else:
            print(f"\n{plain(name)}: final-step summary (mean ± 95% CI half-width over replications)\n")
            print(result.summary_md)
        if result.sensitivity_md:
            print(f"{plain(name)}: sensitivity indices\n")
            print(result.sensitivity_md)
        for note in result.notes:
            print(f"note: {plain(note, 400)}", file=sys.stderr)
        print(f"report: {result.report}")
        print(f"tables and plots: {result.out}/")
    print(f"database: {args.db}")
    return 0


# check_targets, safe_name and write_files are experiments.untrusted's, imported here and still exported
__all__ = [
    "Analysis",
    "Prepared",
    "Runs",
    "analyze",
    "check_definition",
    "check_targets",
    "csv_text",
    "load_runs",
    "main_analyze",
    "mean_ci",
    "morris_indices",
    "prepare",
    "run_info",
    "safe_name",
    "sample_means",
    "sensitivity",
    "sobol_indices",
    "summary",
    "write_files",
]
