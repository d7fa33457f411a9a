"""Where each theory of change works, and where it fails: a sweep over city contexts.

The experiment ``experiments/theory_conditions.toml`` runs each programme theory (``theory.kind``) in cities
drawn by Latin hypercube over the context ranges. A theory *works* in a run when its own condition output
(``condition_<theory>``, :mod:`model.conditions`) is met (1) in at least half of the recorded months of the
run's last year. For each theory the report gives its overall success rate and, for every context factor,
the rate in each third of the factor's range: a theory that can fail shows a third below 50% and a third
above 50% somewhere. Rates carry 95% Wilson intervals (Wilson 1927); thirds hold few
runs, so read the intervals, not only the rates.

``python -m coprod.experiments.theory_conditions [EXPERIMENT] [--db PATH] [--workers N]`` runs (or resumes)
the sweep through the same runner as ``coprod sweep`` and prints the Markdown report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import sqlite_utils
from coprod.experiments.design import load_experiment
from coprod.model.kinds import THEORIES

from coprod.cli import main as coprod

ROOT = Path(__file__).resolve().parents[1]
LAST_YEAR = 12  # months: the window in which a theory must work
Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (Wilson 1927)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return float(centre - half), float(centre + half)


def outcomes(db_path: Path, experiment: str) -> list[dict]:
    """One record per finished run: its programme theory, its factor values and whether the theory worked."""
    db = sqlite_utils.Database(db_path)
    runs = list(
        db.query("select run_key, params from runs where experiment = ? and status = 'done'", [experiment])
    )
    found = []
    for run in runs:
        params = json.loads(run["params"])
        theory = params["theory.kind"]
        rows = list(
            db.query(
                f"select step, condition_{theory} as c from steps where experiment = ? and run_key = ? "
                "order by step",
                [experiment, run["run_key"]],
            )
        )
        end = rows[-1]["step"]
        last = np.array([r["c"] for r in rows if r["step"] > end - LAST_YEAR])
        found.append({"theory": theory, "params": params, "worked": bool(np.mean(last >= 1) >= 0.5)})
    return found


def rate(records: list[dict]) -> str:
    k, n = sum(r["worked"] for r in records), len(records)
    if n == 0:
        return "no runs"
    low, high = wilson(k, n)
    return f"{k}/{n} = {k / n:.0%} [{low:.0%}, {high:.0%}]"


def report(records: list[dict], factors: dict[str, tuple[float, float]]) -> str:
    lines = [
        "| theory | works overall | fails somewhere (< 50%) | works somewhere (> 50%) |",
        "|---|---|---|---|",
    ]
    detail = []
    for theory in THEORIES:
        mine = [r for r in records if r["theory"] == theory]
        below, above = [], []
        detail.append(f"\n**{theory}** ({rate(mine)} of runs work)\n")
        detail.append("| factor | lowest third | middle third | highest third |")
        detail.append("|---|---|---|---|")
        for key, (low, high) in factors.items():
            cuts = low + (high - low) * np.array([1, 2]) / 3
            thirds = {
                "low": [r for r in mine if r["params"][key] < cuts[0]],
                "middle": [r for r in mine if cuts[0] <= r["params"][key] < cuts[1]],
                "high": [r for r in mine if r["params"][key] >= cuts[1]],
            }
            detail.append(f"| `{key}` | " + " | ".join(rate(part) for part in thirds.values()) + " |")
            for name, part in thirds.items():
                if part:
                    share = np.mean([r["worked"] for r in part])
                    (below if share < 0.5 else above if share > 0.5 else []).append(f"{key} {name}")
        lines.append(
            f"| {theory} | {rate(mine)} | {', '.join(below) or 'nowhere'} | {', '.join(above) or 'nowhere'} |"
        )
    return "\n".join(lines + detail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coprod.experiments.theory_conditions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("experiment", nargs="?", default=str(ROOT / "experiments" / "theory_conditions.toml"))
    parser.add_argument("--db", default=str(ROOT / "results" / "theory_conditions.db"))
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    sweep = ["sweep", args.experiment, "--db", args.db]
    status = coprod(sweep + (["--workers", str(args.workers)] if args.workers else []))
    if status:  # bad input (2, said in one line) or runs not done (1, said by the sweep)
        return status
    experiment = load_experiment(Path(args.experiment))
    factors = {
        f.key: (f.low, f.high) for f in experiment.factors if f.values is None and f.key != "theory.kind"
    }
    print(report(outcomes(Path(args.db), experiment.name), factors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
