"""The world at the start: actors' array state, districts with needs, groups, knowledge and ties.

Actors are rows of one set of arrays, in the order residents, officials, academics, civil-society groups.
Initial views are drawn per group around the scenario's means (``context.*_view``), clipped to [0, 1].
Who holds which item and what items say (also drawn afresh each month, :mod:`model.knowledge`) are compiled
kernels (:mod:`model.jit`, issue 18) beside their plain versions; ``tests/test_fast_world.py`` checks that
they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from coprod.model.jit import kernel
from coprod.model.kinds import ACADEMIC, N_KINDS, N_THEORIES, OFFICIAL, RESIDENT, THEORY_INDEX, Kind
from coprod.model.network import homophilous_small_world, unique_edges
from coprod.model.scenario import Scenario

_RESIDENT, _OFFICIAL, _ACADEMIC = int(RESIDENT), int(OFFICIAL), int(ACADEMIC)  # for the kernels


@dataclass
class People:
    """Array state of every actor (rows) and of the knowledge items (columns of ``knows``)."""

    kind: np.ndarray  # int8: a Kind
    district: np.ndarray  # int: district index
    marginalised: np.ndarray  # bool: deprived residents
    view: np.ndarray  # float 0-1: how much change is needed
    view0: np.ndarray  # float 0-1: initial view (anchor)
    salience: np.ndarray  # float 0-1: justice framing
    salience0: np.ndarray  # float 0-1: initial framing (anchor)
    toc: np.ndarray  # int8: theory of change held (index into THEORY_INDEX)
    capacity: np.ndarray  # float: share of a month available for taking part
    fatigue: np.ndarray  # float 0-1: emotional labour
    skill: np.ndarray  # float 0-1: capability
    trust: np.ndarray  # float (n, 4) 0-1: trust in each kind
    benefits: np.ndarray  # float GBP received this month (residents)
    burden: np.ndarray  # float: cumulative cost / capacity of taking part
    turns: np.ndarray  # int: months taken part
    last_turn: np.ndarray  # int: step of the last month taken part (-1 never)
    positionality: np.ndarray  # float 0-1 (academics): engaged vs detached
    mobilisation: np.ndarray  # float 0-1 (groups)
    adopted: np.ndarray  # bool (officials): adopted experimental practices
    accountability: np.ndarray  # float 0-1 (officials): answers downward to citizens (1) or upward (0)
    group_of: np.ndarray  # int: group index of a resident, -1 if none
    taking_part: np.ndarray  # bool: in this month's meeting
    knows: np.ndarray  # bool (n, K): knowledge items held
    item_lay: np.ndarray  # bool (K,): lay/community item (else expert)
    item_value: np.ndarray  # float (K,): what the item says about needed change
    in_evidence: np.ndarray  # bool (K,): in the evidence base (expert items at the start; believed since)
    first_group: int  # row of the first group

    @property
    def n(self) -> int:
        return len(self.kind)


def district_needs(scenario: Scenario, marginalised_by_district: np.ndarray, city_share: float) -> np.ndarray:
    """Need of each district in [need_floor, 1]: its share of marginalised residents, blended by
    ``1 - inequality`` with the city-wide share (with no inequality every district needs the same)."""
    ctx = scenario.context
    deprivation = (1 - ctx.inequality) * city_share + ctx.inequality * marginalised_by_district
    return ctx.need_floor + (1 - ctx.need_floor) * deprivation


def beta_draw(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    """Beta draws by mean and concentration (``a + b``)."""
    return rng.beta(mean * concentration, (1 - mean) * concentration, n)


def build_people(s: Scenario, rng: np.random.Generator) -> People:
    pop, ctx, dl = s.population, s.context, s.deliberation
    kappa = pop.trait_concentration
    r, o, a, g = pop.residents, pop.officials, pop.academics, pop.civil_society_groups
    n = r + o + a + g
    kind = np.repeat(np.array(list(Kind), dtype=np.int8), [r, o, a, g])

    # Districts: residents spread evenly; the deprived concentrate in some districts (segregation grows
    # with inequality), which is what makes need differ between districts.
    district = np.empty(n, dtype=np.int64)
    district[:r] = rng.permutation(np.arange(r) % pop.districts)
    deprivation_odds = 1 + ctx.segregation * ctx.inequality * (
        np.arange(pop.districts) / max(1, pop.districts - 1)
    )
    p_marg = np.clip(
        pop.marginalised_share * deprivation_odds[district[:r]] / np.mean(deprivation_odds[district[:r]]),
        0,
        1,
    )
    marginalised = np.zeros(n, dtype=bool)
    marginalised[:r] = rng.random(r) < p_marg
    district[r:] = rng.integers(0, pop.districts, n - r)

    # Initial views by group
    mean_view = np.select(
        [kind == OFFICIAL, kind == ACADEMIC, marginalised],
        [
            ctx.official_view,
            ctx.official_view + ctx.academic_start * (ctx.needed_change - ctx.official_view),
            ctx.marginalised_view,
        ],
        ctx.resident_view,
    )
    view = np.clip(mean_view + ctx.view_spread * rng.standard_normal(n), 0.0, 1.0)
    mean_salience = np.select(
        [kind == OFFICIAL, marginalised],
        [ctx.official_salience, ctx.marginalised_salience],
        ctx.resident_salience,
    )
    salience = np.clip(mean_salience + ctx.salience_spread * rng.standard_normal(n), 0, 1)

    # Theories of change held: the programme's theory with weight 1 - diversity, otherwise uniform.
    probs = np.full(N_THEORIES, ctx.toc_diversity / N_THEORIES)
    probs[THEORY_INDEX[s.theory.kind.value]] += 1 - ctx.toc_diversity
    toc = rng.choice(N_THEORIES, size=n, p=probs).astype(np.int8)

    # Time and energy: deprivation costs capacity (Jam and Justice: "time, resources, emotional labour")
    drawn = beta_draw(rng, pop.capacity_mean, kappa, n)
    loss = ctx.deprivation_capacity_loss * ctx.inequality * marginalised
    capacity = np.minimum(drawn * (1 - loss) + pop.capacity_floor, 1.0)
    # officials' time for taking part is the state's: twice the drawn share at full state capacity
    capacity[kind == OFFICIAL] = np.minimum(capacity[kind == OFFICIAL] * 2 * ctx.state_capacity, 1.0)
    # nobody has no time at all (a guard, not a behaviour: division by capacity)
    capacity = np.maximum(capacity, np.finfo(float).eps)

    trust = np.clip(ctx.baseline_trust + ctx.trust_spread * rng.standard_normal((n, N_KINDS)), 0, 1)
    positionality = np.where(
        kind == ACADEMIC,
        np.clip(ctx.academic_engagement + ctx.positionality_spread * rng.standard_normal(n), 0, 1),
        0.0,
    )

    # Groups and their members
    group_of = np.full(n, -1, dtype=np.int64)
    mobilisation = np.zeros(n)
    if g:
        members = np.flatnonzero(rng.random(r) < ctx.civil_society_density)
        # groups are local: a member joins a group of their district when there is one
        g_district = np.arange(g) % pop.districts
        district[r + o + a :] = g_district
        by_district = [np.flatnonzero(g_district == d) for d in range(pop.districts)]
        for d in range(pop.districts):  # loop over districts, not agents
            in_d = members[district[members] == d]
            options = by_district[d] if len(by_district[d]) else np.arange(g)
            group_of[in_d] = options[rng.integers(0, len(options), len(in_d))]
        mobilisation[r + o + a :] = beta_draw(rng, pop.mobilisation_mean, kappa, g)

    # Knowledge items (Stasser & Titus 1985): lay items are held by few residents, mostly the deprived;
    # expert items are common among officials and academics. Items say how much change is needed:
    # lay items are noisy but unbiased, expert items precise but biased towards the status quo.
    k = dl.knowledge_items
    n_lay = round(dl.lay_share * k)
    item_lay = np.zeros(k, dtype=bool)
    item_lay[:n_lay] = True
    item_value = item_values(s, item_lay, rng)
    knows = rng.random((n, k)) < holding_probability(s, kind, marginalised, item_lay)

    return People(
        kind=kind,
        district=district,
        marginalised=marginalised,
        view=view,
        view0=view.copy(),
        salience=salience,
        salience0=salience.copy(),
        toc=toc,
        capacity=capacity,
        fatigue=np.zeros(n),
        skill=beta_draw(rng, pop.skill_mean, kappa, n),
        trust=trust,
        benefits=np.zeros(n),
        burden=np.zeros(n),
        turns=np.zeros(n, dtype=np.int64),
        last_turn=np.full(n, -1, dtype=np.int64),
        positionality=positionality,
        mobilisation=mobilisation,
        adopted=np.zeros(n, dtype=bool),
        accountability=np.where(kind == OFFICIAL, s.structure.downward_accountability, 0.0),
        group_of=group_of,
        taking_part=np.zeros(n, dtype=bool),
        knows=knows,
        item_lay=item_lay,
        item_value=item_value,
        in_evidence=~item_lay,  # the status quo evidence base: expert knowledge
        first_group=r + o + a,
    )


def holding_probability(
    s: Scenario, kind: np.ndarray, marginalised: np.ndarray, item_lay: np.ndarray
) -> np.ndarray:
    """Chance each actor holds each item: lay items are scattered among residents (more among the deprived,
    whose experience they record); expert items are common among officials and academics.
    :func:`_plain_holding_probability` in one compiled pass (:mod:`model.jit`, issue 18)."""
    dl = s.deliberation
    return _holding_kernel(
        kind,
        marginalised,
        item_lay,
        float(dl.lay_holding_marginalised),  # floats throughout: one compiled signature
        float(dl.lay_holding_resident),
        float(dl.lay_holding_professional),
        float(dl.expert_holding_professional),
        float(dl.expert_holding_resident),
    )


def _plain_holding_probability(
    s: Scenario, kind: np.ndarray, marginalised: np.ndarray, item_lay: np.ndarray
) -> np.ndarray:
    """Reference for :func:`holding_probability`."""
    dl = s.deliberation
    lay = np.where(
        kind == RESIDENT,
        np.where(marginalised, dl.lay_holding_marginalised, dl.lay_holding_resident),
        dl.lay_holding_professional,
    )
    expert = np.where(
        np.isin(kind, [OFFICIAL, ACADEMIC]), dl.expert_holding_professional, dl.expert_holding_resident
    )
    return np.where(item_lay[None, :], lay[:, None], expert[:, None])


@kernel
def _holding_kernel(
    kind,
    marginalised,
    item_lay,
    lay_marginalised,
    lay_resident,
    lay_professional,
    expert_professional,
    expert_resident,
):
    """Actor ``i``'s chance of holding item ``j``: its lay or expert chance by ``item_lay[j]``."""
    out = np.empty((kind.size, item_lay.size))
    for i in range(kind.size):
        if kind[i] == _RESIDENT:
            lay = lay_marginalised if marginalised[i] else lay_resident
        else:
            lay = lay_professional
        professional = kind[i] == _OFFICIAL or kind[i] == _ACADEMIC
        expert = expert_professional if professional else expert_resident
        for j in range(item_lay.size):
            out[i, j] = lay if item_lay[j] else expert
    return out


def item_values(s: Scenario, item_lay: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What each item says about needed change: lay items noisy but unbiased, expert items more precise
    (``expert_precision``) and off the latent truth by ``expert_bias``. :func:`_plain_item_values` in one
    compiled pass, on the same standard normal draws."""
    dl = s.deliberation
    return _item_values_kernel(
        item_lay,
        rng.standard_normal(len(item_lay)),
        float(s.context.needed_change),
        float(dl.evidence_noise),
        float(dl.expert_precision * dl.evidence_noise),
        float(dl.expert_bias),
    )


def _plain_item_values(s: Scenario, item_lay: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Reference for :func:`item_values`."""
    dl = s.deliberation
    noise = np.where(item_lay, dl.evidence_noise, dl.expert_precision * dl.evidence_noise)
    bias = np.where(item_lay, 0.0, dl.expert_bias)
    return np.clip(s.context.needed_change - bias + noise * rng.standard_normal(len(item_lay)), 0, 1)


@kernel
def _item_values_kernel(item_lay, z, needed, lay_noise, expert_noise, expert_bias):
    """``clip(needed - bias + noise * z, 0, 1)`` with the lay or expert noise and bias of each item."""
    out = np.empty(item_lay.size)
    for j in range(item_lay.size):
        bias = 0.0 if item_lay[j] else expert_bias
        noise = lay_noise if item_lay[j] else expert_noise
        v = (needed - bias) + noise * z[j]
        out[j] = min(max(v, 0.0), 1.0)
    return out


def build_ties(s: Scenario, p: People, rng: np.random.Generator) -> np.ndarray:
    """Everyday ties: a homophilous small world among residents, officials and academics among themselves,
    a few cross-sector ties, and each group tied to its members."""
    r = s.population.residents
    strata = p.district[:r] * 2 + p.marginalised[:r]
    parts = [
        homophilous_small_world(strata, s.network.mean_degree, s.network.homophily, s.network.bridging, rng)
    ]
    for kind in (OFFICIAL, ACADEMIC):
        idx = np.flatnonzero(p.kind == kind)
        if len(idx) > 1:
            degree = min(s.network.professional_degree, len(idx) - 1)
            if degree:
                ring = homophilous_small_world(
                    np.zeros(len(idx), dtype=np.int64), degree, 1.0, s.network.professional_bridging, rng
                )
                parts.append(idx[ring])
        if s.network.cross_sector_ties and len(idx):
            src = np.repeat(idx, s.network.cross_sector_ties)
            # ties go to residents of the same district when possible (local officials, local research)
            same = rng.random(len(src)) < s.network.local_ties
            dst = rng.integers(0, r, len(src))
            local = np.flatnonzero(same)
            by_d = np.argsort(p.district[:r], kind="stable")
            starts = np.searchsorted(p.district[:r][by_d], p.district[src[local]])
            ends = np.searchsorted(p.district[:r][by_d], p.district[src[local]], side="right")
            has = ends > starts
            pick = starts[has] + (rng.random(has.sum()) * (ends[has] - starts[has])).astype(np.int64)
            dst[local[has]] = by_d[pick]
            parts.append(np.column_stack([src, dst]))
    members = np.flatnonzero(p.group_of >= 0)
    if len(members):
        parts.append(np.column_stack([members, p.first_group + p.group_of[members]]))
    return unique_edges(np.concatenate(parts))
