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

The month's experiments run in turn (a success's skill counts for a later team with the same members), in
one compiled kernel (:mod:`model.jit`, issue 18) beside the plain version that documents them
(:func:`_experiment`, :func:`_plain_act`); so do delivery, residents' benefits and finding the
incrementalists acting (:func:`_plain_deliver`, :func:`_plain_grassroots`); ``tests/test_fast_initiatives.py``
checks that they agree. Their random numbers are drawn here, from ``m.rng``, in the plain version's order
and sizes (the grassroots teams by numpy's own ``choice``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from coprod.model.decisions import Decision
from coprod.model.jit import kernel
from coprod.model.kinds import INCREMENTAL, N_THEORIES, OFFICIAL, RESIDENT
from coprod.model.mobilisation import actor_effort

_INCREMENTAL, _OFFICIAL, _RESIDENT = int(INCREMENTAL), int(OFFICIAL), int(RESIDENT)  # for the kernels
_N_THEORIES = int(N_THEORIES)
_NO_EFFORT = np.zeros(0)  # the design's experiments are paid from the pot, not with members' own time


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
    residents_in = int(np.count_nonzero(p.taking_part[:r]))
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
    # residents' benefits: the routine spending plus what was delivered, per head of their district
    _benefits_kernel(
        p.benefits,
        p.district,
        r,
        float((1 - s.design.budget_share) * budget),
        m.status_quo,
        delivered,
        m.district_population,
    )
    if decision.teams:  # the design's experiments, then (below) incrementalists' own: the plain order
        experiment_all(m, decision.teams, experiments / len(decision.teams), out)
    effort = m.flows.effort if m.flows.effort is not None else actor_effort(m)  # last month's effort
    own = grassroots(m, effort)  # incrementalists' own experiments, on their own time, no money
    if own:
        experiment_all(m, own, 0.0, out, effort=effort)
    return out


def _plain_act(m, decision: Decision) -> Outcome:
    """Reference for :func:`act`: the same in numpy, with the experiments run one by one by
    :func:`_experiment` (and :func:`_plain_deliver`, :func:`_plain_grassroots`)."""
    p, s, st = m.people, m.settings, m.structure
    budget = s.resources.budget
    r = m.n_residents
    cf = st["co_financing"]
    decided = s.design.budget_share * budget * (1 + cf)
    residents_in = int((p.taking_part[:r]).sum())
    out = Outcome(
        decided_budget=decided,
        process_spend=s.design.stipend * s.resources.stipend_amount * residents_in
        + s.design.facilitation * s.resources.facilitation_cost * (residents_in > 0),
        toc_trials=np.zeros(N_THEORIES),
        toc_successes=np.zeros(N_THEORIES),
    )
    experiments = s.resources.experiment_share * decided if decision.teams else 0.0
    allocated = max(0.0, decided - out.process_spend - experiments)
    delivered = _plain_deliver(m, decision, allocated, cf, out)
    spend = (1 - s.design.budget_share) * budget * m.status_quo + delivered
    per_head = spend / np.maximum(m.district_population, 1)
    p.benefits[:r] = per_head[p.district[:r]]
    for team in decision.teams:  # a handful of experiments a month: a loop over teams, not agents
        _experiment(m, team, experiments / len(decision.teams), out)
    effort = m.flows.effort if m.flows.effort is not None else actor_effort(m)  # last month's effort
    for team in _plain_grassroots(m, effort):  # incrementalists' own experiments, on their own time, no money
        _experiment(m, team, 0.0, out, in_kind=float(effort[team].sum()) * s.resources.stipend_amount)
    return out


def grassroots(m, effort: np.ndarray) -> list[np.ndarray]:
    """Incrementalists start experiments of their own: Poisson(``theory.grassroots`` x their effort)
    teams of ``theory.team_size`` drawn from the incrementalists acting. :func:`_plain_grassroots` with the
    acting and their effort found in one compiled pass; the teams are drawn by numpy, as there."""
    th = m.settings.theory
    acting, total = _acting_kernel(m.people.toc, effort)
    if len(acting) == 0:
        return []
    n = int(m.rng.poisson(th.grassroots * total))
    size = min(th.team_size, len(acting))
    return [m.rng.choice(acting, size=size, replace=False) for _ in range(n)]


def _plain_grassroots(m, effort: np.ndarray) -> list[np.ndarray]:
    """Reference for :func:`grassroots`."""
    p, th = m.people, m.settings.theory
    acting = np.flatnonzero((p.toc == INCREMENTAL) & (effort > 0))
    if len(acting) == 0:
        return []
    n = int(m.rng.poisson(th.grassroots * effort[acting].sum()))
    size = min(th.team_size, len(acting))
    return [m.rng.choice(acting, size=size, replace=False) for _ in range(n)]


def deliver(m, decision: Decision, allocated: float, cf: float, out: Outcome) -> np.ndarray:
    """Commit this month's decided money to the pipeline and deliver from it; returns GBP per district.
    :func:`_plain_deliver` in one compiled pass."""
    flows, s = m.flows, m.settings
    delivered, out.bound = _deliver_kernel(
        m.people.kind,
        m.people.view,
        float(decision.position),
        flows.pipeline,
        flows.partner_pipeline,
        decision.allocation,
        float(allocated),
        float(cf),
        float(s.context.state_capacity),
        float(s.resources.commitment_months),
    )
    out.committed = allocated
    return delivered


def _plain_deliver(m, decision: Decision, allocated: float, cf: float, out: Outcome) -> np.ndarray:
    """Reference for :func:`deliver`."""
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


def experiment_all(
    m, teams: list[np.ndarray], funds: float, out: Outcome, effort: np.ndarray | None = None
) -> None:
    """Run ``teams``' experiments in turn, each funded with ``funds`` GBP from the pot and, given this
    month's ``effort``, its members' own time valued at the stipend: :func:`_experiment` for each team, in
    one compiled kernel. Each experiment draws ``N_THEORIES`` tie-breaks and then its success, as the plain
    loop does; the draws come first, in one call of the same size (``random`` draws one double at a time)."""
    p, s = m.people, m.settings
    draws = m.rng.random((len(teams), _N_THEORIES + 1))
    starts = np.zeros(len(teams) + 1, dtype=np.int64)
    np.cumsum([len(team) for team in teams], out=starts[1:])
    out.successes += _experiments_kernel(
        np.concatenate(teams),
        starts,
        draws,
        float(funds),
        effort is not None,
        _NO_EFFORT if effort is None else effort,
        float(s.resources.stipend_amount),
        p.knows,
        p.item_lay,
        p.skill,
        p.fatigue,
        p.toc,
        p.kind,
        p.view,
        p.district,
        p.adopted,
        p.benefits,
        m.n_residents,
        len(m.district_population),
        m.flows.readiness,
        float(s.resources.experiment_cost),  # floats throughout: one compiled signature
        float(s.behaviour.experiment_floor),
        float(s.theory.experiment_success),
        float(s.behaviour.success_learning),
        float(s.behaviour.support_line),
        out.toc_trials,
        out.toc_successes,
    )
    out.experiments += len(teams)


# numpy sums floats pairwise (numpy/_core/src/umath/loops_utils.h.src): under a block of eight terms one by
# one, up to 128 terms in eight running sums added as a tree, above that two halves (cut at a multiple of
# eight) summed apart. A kernel that feeds a threshold (an experiment's success) sums exactly so.
_UNROLL = 8
_BLOCK = 128


@kernel
def _pairwise_block(a, lo, n):
    """numpy's sum of at most a block of terms ``a[lo:lo + n]``."""
    if n < _UNROLL:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r = a[lo : lo + _UNROLL].copy()
    i = _UNROLL
    while i < n - n % _UNROLL:
        for j in range(_UNROLL):
            r[j] += a[lo + i + j]
        i += _UNROLL
    step = 1  # the running sums added as a tree: ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while step < _UNROLL:
        for j in range(0, _UNROLL, 2 * step):
            r[j] += r[j + step]
        step *= 2
    res = r[0]
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@kernel
def _numpy_sum(a, lo, n):
    """``a[lo:lo + n].sum()`` rounded as numpy rounds it (float64, contiguous): numpy's recursion into
    halves, walked with a stack (a recursive kernel cannot be cached)."""
    if n <= _BLOCK:
        return _pairwise_block(a, lo, n)
    depth = 1  # frames on the stack: neither half holds more than size // 2 + _UNROLL terms
    size = n
    while size > _BLOCK:
        size = size // 2 + _UNROLL
        depth += 1
    starts = np.empty(depth, dtype=np.int64)
    sizes = np.empty(depth, dtype=np.int64)
    stage = np.zeros(depth, dtype=np.int64)  # 0: left half next, 1: right half next, 2: both summed
    left = np.empty(depth)
    starts[0], sizes[0], top, ret = lo, n, 0, 0.0
    while top >= 0:
        if sizes[top] <= _BLOCK:
            ret = _pairwise_block(a, starts[top], sizes[top])
            top -= 1
            continue
        half = sizes[top] // 2
        half -= half % _UNROLL
        if stage[top] == 2:
            ret = left[top] + ret
            top -= 1
            continue
        if stage[top] == 1:
            left[top] = ret
        stage[top] += 1
        # the next half: the left one first, then the right one
        child_start = starts[top] if stage[top] == 1 else starts[top] + half
        child_size = half if stage[top] == 1 else sizes[top] - half
        top += 1
        starts[top], sizes[top], stage[top] = child_start, child_size, 0
    return ret


_complementarity = kernel(complementarity)


@kernel
def _experiments_kernel(
    members,
    starts,
    draws,
    funds,
    own_time,
    effort,
    stipend,
    knows,
    item_lay,
    skill,
    fatigue,
    toc,
    kind,
    view,
    district,
    adopted,
    benefits,
    r,
    n_districts,
    readiness,
    cost,
    floor,
    chance,
    learning,
    line,
    toc_trials,
    toc_successes,
):
    """:func:`_experiment` for the teams ``members[starts[e]:starts[e + 1]]`` in turn, with experiment
    ``e``'s tie-breaks ``draws[e, :-1]`` and success draw ``draws[e, -1]``; updates skill, adoption,
    benefits and the trial and success counts in place; returns the number of successes."""
    n_items = knows.shape[1]
    held = np.empty(n_items, dtype=np.bool_)
    counts = np.empty(len(toc_trials))
    local = np.empty(n_districts, dtype=np.bool_)
    width = 0
    for e in range(len(starts) - 1):
        width = max(width, starts[e + 1] - starts[e])
    values = np.empty(width)
    successes = 0
    for e in range(len(starts) - 1):
        lo, hi = starts[e], starts[e + 1]
        size = hi - lo
        # the lay share of the items the team holds between them
        held[:] = False
        for a in range(lo, hi):
            row = members[a]
            for j in range(n_items):
                if knows[row, j]:
                    held[j] = True
        n_held = 0
        n_lay = 0
        for j in range(n_items):
            if held[j]:
                n_held += 1
                if item_lay[j]:
                    n_lay += 1
        mix = _complementarity(n_lay / max(n_held, 1))
        for a in range(lo, hi):
            values[a - lo] = skill[members[a]] * (1 - fatigue[members[a]])
        capability = _numpy_sum(values, 0, size) / size if size else np.nan
        in_kind = 0.0
        if own_time:
            for a in range(lo, hi):
                values[a - lo] = effort[members[a]]
            in_kind = _numpy_sum(values, 0, size) * stipend
        resources = funds + in_kind
        resourcing = resources / (resources + cost) if resources > 0 else 0.0
        # the team's theory; ties (whole counts) broken at random
        counts[:] = 0.0
        for a in range(lo, hi):
            counts[toc[members[a]]] += 1
        theory = 0
        for k in range(1, len(counts)):
            if counts[k] + draws[e, k] > counts[theory] + draws[e, theory]:
                theory = k
        fit = capability * resourcing if theory == _INCREMENTAL else readiness[theory]
        chances = (
            (floor + (1 - floor) * mix)
            * (floor + (1 - floor) * capability)
            * (floor + (1 - floor) * resourcing)
            * (floor + (1 - floor) * fit)
        )
        toc_trials[theory] += 1
        if not draws[e, len(counts)] < chance * chances:
            continue
        successes += 1
        toc_successes[theory] += 1
        any_resident = False
        local[:] = False
        for a in range(lo, hi):
            i = members[a]
            skill[i] += learning * (1 - skill[i])
            if kind[i] == _OFFICIAL and view[i] > line:
                adopted[i] = True
            if kind[i] == _RESIDENT:
                local[district[i]] = True
                any_resident = True
        if any_resident:  # the districts its residents come from share the experiment's money
            here = 0
            for i in range(r):
                if local[district[i]]:
                    here += 1
            share = funds / max(here, 1)
            for i in range(r):
                if local[district[i]]:
                    benefits[i] += share
    return successes


@kernel
def _acting_kernel(toc, effort):
    """The incrementalists acting (``effort > 0``), in order, and their effort summed as numpy sums it."""
    acting = np.empty(toc.size, dtype=np.int64)
    n = 0
    for i in range(toc.size):
        if toc[i] == _INCREMENTAL and effort[i] > 0:
            acting[n] = i
            n += 1
    values = np.empty(n)
    for a in range(n):
        values[a] = effort[acting[a]]
    return acting[:n].copy(), _numpy_sum(values, 0, n)


@kernel
def _deliver_kernel(
    kind, view, position, pipeline, partner_pipeline, allocation, allocated, cf, state_capacity, months
):
    """:func:`_plain_deliver`'s arithmetic, element by element in its order: updates the two pipelines in
    place; returns the GBP delivered per district and what the pipelines held before (``bound``)."""
    n_officials = 0
    for i in range(kind.size):
        if kind[i] == _OFFICIAL:
            n_officials += 1
    views = np.empty(n_officials)
    n_officials = 0
    for i in range(kind.size):
        if kind[i] == _OFFICIAL:
            views[n_officials] = view[i]
            n_officials += 1
    # officials' mean view as numpy's mean rounds it (the mean of none is nan)
    official_view = _numpy_sum(views, 0, n_officials) / n_officials if n_officials else np.nan
    support = 1 - abs(official_view - position)
    bound = _numpy_sum(pipeline, 0, pipeline.size) + _numpy_sum(partner_pipeline, 0, partner_pipeline.size)
    public_share = allocated / (1 + cf)
    partner_share = allocated * cf / (1 + cf)
    rate = state_capacity * support
    delivered = np.empty(pipeline.size)
    for d in range(pipeline.size):
        pipeline[d] += public_share * allocation[d]
        partner_pipeline[d] += partner_share * allocation[d]
        public = rate * pipeline[d]
        partners = partner_pipeline[d] / months
        pipeline[d] -= public
        partner_pipeline[d] -= partners
        delivered[d] = public + partners
    return delivered, bound


@kernel
def _benefits_kernel(benefits, district, r, routine, status_quo, delivered, population):
    """Each resident's benefit: the routine spending (``routine x status_quo``) plus what was delivered to
    their district, per head (at least one)."""
    per_head = np.empty(status_quo.size)
    for d in range(status_quo.size):
        per_head[d] = (routine * status_quo[d] + delivered[d]) / max(population[d], 1)
    for i in range(r):
        benefits[i] = per_head[district[i]]
