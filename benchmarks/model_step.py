"""(b) The full model step at 2,000, 10,000 and 100,000 residents, and the share of each mechanism.

The scenario is participatory budgeting (incremental theory) with the other populations scaled with the
residents (``POPULATIONS``). Each mechanism method of one model instance is wrapped with a timer, so a
step's time splits into convene, deliberate, decide, act, learn, rewire, restructure and collect; collect
(the data collection) splits further into ``remember`` (the metrics' running memory), the sampled
betweenness every ``run.betweenness_interval`` steps, ``measure`` (the outputs) and
``DataCollector.collect``. The model records every month here (``record=True``, as the dashboard and a Mesa
user's ``datacollector`` do); a sweep reads the outputs only at the months it keeps
(:func:`model.simulate.simulate`, ``record=False``), so its collection share is also given, computed from
the same timings with measure counted once every ``SWEEP_EVERY`` months and no DataCollector. Shares are of
the total time over whole betweenness cycles; "ms per step" is the median step (the typical month,
without the betweenness), "mean" includes it.

The yardstick for the target "full step within 10x of the bare numpy kernel" is timed interleaved with the
steps: one sweep of the numpy reference (``n / 2`` encounters on the complete graph, ``n`` = the number of
residents, so n agent-steps).
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any

import numpy as np

from benchmarks.common import Section, interleave, median, say, spread, timed
from benchmarks.references import numpy_deffuant

MECHANISMS = ("convene", "deliberate", "decide", "act", "learn", "rewire", "restructure", "collect")
DESIGN = "participatory_budgeting"
SWEEP_EVERY = 6  # record_every of experiments/compare_designs.toml, the main job

# residents -> officials, academics, civil-society groups, districts, participants per month
POPULATIONS: dict[int, tuple[int, int, int, int, int]] = {
    2_000: (40, 8, 20, 4, 120),
    10_000: (200, 40, 100, 20, 600),
    100_000: (2_000, 400, 1_000, 200, 6_000),
}


def scenario(residents: int, **extra: Any):
    """The benchmark scenario at ``residents`` residents (see ``POPULATIONS``)."""
    from coprod.model import Scenario

    officials, academics, groups, districts, participants = POPULATIONS[residents]
    return Scenario.build(
        {
            "population": {
                "residents": residents,
                "officials": officials,
                "academics": academics,
                "civil_society_groups": groups,
                "districts": districts,
            },
            "design": {"kind": DESIGN, "participants": participants},
            **extra,
        }
    )


def build(residents: int, seed: int = 1):
    from coprod.model import GovernanceModel

    return GovernanceModel(scenario(residents), rng=seed)


@contextmanager
def collection_timers():
    """Time the model's calls of :func:`model.metrics.leadership_concentration` (the sampled betweenness,
    every ``run.betweenness_interval`` steps) and :func:`model.metrics.measure` (the outputs, when read)
    per model; the patches live only in this process and are undone on leaving. Yields a dict:
    (name, id(model)) -> seconds."""
    import coprod.model.governance as governance

    spent: dict[tuple[str, int], float] = defaultdict(float)
    names = ("leadership_concentration", "measure")
    inner = {name: getattr(governance, name) for name in names}

    def timer(name: str):
        def timed_call(m):
            start = time.perf_counter()
            try:
                return inner[name](m)
            finally:
                spent[(name, id(m))] += time.perf_counter() - start

        return timed_call

    for name in names:
        setattr(governance, name, timer(name))
    try:
        yield spent
    finally:
        for name in names:
            setattr(governance, name, inner[name])


def instrument(model) -> dict[str, float]:
    """Wrap the model's mechanism methods with timers; returns the dict the seconds accumulate in."""
    spent: dict[str, float] = defaultdict(float)

    def wrap(owner, attribute: str, label: str) -> None:
        inner = getattr(owner, attribute)

        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        setattr(owner, attribute, timed_call)

    for name in MECHANISMS:
        wrap(model, name, name)
    wrap(model, "_collect", "collect:measure+datacollector")
    wrap(model.datacollector, "collect", "collect:datacollector")
    return spent


def run(mode: str) -> dict:
    sizes = [2_000, 10_000] if mode == "quick" else [2_000, 10_000, 100_000]
    # repeats x steps per repeat = whole cycles of the betweenness interval (12 steps), so the shares
    # count the periodic betweenness step at its true frequency
    repeats, steps_per_repeat = {"quick": (4, 3), "default": (12, 5), "full": (24, 5)}[mode]
    warm_up = 2
    section = Section("step", mode, repeats)
    models, spent, build_seconds = {}, {}, {}
    for n in sizes:
        say(f"step: building a model of {n:,} residents")
        start = time.perf_counter()
        models[n] = build(n)
        build_seconds[n] = time.perf_counter() - start
        for _ in range(warm_up):
            models[n].step()
        spent[n] = instrument(models[n])
    interval = models[sizes[0]].settings.run.betweenness_interval
    step_times: dict[int, list[float]] = {n: [] for n in sizes}
    repeat_medians: dict[int, list[float]] = {n: [] for n in sizes}
    sweep_times: list[float] = []
    yard_rng = np.random.default_rng(10)
    yard_n = 10_000
    with collection_timers() as timers:
        for r in range(repeats):
            say(f"step: repeat {r + 1} of {repeats}")
            for item in interleave([*sizes, "numpy"], r):
                if item == "numpy":
                    x = yard_rng.random(yard_n)
                    sweeps = [
                        timed(
                            lambda x=x: [
                                numpy_deffuant.sweep(x, 0.3, 0.5, yard_rng, yard_n // 2) for _ in range(20)
                            ]
                        )
                        / 20
                        for _ in range(steps_per_repeat)
                    ]
                    sweep_times.append(median(sweeps))
                    continue
                these = [timed(models[item].step) for _ in range(steps_per_repeat)]
                step_times[item].extend(these)
                repeat_medians[item].append(median(these))
    rows = []
    for n in sizes:
        total = sum(step_times[n])
        parts = dict(spent[n])
        collect_inner = parts.pop("collect:measure+datacollector", 0.0)
        datacollector = parts.pop("collect:datacollector", 0.0)
        between = timers.get(("leadership_concentration", id(models[n])), 0.0)
        measure = timers.get(("measure", id(models[n])), 0.0)
        remember = parts.get("collect", 0.0) - collect_inner
        datacollector -= measure  # the DataCollector's reading of model.outputs is what measures them
        # the same step as a sweep runs it: measure every SWEEP_EVERY months, no DataCollector
        sweep_collect = remember + between + measure / SWEEP_EVERY
        sweep_total = total - parts.get("collect", 0.0) + sweep_collect
        shares = {name: parts.get(name, 0.0) / total for name in MECHANISMS}
        shares["other (step overhead)"] = max(0.0, 1 - sum(shares.values()))
        rows.append(
            {
                "residents": n,
                "agents": int(models[n].people.n),
                "population": dict(
                    zip(
                        ("officials", "academics", "civil_society_groups", "districts", "participants"),
                        POPULATIONS[n],
                        strict=True,
                    )
                ),
                "build_seconds": build_seconds[n],
                "steps_timed": len(step_times[n]),
                "ms_per_step": 1e3 * median(step_times[n]),
                "ms_per_step_mean": 1e3 * total / len(step_times[n]),
                "ms_per_step_range": [1e3 * v for v in spread(step_times[n])],
                "us_per_resident_step": 1e6 * total / len(step_times[n]) / n,
                "share": shares,
                "collect_split": {
                    "remember": remember / total,
                    f"betweenness (every {interval} steps)": between / total,
                    "measure": measure / total,
                    "DataCollector.collect": datacollector / total,
                },
                "sweep_collect_share": sweep_collect / sweep_total,
            }
        )
    typical = mean = None
    if 10_000 in sizes:
        typical = median([s / k for s, k in zip(repeat_medians[10_000], sweep_times, strict=True)])
        mean = (sum(step_times[10_000]) / len(step_times[10_000])) / median(sweep_times)
    return section.finish(
        design=DESIGN,
        warm_up_steps=warm_up,
        steps_per_repeat=steps_per_repeat,
        betweenness_interval=interval,
        rows=rows,
        numpy_sweep_ms_at_10000=1e3 * median(sweep_times),
        step_over_numpy_sweep_at_10000=mean,
        typical_step_over_numpy_sweep_at_10000=typical,
        yardstick=(
            "one model step at 10,000 residents against one sweep of the bare numpy Deffuant reference at "
            "n = 10,000 (n/2 encounters, complete graph): the mean step (whole betweenness cycles) over the "
            "median sweep; and the typical step, the median over repeats of (median step / median sweep) "
            "within a repeat"
        ),
    )
