"""The patterns of DESIGN.md, as directional tests over replications (pattern-oriented modelling).

Each arm runs the shipped scenario file (1,000 residents, 120 months, incremental theory) with
``REPS`` seeds; means are compared with the stated margin. Patterns that do not emerge are kept as strict
xfails with the measured numbers in their reason (and in docs/ODD.md, "Patterns"): if a change to the
model makes one emerge, the xfail turns into a failure and the note must be updated.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from model import load_scenario, simulate

pytestmark = pytest.mark.slow

REPS = 10
STEPS = 120
ROOT = Path(__file__).resolve().parents[1]
DESIGNS = [
    "top_down_consultation",
    "citizens_assembly",
    "action_research_cooperative",
    "participatory_budgeting",
    "co_financed_partnership",
]


@cache
def arm(design: str, **overrides) -> dict[str, dict[str, float]]:
    """Mean outputs at the start, at month 24 and at the end, over REPS seeds."""
    scenario = load_scenario(ROOT / "scenarios" / f"{design}.toml", dict(overrides) or None)
    start, early, end = [], [], []
    for seed in range(REPS):
        rows = simulate(scenario, steps=STEPS, seed=1000 + seed)
        start.append(rows[0])
        early.append(rows[24])
        end.append(rows[-1])
    mean = lambda rows: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}  # noqa: E731
    return {"start": mean(start), "early": mean(early), "end": mean(end)}


def test_top_down_consultation_is_less_procedurally_just_and_more_displaced_than_an_assembly():
    """Margin 0.05 on each."""
    top, assembly = arm("top_down_consultation")["end"], arm("citizens_assembly")["end"]
    assert top["procedural_justice"] < assembly["procedural_justice"] - 0.05
    assert top["consensus_displacement"] > assembly["consensus_displacement"] + 0.05


def test_action_research_cooperative_keeps_more_dissensus_than_the_consensus_designs():
    """toc_attrition below the deliberative designs that force one answer: citizens' assembly (margin 0.1)
    and participatory budgeting (margin 0.3)."""
    arc = arm("action_research_cooperative")["end"]["toc_attrition"]
    assert arc < arm("citizens_assembly")["end"]["toc_attrition"] - 0.1
    assert arc < arm("participatory_budgeting")["end"]["toc_attrition"] - 0.3


def test_action_research_cooperative_keeps_the_most_dissensus_of_all():
    """No design below it (ties allowed: top-down consultation and the co-financed partnership also keep
    every theory of change, because too few people share experiments for any theory to gain a success
    record that imitation could spread)."""
    arc = arm("action_research_cooperative")["end"]["toc_attrition"]
    others = {d: arm(d)["end"]["toc_attrition"] for d in DESIGNS if d != "action_research_cooperative"}
    assert all(arc <= v for v in others.values()), (arc, others)


def test_action_research_cooperative_has_the_highest_transaction_costs():
    """Margin 0.02 over every other design."""
    costs = {d: arm(d)["end"]["transaction_costs"] for d in DESIGNS}
    arc = costs.pop("action_research_cooperative")
    assert all(arc > v + 0.02 for v in costs.values()), (arc, costs)


@pytest.mark.xfail(
    reason=(
        "does not emerge: capacity_networks at month 120 (10 seeds) is highest under participatory budgeting "
        "(0.538) and lower under the cooperative (0.430) than under a citizens' assembly (0.471); "
        "the cooperative trains few people deeply, and the marker counts the whole population"
    )
)
def test_action_research_cooperative_builds_the_most_capacity():
    capacity = {d: arm(d)["end"]["capacity_networks"] for d in DESIGNS}
    arc = capacity.pop("action_research_cooperative")
    assert all(arc > v for v in capacity.values()), (arc, capacity)


def test_participatory_budgeting_moves_distribution_most():
    """Largest rise of `distribution` from the start to month 120 (margin 0.003: the budget share a
    design decides on is small next to the status-quo budget, so all moves are small)."""
    moves = {d: arm(d)["end"]["distribution"] - arm(d)["start"]["distribution"] for d in DESIGNS}
    pb = moves.pop("participatory_budgeting")
    assert all(pb > v + 0.003 for v in moves.values()), (pb, moves)


def test_co_financing_raises_lock_in():
    """Within the co-financed partnership, co-financing 0.6 vs 0.05: lock_in higher by 0.1 at month 24."""
    low = arm("co_financed_partnership", **{"structure.co_financing": 0.05})["early"]
    high = arm("co_financed_partnership", **{"structure.co_financing": 0.6})["early"]
    assert high["lock_in"] > low["lock_in"] + 0.1
    others = [arm(d)["end"]["lock_in"] for d in DESIGNS if d != "co_financed_partnership"]
    assert arm("co_financed_partnership")["end"]["lock_in"] > max(others) + 0.3


@pytest.mark.xfail(
    reason=(
        "does not emerge: capacity_networks at month 24 is 0.383 with co-financing 0.05 and 0.385 with 0.6; "
        "co-financing speeds skills only for the few partners' participants and funds experiments that few "
        "people join, which the population-wide marker hardly registers"
    )
)
def test_co_financing_raises_capacity_fast():
    low = arm("co_financed_partnership", **{"structure.co_financing": 0.05})["early"]
    high = arm("co_financed_partnership", **{"structure.co_financing": 0.6})["early"]
    assert high["capacity_networks"] > low["capacity_networks"] + 0.02


def test_removing_power_asymmetry_and_adding_facilitation_lowers_consensus_bias():
    """Citizens' assembly with equal weights and full facilitation vs officials at 20x with none:
    consensus_bias lower by at least 0.03."""
    fair = arm(
        "citizens_assembly",
        **{"design.official_weight": 1.0, "design.expert_weight": 1.0, "design.facilitation": 1.0},
    )["end"]
    unfair = arm("citizens_assembly", **{"design.official_weight": 20.0, "design.facilitation": 0.0})["end"]
    assert fair["consensus_bias"] < unfair["consensus_bias"] - 0.03
