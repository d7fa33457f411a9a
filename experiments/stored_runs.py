"""Read an experiment's done runs back from the results database, checking every value as it is read.

A results file may come from someone else, so nothing in it is trusted. A value the analysis computes with
that is not what it must be is refused in one line, exit 2 (:class:`experiments.store.StoreError`), before
anything is written; it is never skipped: an output that is not a number
(``DB: runs 'KEY': output NAME is not a number (got 'abc')``) or not finite, a step that is not a whole
number from 0 to the longest run allowed, ``params`` that is not a JSON object, a definition that is not
JSON or whose sampler, factors, scenarios, outputs, root seed or run count have the wrong shape, text that
is not UTF-8. Texts that are only shown (the description, the replications, the status and error of a run)
are kept as they are, to be escaped where they are written (:mod:`experiments.untrusted`). A done run with
no steps counts with no values.

:func:`load_runs` gives :class:`Runs`, the arrays that the summary (:mod:`experiments.summary`), the
sensitivity indices (:mod:`experiments.sensitivity`), the plots and the report
(:mod:`experiments.report`) are computed from; ``coprod discover``, ``coprod regret`` and
``coprod hypotheses`` read their runs through it too.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from coprod.experiments.store import StoreError, design_position
from coprod.experiments.untrusted import plain, shown, text
from coprod.model import OUTPUTS, PARAMETERS

RESULTS_DIR = Path("results")  # where analyze, discover and regret write when no --out is given
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
