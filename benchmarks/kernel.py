"""(a) The deliberation kernel: microseconds per agent-step, project against the two references.

Unit. An *agent-step* is one agent taking part in one encounter; a *sweep* of n agent-steps is n / 2
pairwise encounters (on average every agent meets once). Each timed call runs ``SWEEPS`` sweeps, i.e.
``SWEEPS * n / 2`` encounters, on the complete graph with d = 0.3 and mu = 0.5, from fresh uniform
opinions; the time is divided by ``SWEEPS * n``. Below 10^4 agents several calls are timed together
(:func:`calls_per_timing`); each call still pays its own start-up (argument checks, copies).

- ``project``: :func:`model.deliberation.deffuant` (argument checks, copies, extension hooks included);
- ``numpy``: :func:`benchmarks.references.numpy_deffuant.deffuant`, bare numpy;
- ``mesa``: :class:`benchmarks.references.mesa_deffuant.DeffuantModel`; one Mesa step (``shuffle_do``)
  is n encounters, so ``SWEEPS / 2`` steps do the same work. Building the agents is not timed; the
  model is built once per size and its opinions reset before each repeat.
"""

from __future__ import annotations

import numpy as np
from coprod.model.deliberation import deffuant

from benchmarks.common import Section, interleave, median, say, spread, timed
from benchmarks.references import mesa_deffuant, numpy_deffuant

SWEEPS = 10
THRESHOLD = 0.3
MU = 0.5
IMPLEMENTATIONS = ("project", "numpy", "mesa")


def calls_per_timing(n: int) -> int:
    """Calls per timed block: at least 5 x 10^4 agent-sweeps (about 15 ms for numpy), so that a block is
    long against the scheduler's time slice and one preemption does not double it."""
    return max(1, 50_000 // n)


def run(mode: str) -> dict:
    sizes = [1_000, 10_000] if mode == "quick" else [1_000, 10_000, 100_000]
    repeats = {"quick": 5, "default": 11, "full": 21}[mode]
    section = Section("kernel", mode, repeats)
    seeds = np.random.SeedSequence(6).spawn(len(sizes))
    times: dict[tuple[int, str], list[float]] = {(n, impl): [] for n in sizes for impl in IMPLEMENTATIONS}
    mesa_models = {}
    for n, seed in zip(sizes, seeds, strict=True):
        say(f"kernel: building the Mesa reference with {n:,} agents")
        mesa_models[n] = mesa_deffuant.DeffuantModel(
            np.zeros(n), threshold=THRESHOLD, mu=MU, rng=int(seed.generate_state(1)[0])
        )
    gen = {n: np.random.default_rng(seed) for n, seed in zip(sizes, seeds, strict=True)}
    for r in range(repeats):
        say(f"kernel: repeat {r + 1} of {repeats}")
        for n in sizes:
            calls = calls_per_timing(n)
            x0 = gen[n].random(n)
            encounters = SWEEPS * (n // 2)
            model = mesa_models[n]
            for impl in interleave(IMPLEMENTATIONS, r):
                match impl:
                    case "project":

                        def work(x0=x0, encounters=encounters, n=n):
                            deffuant(
                                x0, threshold=THRESHOLD, convergence=MU, interactions=encounters, rng=gen[n]
                            )

                    case "numpy":

                        def work(x0=x0, encounters=encounters, n=n):
                            numpy_deffuant.deffuant(x0, THRESHOLD, MU, encounters, gen[n])

                    case "mesa":
                        for agent, value in zip(model.residents, x0.tolist(), strict=True):
                            agent.opinion = value

                        def work(model=model):
                            for _ in range(SWEEPS // 2):
                                model.step()

                    case _:
                        raise ValueError(f"unknown implementation {impl!r}")
                times[(n, impl)].append(
                    timed(lambda work=work, calls=calls: [work() for _ in range(calls)]) / calls
                )
    rows = []
    for n in sizes:
        us = {impl: [t / (SWEEPS * n) * 1e6 for t in times[(n, impl)]] for impl in IMPLEMENTATIONS}
        mesa_over_project = [m / p for m, p in zip(us["mesa"], us["project"], strict=True)]
        project_over_numpy = [p / q for p, q in zip(us["project"], us["numpy"], strict=True)]
        rows.append(
            {
                "agents": n,
                "us_per_agent_step": {impl: median(v) for impl, v in us.items()},
                "us_per_agent_step_range": {impl: spread(v) for impl, v in us.items()},
                # one Mesa agent activation is one whole encounter, i.e. two agent-steps
                "mesa_us_per_activation": 2 * median(us["mesa"]),
                "mesa_over_project": median(mesa_over_project),
                "project_over_numpy": median(project_over_numpy),
            }
        )
    return section.finish(
        unit=(
            f"microseconds per agent-step (one agent in one encounter; a sweep of n agent-steps is n/2 "
            f"encounters), {SWEEPS} sweeps per timed call, complete graph, d={THRESHOLD}, mu={MU}"
        ),
        ratios="median over repeats of the ratio within each repeat",
        rows=rows,
        note="" if 100_000 in sizes else "quick mode: 10^5 agents not measured",
    )
