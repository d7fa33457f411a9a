"""(h) Sweep scaling: parallel efficiency at 2, 4, 8 and 16 workers (issue 18's goal: at least 0.80 at 16).

``coprod sweep experiments/compare_designs.toml`` (200 runs) in a fresh subprocess with a fresh database,
at 1 worker and at each of :data:`WORKERS` the machine's cores allow, on the local pool and on a Dask
LocalCluster (``--scheduler local``); configurations interleaved within a repeat as in part (c), whose
helpers this part uses. Efficiency is ``T1 / (p * Tp)`` against the same executor's one-worker time, on
the whole command's clock (wall), the runner's (sweep) and the runs alone (the sweep less the workers'
start-up it reports). The goal is judged on the runs alone: the studies that need 16 workers run
thousands of runs, against which the few seconds of start-up (the command's imports, the forkserver's
import of the model) do not count, while on compare-designs' 200 short runs they would be half the time
at 16 workers. On a machine with fewer than :data:`MIN_CORES` cores there is nothing to learn
beyond part (c), and the part says so instead of measuring.

Meant to be run on its own on a large machine: ``python -m benchmarks.run --only scaling`` (about 5
minutes on 16 cores: 200 runs of about 0.3 s on 1 worker per executor, then less at each size).
"""

from __future__ import annotations

from benchmarks.common import Section, cores, interleave, median, say
from benchmarks.sweep import _once, _paired

EXPERIMENT = "compare_designs"
WORKERS = (2, 4, 8, 16)
MIN_CORES = 4
REPEATS = {"quick": 1, "default": 1, "full": 3}
GOAL = 0.80  # at 16 workers


def run(mode: str) -> dict:
    p = cores()
    section = Section("scaling", mode, REPEATS[mode])
    if p < MIN_CORES:
        why = f"not measured: {p} cores here (part (c) covers up to {p}); run it on a machine with 16"
        say(f"scaling: {why}")
        return section.finish(cores=p, skipped=why, rows=[])
    sizes = [1, *[w for w in WORKERS if w <= p]]
    configs = [(executor, w) for executor in ("local", "dask") for w in sizes]
    results: dict[tuple[str, int], list[dict]] = {c: [] for c in configs}
    for r in range(REPEATS[mode]):
        for executor, workers in interleave(configs, r):
            say(f"scaling: {executor}, {workers} worker(s), repeat {r + 1}")
            results[(executor, workers)].append(_once(EXPERIMENT, executor, workers))
    rows = []
    for (executor, workers), runs in results.items():
        good = [x for x in runs if "error" not in x]
        row = {"executor": executor, "workers": workers}
        if not good:
            row["error"] = runs[0]["error"]
        else:
            row["wall_seconds"] = median([x["wall"] for x in good])
            row["startup_seconds"] = median([x["startup"] for x in good])
        if workers > 1:
            one = results[(executor, 1)]
            for clock, name in (("wall", "wall"), ("sweep", "sweep"), ("runs_clock", "runs")):
                row[f"efficiency_{name}"] = _paired(one, runs, clock, workers)
        rows.append(row)
    return section.finish(cores=p, experiment=EXPERIMENT, goal=GOAL, rows=rows)
