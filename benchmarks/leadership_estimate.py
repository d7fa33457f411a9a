"""(g) What the sampled betweenness behind ``leadership_concentration`` costs, and how wrong it is.

Issue 18 asks for data collection within 10% of a step; the yearly betweenness estimate is most of what
a sweep's collection costs (part b). A cheaper estimate is fewer pivots, so this part sets its cost beside
its error. On the benchmark scenario (:mod:`benchmarks.model_step`, participatory budgeting, the largest
governance network of the five designs) at month ``MONTH``: the exact Gini of betweenness (every node a
pivot), then for each pivot count, over ``DRAWS`` pivot draws, the mean error of the plain sampled Gini
and of the jackknifed one the model reports (:func:`model.inequality.jackknife_gini`), the latter's
standard deviation, and the estimate's cost as a share of a step when it runs once every 12 months (the
default ``run.betweenness_interval``). Then the table of ODD 7.9: the default city at 1,000 residents under
each design at month 120, the default 64 pivots, errors only (``DESIGN_DRAWS`` draws).
"""

from __future__ import annotations

import time

import numpy as np
from coprod.model.inequality import gini, jackknife_gini
from coprod.model.metrics import JACKKNIFE_GROUPS, _active
from coprod.model.network import betweenness, pivot_dependencies

from benchmarks.common import Section, median, say
from benchmarks.model_step import build

MONTH = 14  # as ODD's first measurement of the estimate's bias (the 10,000-resident benchmark scenario)
PIVOTS = (16, 32, 64, 128)
DRAWS = {"quick": 8, "default": 20, "full": 40}
SIZES = {"quick": (2_000,), "default": (2_000, 10_000), "full": (2_000, 10_000)}
INTERVAL = 12  # months between estimates: run.betweenness_interval's default
DESIGN_MONTH, DESIGN_PIVOTS, DESIGN_DRAWS = 120, 64, 30


def _network(model) -> tuple[np.ndarray, float]:
    """The model's governance network (its nodes) and the exact Gini of their betweenness."""
    nodes = np.flatnonzero(_active(model))
    return nodes, gini(betweenness(model.edges, nodes, len(nodes), None))


def _errors(model, network, pivots: int, draws: int, rng: np.random.Generator) -> dict:
    """The estimates' errors against the exact Gini, and their cost, over ``draws`` pivot draws."""
    nodes, exact = network
    plain, corrected, seconds = [], [], []
    for _ in range(draws):
        start = time.perf_counter()
        per_pivot = pivot_dependencies(model.edges, nodes, pivots, rng)
        corrected.append(jackknife_gini(per_pivot, JACKKNIFE_GROUPS))
        seconds.append(time.perf_counter() - start)
        plain.append(gini(per_pivot.sum(axis=1, dtype=np.float64)))
    return {
        "nodes": len(nodes),
        "exact": exact,
        "pivots": pivots,
        "estimate_s": median(seconds),
        "plain_bias": float(np.mean(plain)) - exact,
        "jackknife_bias": float(np.mean(corrected)) - exact,
        "jackknife_sd": float(np.std(corrected)),
    }


def run(mode: str) -> dict:
    from coprod.model import GovernanceModel, Scenario
    from coprod.model.scenario import DesignKind

    section = Section("estimate", mode, DRAWS[mode])
    rows = []
    for residents in SIZES[mode]:
        model = build(residents)
        steps = []
        for _ in range(MONTH):
            start = time.perf_counter()
            model.step()
            steps.append(time.perf_counter() - start)
        step_s = median(steps)
        rng = np.random.default_rng(residents)
        network = _network(model)
        row = {"residents": residents, "step_ms": step_s * 1e3, "nodes": len(network[0]), "exact": network[1]}
        row["pivots"] = []
        for k in PIVOTS:
            e = _errors(model, network, k, DRAWS[mode], rng)
            e["estimate_ms"] = e.pop("estimate_s") * 1e3
            e["share_of_step"] = e["estimate_ms"] / (e["estimate_ms"] + INTERVAL * row["step_ms"])
            row["pivots"].append(e)
            say(f"estimate: {residents:,} residents, {k} pivots: {e}")
        rows.append(row)
    designs = []
    for kind in DesignKind:
        model = GovernanceModel(Scenario.build({"design": {"kind": kind.value}}), record=False)
        for _ in range(DESIGN_MONTH):
            model.step()
        e = _errors(model, _network(model), DESIGN_PIVOTS, DESIGN_DRAWS, np.random.default_rng(DESIGN_MONTH))
        designs.append({"design": kind.value, **e})
        say(f"estimate: {kind.value} at month {DESIGN_MONTH}: {e}")
    return section.finish(
        month=MONTH,
        interval=INTERVAL,
        groups=JACKKNIFE_GROUPS,
        rows=rows,
        design_month=DESIGN_MONTH,
        design_draws=DESIGN_DRAWS,
        designs=designs,
    )
