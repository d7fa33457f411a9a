"""How much memory and time one run of a scenario needs, estimated before it starts.

The schema's bounds say what each parameter may be on its own; together, at their maxima, they describe a
run no machine can hold (200 000 residents, 100 000 participants a month and 10 000 betweenness pivots
make n x k work arrays of about 80 GB). :func:`estimate` gives the peak memory and the time of one run
from the parameters that drive them, and :func:`fit_problems` refuses a run that would not fit in the
memory available here, naming the parameter to lower and the largest value that fits. ``coprod validate``,
``run`` and ``sweep`` call it; ``--allow-large`` turns the refusal into a warning.

The estimate is a sum of the costs that grow with the run (the constants below were measured on the
2-core development machine with ``resource.getrusage``'s peak resident size and wall time, 2026-12-03;
they are upper-bound fits, and time varies with the machine, so the time is a rough guide only):

- memory: the interpreter and libraries, each agent's state, each everyday tie, and the betweenness
  estimate's n x k work arrays (:func:`model.network.betweenness`: about ten float32/int32/bool arrays
  over the governance network's nodes by the sampled pivots);
- time: each agent and tie every month, each participant and exchange at the monthly meeting, and each
  node-pivot cell of the betweenness estimate, which runs at month 0 and every ``betweenness_interval``.
"""

from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass
from typing import Any

# Memory (bytes). Measured peaks: 127 MB for 1 000 residents; 196 MB for 50 000 residents with 8 ties
# each, 345 MB with 50 ties; 3.2 GB for 40 000 participants a month x 2 000 pivots (2026-11, before the
# compiled kernels). Since the kernels (numba and its LLVM, model/jit.py): 207 MB after importing the
# model, 259 MB peak for 1 000 residents, 308 MB for 20 000 residents x 1 000 pivots (2026-12-04).
BASE_BYTES = 260e6  # Python, numpy, Mesa, pydantic, numba's compiler and a small model
BYTES_PER_AGENT = 1_000.0  # arrays of agent state, per resident, official or academic
BYTES_PER_TIE_END = 80.0  # the edge list and its sparse adjacency, per agent and mean tie
# the betweenness work arrays, per network node and sampled pivot: 40 B with the n x k sparse products;
# measured about 3.5 B with the compiled per-pivot search (20 000 residents, 10 000 participants a month:
# 64 -> 5 000 pivots raised the peak by 176 MB), kept at 8 B as an upper bound (assumption)
BYTES_PER_PIVOT_CELL = 8.0
# Time (seconds). Measured: 216 ms a month for 50 000 residents with 8 ties, 1 085 ms with 50; 250 ms
# for 10 000 participants and 4 exchanges each, 388 ms with 20; 4.1 s for 20 000 nodes x 1 000 pivots.
SECONDS_PER_AGENT_MONTH = 1.0e-6
SECONDS_PER_TIE_END_MONTH = 0.41e-6
SECONDS_PER_PARTICIPANT_MONTH = 13e-6
SECONDS_PER_EXCHANGE = 0.86e-6
SECONDS_PER_PIVOT_CELL = 0.5e-6
# Of the memory available here, the share one run may plan to use: the rest is for the operating system,
# the other workers' estimate errors and the estimate's own error (assumption).
USABLE_SHARE = 0.8


@dataclass(frozen=True)
class Footprint:
    """The estimated peak memory (bytes) and wall time (seconds) of one run, and what drives them."""

    memory: float
    seconds: float
    agents: int
    network_nodes: int
    pivots: int
    tie_ends: float

    @property
    def betweenness_memory(self) -> float:
        return BYTES_PER_PIVOT_CELL * self.network_nodes * self.pivots

    def describe(self) -> str:
        return f"about {size(self.memory)} of memory and {duration(self.seconds)} on a 2-core laptop"


def estimate(params: dict[str, Any]) -> Footprint:
    """The footprint of one run from its flat parameters (``Scenario.flat()`` or a sweep run's)."""
    residents = int(params["population.residents"])
    agents = residents + int(params["population.officials"]) + int(params["population.academics"])
    participants = min(residents, int(params["design.participants"]))
    # the governance network: officials, academics, groups and residents who took part lately (at most
    # every resident; fewer when the same people come back)
    recent = min(residents, participants * int(params["run.active_months"]))
    nodes = agents - residents + int(params["population.civil_society_groups"]) + recent
    pivots = min(nodes, int(params["run.betweenness_samples"]))
    tie_ends = agents * (int(params["network.mean_degree"]) + int(params["network.cross_sector_ties"]))
    memory = (
        BASE_BYTES
        + BYTES_PER_AGENT * agents
        + BYTES_PER_TIE_END * tie_ends
        + BYTES_PER_PIVOT_CELL * nodes * pivots
    )
    steps = int(params["run.steps"])
    monthly = (
        SECONDS_PER_AGENT_MONTH * agents
        + SECONDS_PER_TIE_END_MONTH * tie_ends
        + SECONDS_PER_PARTICIPANT_MONTH * participants
        + SECONDS_PER_EXCHANGE * participants * int(params["deliberation.rounds"])
    )
    evaluations = 1 + steps // int(params["run.betweenness_interval"])
    seconds = steps * monthly + evaluations * SECONDS_PER_PIVOT_CELL * nodes * pivots
    return Footprint(memory, seconds, agents, nodes, pivots, tie_ends)


def available_memory() -> float:
    """Bytes this process may still use: the memory the system has free, or less under an rlimit."""
    try:
        import psutil

        free = float(psutil.virtual_memory().available)
    except Exception:  # psutil absent or the system unreadable: assume a small machine
        free = 2e9
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:
            import psutil

            used = float(psutil.Process(os.getpid()).memory_info().vms)
        except Exception:
            used = BASE_BYTES
        free = min(free, max(0.0, soft - used))
    return free


def fit_problems(params: dict[str, Any], available: float | None = None) -> list[tuple[str, str, Any, str]]:
    """``(key, what, got, allowed)`` for a run that would not fit in memory here; empty when it fits.

    The key named is the one whose cost dominates (the betweenness pivots, else the residents), with the
    largest value of it that fits.
    """
    budget = USABLE_SHARE * (available_memory() if available is None else available)
    f = estimate(params)
    if f.memory <= budget:
        return []
    what = (
        f"the run needs {f.describe().removesuffix(' on a 2-core laptop')}, more than the {size(budget)} "
        "usable here"
    )
    rest = f.memory - f.betweenness_memory
    if f.betweenness_memory > rest and budget > rest:
        most = int((budget - rest) / (BYTES_PER_PIVOT_CELL * f.network_nodes))
        return [
            (
                "run.betweenness_samples",
                f"{what} (the betweenness estimate: {f.network_nodes:_} network nodes x {f.pivots:_} pivots)",
                int(params["run.betweenness_samples"]),
                f"at most {max(most, 2):_} here, or fewer residents or participants; --allow-large runs it",
            )
        ]
    per_resident = f.memory / max(1, int(params["population.residents"]))
    most = max(10, math.floor(budget / per_resident))
    return [
        (
            "population.residents",
            what,
            int(params["population.residents"]),
            f"about {most:_} or fewer here; --allow-large runs it",
        )
    ]


def size(n: float) -> str:
    """Bytes in words: ``150 MB``, ``3.2 GB``."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def duration(seconds: float) -> str:
    """Seconds in words: ``2 s``, ``4 min``, ``3.5 h``, ``12 days``."""
    if seconds < 90:
        return f"{max(seconds, 0.1):.2g} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.0f} days"
