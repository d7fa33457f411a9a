"""The final-step summary of an experiment: per group of runs (design and theory of change, and any other
listed factor), the mean and the t-based 95% confidence interval over replications of each output, as rows,
CSV and Markdown.

:func:`mean_ci` is the one t interval of the project: the report's tables and figures, the hypotheses, the
regret map and the dashboard's verdict all use it. A finite number too large to average (a stranger's
1e308) gives ``inf`` or ``nan`` in the tables, without a warning. Every stored text reaches a table through
:func:`experiments.untrusted.csv_cell` or :func:`experiments.untrusted.markdown_cell`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np
from coprod.experiments.stored_runs import Runs
from coprod.experiments.untrusted import csv_cell, markdown_cell
from coprod.model import CONSENSUS, MARKERS, QUALITIES

SUMMARY_OUTPUTS = (*MARKERS, CONSENSUS[0], *QUALITIES)
GROUP_KEYS = ("design.kind", "theory.kind")


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
