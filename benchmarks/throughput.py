"""(f) Runs per second per core on the main experiment, against the machine's yardstick (issue 18).

What a sweep's worker does, in one process on one core: the runs of ``experiments/compare_designs.toml``
(1,000 residents, 120 months, recorded every 6), every ``STRIDE``-th run of the grid so that each design
and theory is in the sample, each rebuilt from its stored parameters and simulated with its own seed.
Beside them, in the same repeat, the yardstick: one sweep of the bare numpy Deffuant reference
(:mod:`benchmarks.references.numpy_deffuant`) at n = 1,000 on the complete graph, timed over enough
calls to last about as long as one run. The figure that survives a change of machine is the ratio
``yardstick sweeps per run`` (a run's seconds over one sweep's seconds, taken within a repeat, then the
median); runs per second per core is its inverse in the machine's units.

The first measurement is kept in ``benchmarks/results/throughput_baseline.json`` and never overwritten
(delete the file to start a new baseline); later runs report their speed-up against it, normalised by the
yardstick: issue 18's goal is 10x.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from coprod.experiments.design import load_experiment
from coprod.experiments.worker import scenario_from_params
from coprod.model.simulate import simulate

from benchmarks.common import ROOT, Section, median, say, spread
from benchmarks.references import numpy_deffuant

EXPERIMENT = ROOT / "experiments" / "compare_designs.toml"
STRIDE = {"quick": 40, "default": 10, "full": 5}  # every STRIDE-th run of the 200: 5, 20 or 40 runs
REPEATS = {"quick": 2, "default": 3, "full": 5}
YARDSTICK_N = 1_000
YARDSTICK_CALLS = 2_000  # one numpy sweep at n = 1,000 is about 0.03 ms: 2,000 of them about 60 ms
THRESHOLD, MU = 0.3, 0.5
BASELINE = "throughput_baseline.json"


def _yardstick(rng: np.random.Generator) -> float:
    """Seconds of one bare-numpy Deffuant sweep (n // 2 encounters) at n = 1,000, median of blocks."""
    x = rng.random(YARDSTICK_N)
    blocks = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(YARDSTICK_CALLS // 5):
            numpy_deffuant.sweep(x, THRESHOLD, MU, rng, YARDSTICK_N // 2)
        blocks.append((time.perf_counter() - start) / (YARDSTICK_CALLS // 5))
    return median(blocks)


def run(mode: str, out_dir: Path) -> dict:
    experiment = load_experiment(EXPERIMENT)
    specs = experiment.runs[:: STRIDE[mode]]
    tasks = [(scenario_from_params(s.base, s.params), s.seed) for s in specs]
    repeats = REPEATS[mode]
    section = Section("throughput", mode, repeats)
    rng = np.random.default_rng(18)
    simulate(tasks[0][0], seed=tasks[0][1], steps=2)  # imports and first-call costs out of the timing
    per_repeat = []
    for r in range(repeats):
        say(f"throughput: repeat {r + 1} of {repeats} ({len(tasks)} runs)")
        sweep_before = _yardstick(rng)
        start = time.perf_counter()
        for scenario, seed in tasks:
            simulate(scenario, seed=seed, every=experiment.record_every)
        run_s = (time.perf_counter() - start) / len(tasks)
        sweep_s = (sweep_before + _yardstick(rng)) / 2
        per_repeat.append({"run_s": run_s, "sweep_s": sweep_s, "sweeps_per_run": run_s / sweep_s})
    figures = {
        "experiment": str(EXPERIMENT.relative_to(ROOT)),
        "runs_timed": len(tasks),
        "run_s": median([p["run_s"] for p in per_repeat]),
        "run_s_spread": spread([p["run_s"] for p in per_repeat]),
        "runs_per_second_per_core": 1 / median([p["run_s"] for p in per_repeat]),
        "yardstick_sweep_ms": 1e3 * median([p["sweep_s"] for p in per_repeat]),
        "sweeps_per_run": median([p["sweeps_per_run"] for p in per_repeat]),
        "sweeps_per_run_spread": spread([p["sweeps_per_run"] for p in per_repeat]),
        "repeats_detail": per_repeat,
    }
    baseline_file = out_dir / BASELINE
    if not baseline_file.exists():
        baseline_file.write_text(json.dumps({**section.data, **figures}, indent=2) + "\n")
        say(f"throughput: no baseline yet; this run is it ({baseline_file})")
    baseline = json.loads(baseline_file.read_text())
    figures["baseline"] = {
        k: baseline[k] for k in ("started", "code", "sweeps_per_run", "runs_per_second_per_core")
    }
    figures["speedup_over_baseline"] = baseline["sweeps_per_run"] / figures["sweeps_per_run"]
    return section.finish(**figures)
