"""Act: spending and experiments. Outcomes depend on capacity, resources and the lay/expert knowledge mix.

- The status-quo budget follows population tilted towards better-off districts by ``context.elite_bias``
  and is delivered as routine.
- The pot the design decides on (its budget share plus partners' co-financing) pays for the process and the
  experiments; the rest is *committed* to districts by the decision's allocation and waits in a delivery
  pipeline. Public money leaves the pipeline at the implementation rate ``state_capacity x support``, where
  support is how far officials agree with the decision (``1 - |officials' mean view - position|``):
  officials implement what they agree with (the implementation gap, Pressman & Wildavsky 1973; street-level
  discretion, Lipsky 1980). Partners' co-financed money is tied for ``resources.commitment_months`` on
  average. Money committed in earlier months binds this month's spending: that share is ``lock_in``.
- Besides the design's experiments (funded from the pot), incrementalists run experiments of their own
  (:func:`grassroots`) with no money, resourced by their members' own effort valued at the stipend
  (``resources.stipend_amount`` per person-month): prefigurative practice needs no one's permission.
- Experiments succeed with ``theory.experiment_success`` scaled by four factors, each ``floor + (1 - floor)
  x`` with ``floor = behaviour.experiment_floor``: the complementarity of lay and expert knowledge, ``4 l (1 -
  l)`` for lay share ``l`` of the team's items (Jasanoff 2004; Frantzeskaki & Kabisch 2016), the team's
  capability (skill net of fatigue), how well it is resourced (``R / (R + resources.experiment_cost)`` for R
  the money plus the time valued), and the *fit* between the team's theory of change (its members' most held)
  and the context: an incremental experiment needs capacity and resources again (capability x resourcing), any
  other theory's experiment needs its condition (last month's readiness, :mod:`model.conditions`). So
  success-biased imitation of theories (:mod:`model.learning`) learns which theory fits this city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from coprod.model.decisions import Decision
from coprod.model.kinds import INCREMENTAL, N_THEORIES, OFFICIAL, RESIDENT
from coprod.model.mobilisation import actor_effort


@dataclass
class Outcome:
    decided_budget: float = 0.0  # GBP this month under the design's decision
    process_spend: float = 0.0  # GBP this month on stipends and facilitation
    experiments: int = 0
    successes: int = 0
    bound: float = 0.0  # GBP committed in earlier months and still to be delivered
    committed: float = 0.0  # GBP committed this month
    toc_trials: np.ndarray | None = None
    toc_successes: np.ndarray | None = None


def complementarity(lay: float) -> float:
    """Lay and expert knowledge as complements: ``4 l (1 - l)`` for lay share ``l`` (0 with one kind only, 1
    at an even mix; the 4 scales the peak to 1). Jasanoff 2004; Frantzeskaki & Kabisch 2016."""
    return 4 * lay * (1 - lay)


def status_quo_allocation(population: np.ndarray, need: np.ndarray, elite_bias: float) -> np.ndarray:
    spread = need.max() - need.min()
    rank = (need - need.min()) / spread if spread > 0 else np.zeros(len(need))  # no spread: no tilt
    w = population * (1 + elite_bias * (1 - 2 * rank))
    return w / w.sum()


def act(m, decision: Decision) -> Outcome:
    p, s, st = m.people, m.settings, m.structure
    budget = s.resources.budget
    r = m.n_residents
    cf = st["co_financing"]
    # the pot the design decides on: its budget share plus partners' co-financing on top
    decided = s.design.budget_share * budget * (1 + cf)
    residents_in = int((p.taking_part[:r]).sum())
    out = Outcome(
        decided_budget=decided,
        process_spend=s.design.stipend * s.resources.stipend_amount * residents_in
        + s.design.facilitation * s.resources.facilitation_cost * (residents_in > 0),
        toc_trials=np.zeros(N_THEORIES),
        toc_successes=np.zeros(N_THEORIES),
    )
    # the pot pays for the process and for experiments; the rest is committed by the decision
    experiments = s.resources.experiment_share * decided if decision.teams else 0.0
    allocated = max(0.0, decided - out.process_spend - experiments)
    delivered = deliver(m, decision, allocated, cf, out)
    spend = (1 - s.design.budget_share) * budget * m.status_quo + delivered
    per_head = spend / np.maximum(m.district_population, 1)
    p.benefits[:r] = per_head[p.district[:r]]
    for team in decision.teams:  # a handful of experiments a month: a loop over teams, not agents
        _experiment(m, team, experiments / len(decision.teams), out)
    effort = m.flows.effort if m.flows.effort is not None else actor_effort(m)  # last month's effort
    for team in grassroots(m, effort):  # incrementalists' own experiments, on their own time, no money
        _experiment(m, team, 0.0, out, in_kind=float(effort[team].sum()) * s.resources.stipend_amount)
    return out


def grassroots(m, effort: np.ndarray) -> list[np.ndarray]:
    """Incrementalists start experiments of their own: Poisson(``theory.grassroots`` x their effort)
    teams of ``theory.team_size`` drawn from the incrementalists acting."""
    p, th = m.people, m.settings.theory
    acting = np.flatnonzero((p.toc == INCREMENTAL) & (effort > 0))
    if len(acting) == 0:
        return []
    n = int(m.rng.poisson(th.grassroots * effort[acting].sum()))
    size = min(th.team_size, len(acting))
    return [m.rng.choice(acting, size=size, replace=False) for _ in range(n)]


def deliver(m, decision: Decision, allocated: float, cf: float, out: Outcome) -> np.ndarray:
    """Commit this month's decided money to the pipeline and deliver from it; returns GBP per district."""
    p, flows = m.people, m.flows
    officials = p.kind == OFFICIAL
    support = 1 - abs(float(p.view[officials].mean()) - decision.position)
    out.bound = float(flows.pipeline.sum() + flows.partner_pipeline.sum())
    out.committed = allocated
    flows.pipeline += allocated / (1 + cf) * decision.allocation
    flows.partner_pipeline += allocated * cf / (1 + cf) * decision.allocation
    public = m.settings.context.state_capacity * support * flows.pipeline
    partners = flows.partner_pipeline / m.settings.resources.commitment_months
    flows.pipeline -= public
    flows.partner_pipeline -= partners
    return public + partners


def _experiment(m, team: np.ndarray, funds: float, out: Outcome, in_kind: float = 0.0) -> None:
    """One experiment funded with ``funds`` GBP from the pot and ``in_kind`` GBP of members' own time."""
    p, s = m.people, m.settings
    held = p.knows[team].any(axis=0)
    lay = held[p.item_lay].sum() / max(held.sum(), 1)
    mix = complementarity(lay)
    capability = float(np.mean(p.skill[team] * (1 - p.fatigue[team])))
    resources = funds + in_kind
    resourcing = resources / (resources + s.resources.experiment_cost) if resources > 0 else 0.0
    counts = np.bincount(p.toc[team], minlength=N_THEORIES)
    # the team's theory; ties (whole counts) broken at random
    theory = int(np.argmax(counts + m.rng.random(N_THEORIES)))
    fit = capability * resourcing if theory == INCREMENTAL else float(m.flows.readiness[theory])
    floor = s.behaviour.experiment_floor
    factors = floor + (1 - floor) * np.array([mix, capability, resourcing, fit])
    success = bool(m.rng.random() < s.theory.experiment_success * factors.prod())
    out.experiments += 1
    out.toc_trials[theory] += 1
    if not success:
        return
    out.successes += 1
    out.toc_successes[theory] += 1
    p.skill[team] += s.behaviour.success_learning * (1 - p.skill[team])
    # officials on the team adopt the practice that worked if they back change (street-level discretion,
    # Lipsky 1980: an official who opposes it does not carry it into routine)
    line = s.behaviour.support_line
    p.adopted[team[(p.kind[team] == OFFICIAL) & (p.view[team] > line)]] = True
    # a successful experiment benefits the districts its residents come from
    districts = np.unique(p.district[team[p.kind[team] == RESIDENT]])
    if len(districts):
        r = m.n_residents
        here = np.isin(p.district[:r], districts)
        p.benefits[:r][here] += funds / max(int(here.sum()), 1)
