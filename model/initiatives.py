"""Act: spending and experiments. Outcomes depend on capacity, resources and the lay/expert knowledge mix.

- The status-quo budget follows population tilted towards better-off districts by ``context.elite_bias``;
  the share the design decides on follows the decision's allocation, except the part locked in earlier
  co-financed commitments, which keeps following the partners' earlier allocation (lock-in).
- Delivery is scaled by ``context.state_capacity``.
- Experiments succeed with ``theory.experiment_success`` scaled by the team's capability, by how well
  they are resourced (``funds / (funds + resources.experiment_cost)``) and by the complementarity of
  lay and expert knowledge, ``4 l (1 - l)`` for lay share ``l`` of the team's items (lay and expert
  knowledge as complements, Jasanoff 2004; Frantzeskaki & Kabisch 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.decisions import Decision
from model.world import N_THEORIES, OFFICIAL, RESIDENT

EXPERIMENT_SHARE = 0.1  # share of the decided pot that funds the month's experiments


@dataclass
class Outcome:
    decided_budget: float = 0.0  # GBP this month under the design's decision
    process_spend: float = 0.0  # GBP this month on stipends and facilitation
    experiments: int = 0
    successes: int = 0
    cross_sector: int = 0  # experiments whose team spans sectors
    toc_trials: np.ndarray | None = None
    toc_successes: np.ndarray | None = None


def status_quo_allocation(population: np.ndarray, need: np.ndarray, elite_bias: float) -> np.ndarray:
    spread = need.max() - need.min()
    rank = (need - need.min()) / spread if spread > 0 else np.full(len(need), 0.5)
    w = population * (1 + elite_bias * (1 - 2 * rank))
    return w / w.sum()


def act(m, decision: Decision) -> Outcome:
    p, s, st = m.people, m.scenario, m.structure
    budget = s.resources.budget
    r = m.n_residents
    # the pot the design decides on: its budget share plus partners' co-financing on top
    decided = s.design.budget_share * budget * (1 + st["co_financing"])
    residents_in = int((p.taking_part[:r]).sum())
    out = Outcome(
        decided_budget=decided,
        process_spend=s.design.stipend * s.resources.stipend_amount * residents_in
        + s.design.facilitation * s.resources.facilitation_cost * (residents_in > 0),
        toc_trials=np.zeros(N_THEORIES),
        toc_successes=np.zeros(N_THEORIES),
    )
    # the pot pays for the process and a tenth of it for experiments; the rest is allocated
    experiments = EXPERIMENT_SHARE * decided if decision.teams else 0.0
    allocated = max(0.0, decided - out.process_spend - experiments)
    lock = m.lock_in
    allocation = lock * m.locked_allocation + (1 - lock) * decision.allocation
    if st["co_financing"] > 0:  # commitments made now follow this decision for their term
        m.locked_allocation = 0.9 * m.locked_allocation + 0.1 * decision.allocation
    spend = (1 - s.design.budget_share) * budget * m.status_quo + allocated * allocation
    delivered = spend * (0.5 + 0.5 * s.context.state_capacity)
    per_head = delivered / np.maximum(m.district_population, 1)
    p.benefits[:r] += per_head[p.district[:r]]
    for team in decision.teams:  # a handful of experiments a month: a loop over teams, not agents
        _experiment(m, team, experiments / len(decision.teams), out)
    return out


def _experiment(m, team: np.ndarray, funds: float, out: Outcome) -> None:
    p, s = m.people, m.scenario
    held = p.knows[team].any(axis=0)
    lay = held[p.item_lay].sum() / max(held.sum(), 1)
    mix = 4 * lay * (1 - lay)
    capability = float(np.mean(p.skill[team] * (1 - p.fatigue[team])))
    resourcing = funds / (funds + s.resources.experiment_cost) if funds > 0 else 0.0
    chance = np.clip(
        s.theory.experiment_success * (0.5 + 0.5 * mix) * (0.5 + capability) * (0.5 + resourcing), 0, 1
    )
    success = bool(m.rng.random() < chance)
    counts = np.bincount(p.toc[team], minlength=N_THEORIES)
    theory = int(np.argmax(counts + 0.5 * m.rng.random(N_THEORIES)))  # the team's theory; ties at random
    out.experiments += 1
    out.toc_trials[theory] += 1
    kinds = np.unique(p.kind[team])
    out.cross_sector += int(len(kinds) > 1 and (kinds != RESIDENT).any())
    if not success:
        return
    out.successes += 1
    out.toc_successes[theory] += 1
    p.skill[team] += 0.05 * (1 - p.skill[team])
    p.adopted[team[p.kind[team] == OFFICIAL]] = True
    # a successful experiment benefits the districts its residents come from
    districts = np.unique(p.district[team[p.kind[team] == RESIDENT]])
    if len(districts):
        r = m.n_residents
        here = np.isin(p.district[:r], districts)
        p.benefits[:r][here] += funds / max(int(here.sum()), 1)
