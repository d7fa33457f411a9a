"""Scenario discovery: which ranges of an experiment's uncertain inputs produce an outcome condition.

``coprod discover --db FILE --where CONDITION [--experiment NAME] [--month N] [--out DIR]`` reads the
done runs of one experiment, marks each run that meets ``CONDITION`` (see :mod:`experiments.where`) at
month ``N`` (default: each run's last recorded month), and asks which box of the experiment's factors
holds those runs (Bryant and Lempert 2010, doi:10.1016/j.techfore.2009.08.002):

- the inputs are the experiment's factors as its stored definition lists them (city context, design and
  theory parameters): a number as a float, a choice (``theory.kind``, ``design.kind``) or a list as a
  pandas categorical; with more than one base scenario, the base scenario too (``base_scenario``);
- each run is one row, replications included: a box is judged on what the runs did, noise and all;
- PRIM (Friedman and Fisher 1999) peels the input space, and pastes back, with EMA Workbench's
  :class:`ema_workbench.analysis.prim.Prim`; its peeling trajectory trades coverage (the share of the
  runs meeting the condition that are in the box) against density (the share of the runs in the box that
  meet it); one box on it is chosen by :data:`MIN_COVERAGE` (see :func:`choose_box`) and reported with
  its limits, the quasi-p-value of each restricted limit (a one-sided binomial test of whether the
  restriction raises the density, EMA's ``qp``) and how often each input is restricted when PRIM is
  rerun on half-samples (EMA's ``resample``);
- CART (EMA's :class:`ema_workbench.analysis.cart.CART`, scikit-learn's tree) gives a second view: its
  leaves as rules, each with how many of its runs meet the condition.

It prints the counts, a few rows of the trajectory, the chosen box and the tree's rules, and writes into
``DIR`` (default ``results/<experiment>/discovery/``): ``trajectory.png`` (coverage against density, a
point per box coloured by its number of restricted inputs), ``trajectory.csv``, ``box.csv``,
``tree.txt`` and ``discovery.md``, and keeps the result in the results database (table ``discoveries``,
:func:`to_record`), where ``coprod analyze`` puts it into ``report.html`` (:func:`html_section`) and the
dashboard's stored results show it; the same condition and month found again replaces the older one.

Bad input exits with status 2 and one line, writing nothing: a condition outside the grammar, a month
that was not recorded, an unknown experiment, a results file that is not one; and a condition that no
run meets, or that every run meets, since a box then separates nothing (the line gives the counts).
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import math
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from coprod.experiments.store import StoreError
from coprod.experiments.stored_runs import RESULTS_DIR, Runs, load_runs
from coprod.experiments.untrusted import (
    csv_cell,
    markdown_cell,
    plain,
    plot_label,
    safe_name,
    shown,
    text,
    write_files,
)
from coprod.experiments.where import Condition, parse
from coprod.model import PARAMETERS, Problem, ScenarioError

# The box-selection rule (an assumption, a judgement call in scenario discovery): of the boxes on the
# peeling trajectory that keep at least this share of the runs meeting the condition, the densest; ties
# go to the higher coverage, then to fewer restricted inputs. Bryant and Lempert (2010) leave the choice
# to the analyst; half the cases of interest is the lowest coverage their examples accept.
MIN_COVERAGE = 0.5
# EMA Workbench's defaults for PRIM: the share of the box peeled or pasted per step, and the smallest
# share of all runs a box may hold (Friedman and Fisher 1999 suggest 0.05 to 0.1 for the peeling alpha)
PEEL_ALPHA = 0.05
PASTE_ALPHA = 0.05
MASS_MIN = 0.05
CART_MIN_LEAF = 0.05  # the smallest share of all runs in one leaf of the CART tree (EMA's default)
RESAMPLE_ITERATIONS = 10  # PRIM reruns on random half-samples, for how often each input is restricted
RESAMPLE_SEED = 20240601  # EMA draws the half-samples from numpy's legacy global generator: seeded here
TRAJECTORY_ROWS = 8  # rows of the peeling trajectory shown on the terminal (all of them in the files)
BASE_SCENARIO = "base_scenario"  # the input naming a run's base scenario (PRIM drops a column "scenario")
FILES = ("trajectory.png", "trajectory.csv", "box.csv", "tree.txt", "discovery.md")


@contextlib.contextmanager
def _quiet_ema() -> Iterator[None]:
    """EMA Workbench 2.5 warns at import that its optional ipyparallel evaluator is missing, and PRIM
    calls pandas in ways pandas 3 deprecates; neither concerns the analysis."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        warnings.filterwarnings("ignore", module=r"ema_workbench\.")
        yield


@contextlib.contextmanager
def _seeded_legacy_random(seed: int) -> Iterator[None]:
    """Seed numpy's legacy global generator, which EMA's ``PrimBox.resample`` draws from, so that its
    scores are reproducible; its state is put back afterwards."""
    state = np.random.get_state()  # noqa: NPY002 - EMA 2.5 takes no generator
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


# ------------------------------------------------------------------------------------------ results


@dataclass
class Limit:
    """One input of the chosen box: its limits there and over all runs; for a categorical input, the
    values kept. ``qp_low`` / ``qp_high``: the quasi-p-value of each restricted side (NaN if not)."""

    name: str
    categorical: bool
    restricted: bool
    low: float = math.nan
    high: float = math.nan
    whole_low: float = math.nan
    whole_high: float = math.nan
    values: tuple[str, ...] = ()
    whole_values: tuple[str, ...] = ()
    qp_low: float = math.nan
    qp_high: float = math.nan
    reproduce_coverage: float = math.nan  # % of resampled boxes restricting it, matched on coverage
    reproduce_density: float = math.nan  # the same, matched on density

    def describe(self) -> str:
        """The limit in words, e.g. ``0.31 <= context.inequality <= 0.7`` or ``theory.kind in {a, b}``."""
        if self.categorical:
            return f"{self.name} in {{{', '.join(self.values)}}}"
        low = "" if math.isnan(self.qp_low) else f"{self.low:.3g} <= "
        high = "" if math.isnan(self.qp_high) else f" <= {self.high:.3g}"
        return f"{low}{self.name}{high}" if (low or high) else f"{self.name} (any)"

    def contains(self, column: pd.Series) -> np.ndarray:
        """Which runs lie within this limit (EMA's rule: both ends inclusive)."""
        if self.categorical:
            return column.astype(str).isin(self.values).to_numpy()
        values = column.to_numpy(dtype=float)
        return (values >= self.low) & (values <= self.high)


@dataclass
class Discovery:
    """PRIM's trajectory, the chosen box and CART's rules, for one table of inputs and outcomes."""

    n: int
    meeting: int
    trajectory: pd.DataFrame  # box, coverage, density, mass, res_dim, n, k, restricted
    chosen: int
    limits: list[Limit]
    rules: list[dict[str, Any]]  # CART leaves: conditions, n, k, density, coverage
    tree: str
    notes: list[str] = field(default_factory=list)

    @property
    def box(self) -> pd.Series:
        return self.trajectory.iloc[self.chosen]

    def in_box(self, x: pd.DataFrame) -> np.ndarray:
        """Which rows of ``x`` lie in the chosen box."""
        inside = np.ones(len(x), dtype=bool)
        for limit in self.limits:
            if limit.restricted:
                inside &= limit.contains(x[limit.name])
        return inside


def choose_box(trajectory: pd.DataFrame, min_coverage: float = MIN_COVERAGE) -> int:
    """The box the rule :data:`MIN_COVERAGE` picks: the densest with at least ``min_coverage`` coverage,
    ties to the higher coverage, then to fewer restricted inputs (the whole space, box 0, always
    qualifies)."""
    ok = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    if ok.empty:
        return 0
    order = ok.sort_values(["density", "coverage", "res_dim"], ascending=[False, False, True], kind="stable")
    return int(order.index[0])


def discover(x: pd.DataFrame, y: np.ndarray, *, resamples: int = RESAMPLE_ITERATIONS) -> Discovery:
    """PRIM and CART on ``x`` (one row per run: floats and categoricals) and ``y`` (True where the run
    meets the condition); ``y`` must hold both values. ``resamples``: PRIM reruns on half-samples (0:
    none)."""
    y = np.asarray(y, dtype=bool)
    n, meeting = len(y), int(y.sum())
    if not 0 < meeting < n:
        raise ValueError("PRIM needs runs that meet the condition and runs that do not")
    x = x.reset_index(drop=True)
    with _quiet_ema():
        from ema_workbench.analysis import cart, prim

        # a box is kept when it is denser than all the runs together, which peeling almost always gives
        finder = prim.Prim(
            x,
            y.astype(int),
            threshold=meeting / n,
            peel_alpha=PEEL_ALPHA,
            paste_alpha=PASTE_ALPHA,
            mass_min=MASS_MIN,
        )
        box = finder.find_box()
        trajectory = _trajectory(box)
        chosen = choose_box(trajectory)
        box.select(chosen)
        notes: list[str] = []
        dropped = [c for c in x.columns if c not in finder.x.columns]
        if dropped:
            notes.append(f"inputs with one value only, left out of PRIM: {', '.join(dropped)}")
        scores = _resample(box, chosen, resamples, notes) if resamples else None
        limits = _limits(box, finder, chosen, scores)
        # EMA sizes a leaf as int(mass_min * n): under 20 runs that is 0, which scikit-learn refuses
        tree = cart.CART(x, y.astype(int), mass_min=max(CART_MIN_LEAF, 1.001 / n))
        tree.build_tree()
        rules, tree_text = _rules(tree, y)
    return Discovery(n, meeting, trajectory, chosen, limits, rules, tree_text, notes)


def _trajectory(box) -> pd.DataFrame:
    t = box.peeling_trajectory
    restricted = ["; ".join(sorted(qp)) for qp in box.qp]
    return pd.DataFrame(
        {
            "box": np.arange(len(t)),
            "coverage": t["coverage"].to_numpy(dtype=float),
            "density": t["density"].to_numpy(dtype=float),
            "mass": t["mass"].to_numpy(dtype=float),
            "res_dim": t["res_dim"].to_numpy(dtype=int),
            "n": t["n"].to_numpy(dtype=int),
            "k": t["k"].to_numpy(dtype=int),
            "restricted": restricted,
        }
    )


def _resample(box, chosen: int, iterations: int, notes: list[str]) -> pd.DataFrame | None:
    try:
        with _seeded_legacy_random(RESAMPLE_SEED), np.errstate(all="ignore"):
            return box.resample(chosen, iterations=iterations)
    except (AssertionError, ZeroDivisionError, ValueError, KeyError, IndexError) as err:
        # a half-sample with no run meeting the condition (few runs, a rare condition) stops EMA's PRIM
        notes.append(f"resampling left out: a half-sample PRIM could not peel ({type(err).__name__})")
        return None


def _qp(value: float) -> float:
    return math.nan if value is None or value < 0 else float(value)  # EMA writes -1 for "not restricted"


def _limits(box, finder, chosen: int, scores: pd.DataFrame | None) -> list[Limit]:
    lims, whole, qps = box.box_lims[chosen], finder.box_init, box.qp[chosen]
    categorical = set(finder.x_nominal_columns)
    limits = []
    for name in finder.x.columns:
        qp = qps.get(name, [-1, -1])
        limit = Limit(name=name, categorical=name in categorical, restricted=name in qps)
        if limit.categorical:
            limit.values = tuple(sorted(map(str, lims[name].iloc[0])))
            limit.whole_values = tuple(sorted(map(str, whole[name].iloc[0])))
            limit.qp_low = _qp(qp[0])
        else:
            limit.low, limit.high = float(lims[name].iloc[0]), float(lims[name].iloc[1])
            limit.whole_low, limit.whole_high = float(whole[name].iloc[0]), float(whole[name].iloc[1])
            limit.qp_low, limit.qp_high = _qp(qp[0]), _qp(qp[1])
        if scores is not None and name in scores.index:
            # EMA sums 100/iterations per box, so 100 may come out as 99.99999999999999
            limit.reproduce_coverage = round(float(scores.loc[name, "reproduce coverage"]), 6)
            limit.reproduce_density = round(float(scores.loc[name, "reproduce density"]), 6)
        limits.append(limit)
    # the restricted inputs first, the most significant restriction first (as EMA's inspect orders them)
    limits.sort(key=lambda lim: (not lim.restricted, np.nanmin([lim.qp_low, lim.qp_high, 2.0])))
    return limits


def _rules(tree, y: np.ndarray) -> tuple[list[dict[str, Any]], str]:
    """CART's leaves as rules, densest first, and the whole tree as scikit-learn draws it."""
    from sklearn.tree import export_text

    t, sep, total = tree.clf.tree_, tree.sep, int(y.sum())
    rules: list[dict[str, Any]] = []

    def walk(node: int, path: list[tuple[str, bool, float | str]]) -> None:
        left, right = t.children_left[node], t.children_right[node]
        if left == right:  # a leaf
            counts = np.asarray(t.value[node][0], dtype=float)  # counts or shares, by scikit-learn version
            n = int(t.n_node_samples[node])
            k = round(counts[1] / counts.sum() * n) if len(counts) > 1 and counts.sum() else 0
            density = k / n if n else math.nan
            rules.append({"rule": _rule(path), "n": n, "k": k, "density": density, "coverage": k / total})
            return
        feature, cut = tree.feature_names[t.feature[node]], float(t.threshold[node])
        if sep in feature:  # a dummy of a categorical input: 1 where the run has that value
            name, value = feature.split(sep, 1)
            walk(left, [*path, (name, False, value)])
            walk(right, [*path, (name, True, value)])
        else:
            walk(left, [*path, (feature, False, cut)])
            walk(right, [*path, (feature, True, cut)])

    walk(0, [])
    rules.sort(key=lambda r: (-r["density"], -r["n"]))
    names = [name.replace(sep, " = ") for name in tree.feature_names]
    return rules, export_text(tree.clf, feature_names=names, show_weights=True, decimals=3)


def _rule(path: list[tuple[str, bool, float | str]]) -> str:
    """A leaf's path in words, each input once: ``0.2 < x <= 0.6``, ``theory.kind is structural``,
    ``theory.kind not in {a, b}``. A step is (input, took the right branch, cut or categorical value)."""
    parts = []
    for name in dict.fromkeys(step[0] for step in path):
        steps = [(right, v) for n, right, v in path if n == name]
        if isinstance(steps[0][1], str):
            chosen = [v for right, v in steps if right]
            parts.append(
                f"{name} is {chosen[-1]}"
                if chosen
                else f"{name} not in {{{', '.join(str(v) for _, v in steps)}}}"
            )
            continue
        low = max((v for right, v in steps if right), default=None)
        high = min((v for right, v in steps if not right), default=None)
        if low is not None and high is not None:
            parts.append(f"{low:.3g} < {name} <= {high:.3g}")
        else:
            parts.append(f"{name} > {low:.3g}" if high is None else f"{name} <= {high:.3g}")
    return " and ".join(parts) or "all runs"


# --------------------------------------------------------------------------------------- the table


@dataclass
class Table:
    """One experiment's done runs as PRIM's inputs ``x`` and outcome ``y``."""

    experiment: str
    x: pd.DataFrame
    y: np.ndarray
    month: str  # "24", or "each run's last recorded month (12 to 24)"
    left_out: int  # done runs without a value, at that month, of an output the condition names


def inputs(runs: Runs, where: str) -> pd.DataFrame:
    """The experiment's factors, one row per done run: numbers as floats, choices and lists as
    categoricals; the base scenario too where there are several."""
    columns: dict[str, Any] = {}
    crossed = runs.definition.get("cross", [])  # the arms of a paired design (experiments.design) vary too
    crossed = [c for c in crossed if isinstance(c, dict)] if isinstance(crossed, list) else []
    for i, factor in enumerate([*runs.definition.get("factors", []), *crossed]):
        key = factor.get("key")
        if key not in PARAMETERS:
            raise StoreError(
                f"{where}: definition: factors[{i}].key: not a parameter of the model (got {shown(key)})"
            )
        values = [_value(run, key, PARAMETERS[key].type, where) for run in runs.info]
        if PARAMETERS[key].type in ("float", "int"):
            columns[key] = np.array(values, dtype=float)
        else:
            columns[key] = pd.Categorical(values, categories=sorted(set(values)))
    bases = [plain(r["scenario"], 80) for r in runs.info]
    if len(set(bases)) > 1:
        columns[BASE_SCENARIO] = pd.Categorical(bases, categories=sorted(set(bases)))
    return pd.DataFrame(columns, index=range(len(runs.info)))


def _value(run: dict, key: str, kind: str, where: str) -> Any:
    value = run["params"].get(key)
    here = f"{where}: runs {shown(run['run_key'])}: factor {key}"
    if kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise StoreError(f"{here} is not a finite number (got {shown(value)})")
        return float(value)
    if isinstance(value, list):
        return "+".join(plain(v, 40) for v in value)
    return plain(value, 80)


def outcome(runs: Runs, condition: Condition, month: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Whether each run meets ``condition`` at ``month`` (None: its last recorded month), which runs have
    every output it names there, and the month in words."""
    if month is None:
        values = {name: runs.final(name) for name in condition.outputs()}
        lasts = _last_steps(runs)
        low, high = (int(lasts.min()), int(lasts.max())) if len(lasts) else (0, 0)
        said = f"{high}" if low == high else f"each run's last recorded month ({low} to {high})"
    else:
        column = int(np.flatnonzero(runs.steps == month)[0])
        values = {name: runs.values[name][:, column] for name in condition.outputs()}
        said = f"{month}"
    known = np.ones(len(runs.info), dtype=bool)
    for v in values.values():
        known &= ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        meets = condition.holds(values) & known
    return meets, known, said


def _last_steps(runs: Runs) -> np.ndarray:
    """Each run's last recorded month (runs with none left out)."""
    if not runs.steps.size:
        return np.array([], dtype=int)
    has = np.stack([~np.isnan(v) for v in runs.values.values()]).any(axis=0)
    last = np.where(has, runs.steps[None, :], -1).max(axis=1)
    return last[last >= 0]


def table(store, experiment: str | None, where_text: str, condition: Condition, month: int | None) -> Table:
    """Read the chosen experiment, check ``--month``, and build the inputs and the outcome."""
    names = {text(n): n for n in store.experiment_names()}
    name = _experiment(store, names, experiment)
    runs = load_runs(store, names[name])
    if month is not None and month not in set(runs.steps.tolist()):
        recorded = ", ".join(str(s) for s in runs.steps.tolist()[:12]) + (
            ", ..." if len(runs.steps) > 12 else ""
        )
        raise _option(
            "--month", "not a recorded month of this experiment", month, recorded or "none recorded"
        )
    where = f"{store.path}: experiments {shown(name)}"
    x = inputs(runs, where)
    if x.shape[1] == 0:
        raise StoreError(
            f"{where}: varies no factor and has one base scenario: there are no inputs to discover"
        )
    meets, known, said = outcome(runs, condition, month)
    x, y = x[known].reset_index(drop=True), meets[known]
    k, n = int(y.sum()), len(y)
    if not 0 < k < n:
        what = "no run meets" if k == 0 else "every run meets"
        raise _option(
            "--where",
            f"{what} the condition at month {said} ({k} of {n} done runs of {plain(name, 60)}); a box "
            "separates nothing then, nothing was written",
            where_text,
            "a condition some runs meet and some do not",
        )
    return Table(name, x, y, said, int((~known).sum()))


def _experiment(store, names: dict[str, Any], experiment: str | None) -> str:
    if experiment is not None:
        if experiment not in names:
            guess = difflib.get_close_matches(experiment, list(names), n=1)
            held = ", ".join(plain(n, 60) for n in list(names)[:10]) + (", ..." if len(names) > 10 else "")
            hint = f"; did you mean {plain(guess[0], 60)}?" if guess else f"; it holds {held or 'none'}"
            raise StoreError(f"{store.path}: no experiment {shown(experiment)}{hint}")
        return experiment
    if not names:
        raise StoreError(f"{store.path}: no experiments recorded (run `coprod sweep` first)")
    if len(names) > 1:
        held = ", ".join(plain(n, 60) for n in list(names)[:10]) + (", ..." if len(names) > 10 else "")
        raise _option("--experiment", "missing: the database holds several experiments; name one", None, held)
    return next(iter(names))


def _option(option: str, message: str, got: Any, allowed: str) -> ScenarioError:
    return ScenarioError([Problem(option, message, got, allowed)], source="command line")


def parse_month(raw: str | None) -> int | None:
    """``--month``: a whole number of months, 0 or more; None when not given."""
    if raw is None:
        return None
    try:
        month = int(raw.strip())
    except ValueError:
        month = -1
    if month < 0:
        raise _option("--month", "not a whole number of months", raw, "0 or more, a month the sweep recorded")
    return month


# ------------------------------------------------------------------------------------------ output


def _n(x: float, digits: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def _shown_rows(d: Discovery) -> list[int]:
    last = len(d.trajectory) - 1
    spread = np.linspace(0, last, TRAJECTORY_ROWS - 1).round().astype(int).tolist()
    return sorted({d.chosen, *spread})


def terminal(t: Table, d: Discovery, condition: Condition, db: str) -> str:
    """What ``coprod discover`` prints."""
    lines = [
        f"scenario discovery: experiment {plain(t.experiment, 80)} in {plain(db, 120)}, month {t.month}",
        f"condition: {condition}",
        f"runs: {d.n}; meeting the condition: {d.meeting} ({d.meeting / d.n:.1%})"
        + (f"; {t.left_out} left out (no value at that month)" if t.left_out else ""),
        f"inputs: {', '.join(plain(c, 60) for c in t.x.columns)}",
        "",
        f"PRIM peeling trajectory ({len(d.trajectory)} boxes; all in trajectory.csv):",
        f"  {'box':>4} {'coverage':>9} {'density':>8} {'mass':>6}  restricted inputs",
    ]
    for i in _shown_rows(d):
        r = d.trajectory.iloc[i]
        mark = "  <- chosen" if i == d.chosen else ""
        lines.append(
            f"  {i:>4} {r['coverage']:>9.3f} {r['density']:>8.3f} {r['mass']:>6.3f}  "
            f"{r['res_dim']}: {plain(r['restricted'] or '-', 70)}{mark}"
        )
    b = d.box
    lines += [
        "",
        f"chosen box {d.chosen} (rule: the densest box with coverage >= {MIN_COVERAGE}): coverage "
        f"{b['coverage']:.3f}, density {b['density']:.3f}, {int(b['n'])} runs, {int(b['k'])} meeting",
    ]
    restricted = [lim for lim in d.limits if lim.restricted]
    if not restricted:
        lines.append("  no input restricted: no box is denser than all the runs together")
    for lim in restricted:
        qp = f"qp {_n(lim.qp_low)} / {_n(lim.qp_high)}" if not lim.categorical else f"qp {_n(lim.qp_low)}"
        whole = (
            f"of {{{', '.join(lim.whole_values)}}}"
            if lim.categorical
            else f"whole range {lim.whole_low:.3g} to {lim.whole_high:.3g}"
        )
        again = (
            ""
            if math.isnan(lim.reproduce_coverage)
            else f"; restricted in {lim.reproduce_coverage:.0f}% of resamples"
        )
        lines.append(f"  {plain(lim.describe(), 90)}   ({qp}; {plain(whole, 80)}{again})")
    lines += ["", f"CART rules (leaves of at least {CART_MIN_LEAF:.0%} of the runs, densest first):"]
    for r in d.rules:
        lines.append(f"  {r['k']:>4} of {r['n']:<4} meet ({r['density']:.0%}): {plain(r['rule'], 200)}")
    return "\n".join(lines)


def files(t: Table, d: Discovery, condition: Condition, db: str) -> dict[str, bytes]:
    """The files ``coprod discover`` writes, by name."""
    return {
        "trajectory.png": _plot(d, condition),
        "trajectory.csv": _csv(d.trajectory.to_dict("records")).encode(),
        "box.csv": _csv([_box_row(lim) for lim in d.limits]).encode(),
        "tree.txt": _tree_text(d, condition).encode(),
        "discovery.md": _markdown(t, d, condition, db).encode(),
    }


def _box_row(lim: Limit) -> dict[str, Any]:
    return {
        "input": lim.name,
        "kind": "categorical" if lim.categorical else "number",
        "restricted": lim.restricted,
        "low": lim.low,
        "high": lim.high,
        "values": "; ".join(lim.values),
        "whole_low": lim.whole_low,
        "whole_high": lim.whole_high,
        "whole_values": "; ".join(lim.whole_values),
        "qp_low": lim.qp_low,
        "qp_high": lim.qp_high,
        "reproduce_coverage_pct": lim.reproduce_coverage,
        "reproduce_density_pct": lim.reproduce_density,
    }


def _csv(rows: list[dict[str, Any]]) -> str:
    f = io.StringIO()
    writer = csv.writer(f, lineterminator="\n")
    if rows:
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([csv_cell(plain(v, 400) if isinstance(v, str) else v) for v in row.values()])
    return f.getvalue()


def _tree_text(d: Discovery, condition: Condition) -> str:
    head = [
        f"CART for: {condition}",
        f"leaves of at least {CART_MIN_LEAF:.0%} of the runs; a categorical input enters as one 0/1 "
        "column per value ('theory.kind = structural <= 0.5' means another theory)",
        "",
        "rules, densest first (runs meeting the condition of runs in the leaf):",
    ]
    rules = [f"  {r['k']} of {r['n']} ({r['density']:.0%}): {plain(r['rule'], 400)}" for r in d.rules]
    return (
        "\n".join([*head, *rules, "", "tree (weights: runs not meeting, meeting):", plain_block(d.tree)])
        + "\n"
    )


def plain_block(s: str) -> str:
    return "\n".join(plain(line, 400) for line in s.splitlines())


def _markdown(t: Table, d: Discovery, condition: Condition, db: str) -> str:
    m = markdown_cell
    b = d.box
    out = [
        f"# Scenario discovery: {m(t.experiment)}",
        "",
        f"- condition: `{condition}` at month {t.month}",
        f"- results database: {m(db)}",
        f"- runs: {d.n} done runs; {d.meeting} ({d.meeting / d.n:.1%}) meet the condition"
        + (f"; {t.left_out} left out, without a value at that month" if t.left_out else ""),
        f"- inputs: {', '.join(m(c) for c in t.x.columns)}",
        f"- box-selection rule: the densest box on PRIM's peeling trajectory with coverage >= {MIN_COVERAGE} "
        "(ties: higher coverage, then fewer restricted inputs); PRIM's peeling and pasting alpha "
        f"{PEEL_ALPHA} and {PASTE_ALPHA}, smallest box {MASS_MIN:.0%} of the runs",
        "",
        "Coverage: the share of the runs meeting the condition that lie in the box. Density: the share of "
        "the runs in the box that meet it. A quasi-p-value (qp) tests whether a restriction raises the "
        "density (one-sided binomial, Bryant and Lempert 2010); resampling counts how often PRIM, rerun on "
        f"{RESAMPLE_ITERATIONS} random half-samples, restricts the same input.",
        "",
        f"## Chosen box: box {d.chosen}",
        "",
        f"coverage {b['coverage']:.3f}, density {b['density']:.3f}, mass {b['mass']:.3f} "
        f"({int(b['n'])} runs, {int(b['k'])} meeting the condition)",
        "",
        "| input | limit | whole range | qp low | qp high | resampled: same coverage | same density |",
        "|---|---|---|---|---|---|---|",
    ]
    for lim in d.limits:
        whole = (
            "{" + ", ".join(lim.whole_values) + "}"
            if lim.categorical
            else f"{lim.whole_low:.3g} to {lim.whole_high:.3g}"
        )
        limit = lim.describe() if lim.restricted else "not restricted"
        out.append(
            f"| {m(lim.name)} | {m(limit)} | {m(whole)} | {_n(lim.qp_low)} | {_n(lim.qp_high)} | "
            f"{_pct(lim.reproduce_coverage)} | {_pct(lim.reproduce_density)} |"
        )
    out += [
        "",
        "## Peeling trajectory",
        "",
        "![coverage against density](trajectory.png)",
        "",
        "| box | coverage | density | mass | restricted inputs |",
        "|---|---|---|---|---|",
    ]
    for i in _shown_rows(d):
        r = d.trajectory.iloc[i]
        name = f"**{i}** (chosen)" if i == d.chosen else str(i)
        out.append(
            f"| {name} | {r['coverage']:.3f} | {r['density']:.3f} | {r['mass']:.3f} | "
            f"{r['res_dim']}: {m(r['restricted'] or '-')} |"
        )
    out += ["", "Every box: trajectory.csv.", "", "## CART rules", ""]
    out += ["| runs meeting | runs | density | coverage | rule |", "|---|---|---|---|---|"]
    for r in d.rules:
        out.append(f"| {r['k']} | {r['n']} | {r['density']:.0%} | {r['coverage']:.0%} | {m(r['rule'])} |")
    out += ["", "The tree: tree.txt."]
    if d.notes:
        out += ["", "## Notes", "", *(f"- {m(note)}" for note in d.notes)]
    return "\n".join(out) + "\n"


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.0f}%"


def _plot(d: Discovery, condition: Condition | str) -> bytes:
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    t = d.trajectory
    top = int(t["res_dim"].max())
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), colormaps["viridis"].N)
    points = ax.scatter(
        t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", norm=norm, s=28, zorder=2
    )
    b = d.box
    ax.scatter(
        [b["coverage"]], [b["density"]], s=160, facecolors="none", edgecolors="crimson", lw=1.8, zorder=3
    )
    ax.annotate(
        f"chosen: box {d.chosen}",
        (b["coverage"], b["density"]),
        xytext=(8, -14),
        textcoords="offset points",
        color="crimson",
    )
    ax.set_xlabel("coverage (share of the runs meeting the condition that are in the box)")
    ax.set_ylabel("density (share of the box meeting it)")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.set_title(plot_label(str(condition)), fontsize=10)
    bar = fig.colorbar(points, ax=ax, ticks=range(top + 1))
    bar.set_label("restricted inputs")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ------------------------------------------------------------------------------ kept in the database


def _clean(value: Any) -> Any:
    """JSON-ready: NaN as None, numpy scalars as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_record(t: Table, d: Discovery) -> dict[str, Any]:
    """A discovery as JSON-ready data for the results database (:meth:`experiments.store.Store.
    record_discovery`); :func:`from_record` reads it back."""
    return _clean(
        {
            "n": d.n,
            "meeting": d.meeting,
            "chosen": d.chosen,
            "trajectory": d.trajectory.to_dict("records"),
            "limits": [asdict(lim) for lim in d.limits],
            "rules": d.rules,
            "tree": d.tree,
            "notes": d.notes,
            "inputs": list(t.x.columns),
            "left_out": t.left_out,
        }
    )


LIMIT_NUMBERS = ("low", "high", "whole_low", "whole_high", "qp_low", "qp_high")
LIMIT_NUMBERS += ("reproduce_coverage", "reproduce_density")


def from_record(data: Any) -> Discovery:
    """A stored discovery back as a :class:`Discovery`; raises ValueError if it is not one (a stranger's
    file may hold anything)."""
    try:
        trajectory = pd.DataFrame(data["trajectory"])
        for column in ("coverage", "density", "mass", "res_dim", "n", "k"):
            trajectory[column] = pd.to_numeric(trajectory[column], errors="raise").astype(float)
        trajectory["res_dim"] = trajectory["res_dim"].astype(int)
        trajectory["restricted"] = trajectory["restricted"].fillna("").astype(str)
        limits = []
        for raw in data["limits"]:
            numbers = {k: math.nan if raw.get(k) is None else float(raw[k]) for k in LIMIT_NUMBERS}
            limits.append(
                Limit(
                    name=str(raw["name"]),
                    categorical=bool(raw["categorical"]),
                    restricted=bool(raw["restricted"]),
                    values=tuple(str(v) for v in raw.get("values", [])),
                    whole_values=tuple(str(v) for v in raw.get("whole_values", [])),
                    **numbers,
                )
            )
        rules = [
            {
                k: (str(r[k]) if k == "rule" else float(r[k]))
                for k in ("rule", "n", "k", "density", "coverage")
            }
            for r in data.get("rules", [])
        ]
        chosen = int(data["chosen"])
        if not 0 <= chosen < len(trajectory):
            raise ValueError("the chosen box is not on the trajectory")
        return Discovery(
            n=int(data["n"]),
            meeting=int(data["meeting"]),
            trajectory=trajectory,
            chosen=chosen,
            limits=limits,
            rules=rules,
            tree=str(data.get("tree", "")),
            notes=[str(n) for n in data.get("notes", [])],
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise ValueError(f"not a stored discovery ({type(err).__name__})") from None


def html_section(stored: list[dict[str, Any]]) -> str:
    """The stored discoveries of an experiment as a section of ``report.html``: every stored text
    escaped, a stored discovery that cannot be read named and skipped."""
    import base64
    import html
    import json

    e = html.escape
    if not stored:
        return ""
    parts = [
        "<h2>Scenario discovery</h2>",
        "<p>Boxes of inputs found by <code>coprod discover</code> (PRIM, with CART's rules beside it) and "
        "kept in the results file. Coverage: the share of the runs meeting the condition that lie in the "
        "box; density: the share of the box that meets it.</p>",
    ]
    for row in stored:
        condition, month = plain(row.get("condition"), 200), plain(row.get("month"), 80)
        try:
            d = from_record(json.loads(row.get("result") or ""))
        except (ValueError, TypeError, RecursionError):
            parts.append(f"<p class='note'>The discovery of {e(condition)} cannot be read; skipped.</p>")
            continue
        b = d.box
        parts.append(
            f"<h3>{e(condition)} at month {e(month)}</h3><p>{d.meeting} of {d.n} runs meet it. Chosen box "
            f"{d.chosen}: coverage {b['coverage']:.2f}, density {b['density']:.2f}.</p>"
            "<table><tr><th class='k'>input</th><th class='k'>limit</th><th class='k'>whole range</th>"
            "<th class='k'>qp</th></tr>"
        )
        for lim in d.limits:
            whole = (
                "{" + ", ".join(lim.whole_values) + "}"
                if lim.categorical
                else f"{lim.whole_low:.3g} to {lim.whole_high:.3g}"
            )
            qp = min((q for q in (lim.qp_low, lim.qp_high) if not math.isnan(q)), default=math.nan)
            cells = [
                lim.name,
                lim.describe() if lim.restricted else "not restricted",
                whole,
                "-" if math.isnan(qp) else f"{qp:.2g}",
            ]
            parts.append("<tr>" + "".join(f"<td class='k'>{e(plain(c, 200))}</td>" for c in cells) + "</tr>")
        parts.append("</table><ul>")
        for r in d.rules[:6]:
            rule = e(plain(r["rule"], 300))
            parts.append(f"<li>{int(r['k'])} of {int(r['n'])} meet ({r['density']:.0%}): {rule}</li>")
        parts.append("</ul>")
        png = base64.b64encode(_plot(d, condition)).decode()
        parts.append(f"<img alt='peeling trajectory: {e(condition)}' src='data:image/png;base64,{png}'>")
    return "".join(parts)


# ------------------------------------------------------------------------------------- entry point


def main_discover(args) -> int:
    """``coprod discover``: check the condition and the month, read, discover, then write and print."""
    from coprod.experiments.store import Store
    from coprod.model import code_version

    condition = parse(args.where)
    month = parse_month(args.month)
    with Store.existing(args.db) as store:
        t = table(store, args.experiment, args.where, condition, month)
    out = RESULTS_DIR / safe_name(t.experiment) / "discovery" if args.out is None else Path(args.out)
    d = discover(t.x, t.y)
    contents = files(t, d, condition, str(args.db))
    with Store(args.db) as store:  # kept beside the runs, for the report and the dashboard
        store.record_discovery(t.experiment, str(condition), t.month, to_record(t, d), code_version())
    written = write_files(out, contents)
    print(terminal(t, d, condition, str(args.db)))
    for note in d.notes:
        print(f"note: {plain(note, 400)}")
    print(f"\nfiles: {', '.join(p.name for p in written)} in {out}/")
    return 0


__all__ = [
    "CART_MIN_LEAF",
    "FILES",
    "MIN_COVERAGE",
    "Discovery",
    "Limit",
    "Table",
    "choose_box",
    "discover",
    "files",
    "inputs",
    "main_discover",
    "outcome",
    "parse_month",
    "table",
    "terminal",
]
