"""(c) Sweep throughput and parallel efficiency, local process pool against a Dask LocalCluster.

Each configuration runs the experiment runner's command line in a fresh subprocess with a fresh temporary
database: ``coprod sweep EXPERIMENT --db TMP --workers N [--scheduler local]``, with N = 1 and N = all
usable cores, for the local executor (one worker runs in the process itself, more use a process pool) and
for Dask. Configurations are interleaved within a repeat (rotated from one repeat to the next).

- ``wall``: the whole command, interpreter start and imports included (what a user waits for);
- ``sweep``: the runner's own ``run now in X s`` (pool or cluster start-up included, imports not);
- ``runs``: that less the start-up it reports (``(Y s of it starting the workers)``): how busy the workers
  are kept once they are there, which is what batching short runs would improve.

Parallel efficiency is ``T1 / (p * Tp)``, with T1 the same executor's one-worker time, on both clocks; the
Dask slowdown is ``Tp(Dask) / Tp(local pool) - 1``. The targets are judged on the wall clock.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Section, cores, interleave, median, say, spread

EXPERIMENTS = {"smoke": "experiments/smoke.toml", "compare_designs": "experiments/compare_designs.toml"}
DONE = re.compile(r"(\d+) of (\d+) runs done.*?run now in ([0-9.]+) s(?: \(([0-9.]+) s of it starting)?")


def _runner_missing() -> str | None:
    """Why the sweep cannot be benchmarked here, or None."""
    if not (ROOT / "experiments" / "sweep.py").exists():
        return "experiments/sweep.py is not there yet"
    for path in EXPERIMENTS.values():
        if not (ROOT / path).exists():
            return f"{path} is not there yet"
    probe = subprocess.run(
        [sys.executable, "-m", "coprod.cli", "sweep", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    if probe.returncode != 0:
        return f"`coprod sweep --help` failed: {probe.stderr.strip()[-300:]}"
    return None


def _command(experiment: str, db: Path, executor: str, workers: int) -> list[str]:
    cmd = [sys.executable, "-m", "coprod.cli", "sweep", EXPERIMENTS[experiment], "--db", str(db)]
    cmd += ["--workers", str(workers)]
    if executor == "dask":
        cmd += ["--scheduler", "local"]
    return cmd


def _once(experiment: str, executor: str, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="coprod-bench-") as tmp:
        db = Path(tmp) / f"{experiment}.db"
        start = time.perf_counter()
        done = subprocess.run(
            _command(experiment, db, executor, workers),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=1800,
        )
        wall = time.perf_counter() - start
    found = DONE.search(done.stdout)
    if done.returncode != 0 or not found:
        return {"error": (done.stdout + done.stderr).strip()[-1500:]}
    finished, planned = int(found.group(1)), int(found.group(2))
    sweep, startup = float(found.group(3)), float(found.group(4) or 0.0)
    return {
        "wall": wall,
        "sweep": sweep,
        "startup": startup,
        "runs_clock": sweep - startup,
        "runs": planned,
        "done": finished,
    }


def run(mode: str) -> dict:
    p = cores()
    # experiment -> repeats; the default run leaves out Dask with one worker at compare-designs (two
    # minutes, and no target needs it), the full run has every configuration three times
    plan = {
        "quick": {"smoke": 1},
        "default": {"smoke": 3, "compare_designs": 1},
        "full": {"smoke": 3, "compare_designs": 3},
    }[mode]
    section = Section("sweep", mode, max(plan.values()))
    missing = _runner_missing()
    if missing:
        say(f"sweep: skipped: {missing}")
        return section.finish(skipped=f"not measured: {missing}", rows=[])
    worker_counts = [1, p] if p > 1 else [1]
    every = [(executor, w) for executor in ("local", "dask") for w in worker_counts]
    rows = []
    for experiment, repeats in plan.items():
        configs = [c for c in every if not (mode == "default" and experiment != "smoke" and c == ("dask", 1))]
        results: dict[tuple[str, int], list[dict]] = {c: [] for c in configs}
        for r in range(repeats):
            for executor, workers in interleave(configs, r):
                say(f"sweep: {experiment}, {executor}, {workers} worker(s), repeat {r + 1} of {repeats}")
                results[(executor, workers)].append(_once(experiment, executor, workers))
        rows.extend(_summarise(experiment, results, repeats, p))
    return section.finish(
        cores=p,
        method=(
            "`coprod sweep EXPERIMENT --db <fresh temp> --workers N [--scheduler local]` in a subprocess; "
            "wall = whole command; sweep = the runner's own 'run now in X s'; runs = sweep less the start-up "
            "it reports; efficiency T1/(p*Tp) with "
            "T1 the same executor's 1-worker time; ratios taken within a repeat, then the median"
        ),
        rows=rows,
    )


def _paired(a: list[dict], b: list[dict], clock: str, scale: float = 1.0) -> float | None:
    """Median over repeats of ``a / (scale * b)`` on one clock, where both repeats succeeded."""
    ratios = [
        x[clock] / (scale * y[clock])
        for x, y in zip(a, b, strict=True)
        if "error" not in x and "error" not in y
    ]
    return median(ratios) if ratios else None


def _summarise(experiment: str, results: dict, repeats: int, p: int) -> list[dict]:
    rows = []
    for (executor, workers), runs in results.items():
        errors = [r["error"] for r in runs if "error" in r]
        good = [r for r in runs if "error" not in r]
        row = {"experiment": experiment, "executor": executor, "workers": workers, "repeats": repeats}
        if errors:
            row["error"] = errors[0]
        if good:
            wall = [r["wall"] for r in good]
            row.update(
                runs=good[0]["runs"],
                all_done=all(r["done"] == r["runs"] for r in good),
                wall_seconds=median(wall),
                wall_seconds_range=spread(wall),
                sweep_seconds=median([r["sweep"] for r in good]),
                startup_seconds=median([r["startup"] for r in good]),
                runs_per_second=good[0]["runs"] / median(wall),
            )
        if workers > 1 and (executor, 1) in results:
            one = results[(executor, 1)]
            row["efficiency_wall"] = _paired(one, runs, "wall", workers)
            row["efficiency_sweep"] = _paired(one, runs, "sweep", workers)
            row["efficiency_runs"] = _paired(one, runs, "runs_clock", workers)
        if executor == "dask" and workers == p and ("local", p) in results:
            local = results[("local", p)]
            slower_wall = _paired(runs, local, "wall")
            slower_sweep = _paired(runs, local, "sweep")
            row["slower_than_local_pool_wall"] = None if slower_wall is None else slower_wall - 1
            row["slower_than_local_pool_sweep"] = None if slower_sweep is None else slower_sweep - 1
        rows.append(row)
    return rows
