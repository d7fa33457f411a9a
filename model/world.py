"""The world at the start: actors' array state, districts with needs, groups, knowledge and ties.

Actors are rows of one set of arrays, in the order residents, officials, academics, civil-society groups.
Initial views are drawn per group around the scenario's means (``context.*_view``), clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.network import homophilous_small_world, unique_edges
from model.scenario import Scenario

RESIDENT, OFFICIAL, ACADEMIC, GROUP = 0, 1, 2, 3
N_THEORIES = 4
THEORY_INDEX = {"incremental": 0, "structural": 1, "knowledge": 2, "coalition": 3}


@dataclass
class People:
    """Array state of every actor (rows) and of the knowledge items (columns of ``knows``)."""

    kind: np.ndarray  # int8: RESIDENT, OFFICIAL, ACADEMIC, GROUP
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
    benefits: np.ndarray  # float GBP cumulative (residents)
    burden: np.ndarray  # float: cumulative cost / capacity of taking part
    turns: np.ndarray  # int: months taken part
    last_turn: np.ndarray  # int: step of the last month taken part (-1 never)
    positionality: np.ndarray  # float 0-1 (academics): engaged vs detached
    mobilisation: np.ndarray  # float 0-1 (groups)
    adopted: np.ndarray  # bool (officials): adopted experimental practices
    group_of: np.ndarray  # int: group index of a resident, -1 if none
    taking_part: np.ndarray  # bool: in this month's meeting
    knows: np.ndarray  # bool (n, K): knowledge items held
    item_lay: np.ndarray  # bool (K,): lay/community item (else expert)
    item_value: np.ndarray  # float (K,): what the item says about needed change
    first_group: int  # row of the first group

    @property
    def n(self) -> int:
        return len(self.kind)


def district_needs(scenario: Scenario, marginalised_by_district: np.ndarray) -> np.ndarray:
    """Need of each district in [0.1, 1]: higher where more residents are deprived, scaled by inequality."""
    ineq = scenario.context.inequality
    return 0.1 + 0.9 * ((1 - ineq) * 0.5 + ineq * marginalised_by_district)


def build_people(s: Scenario, rng: np.random.Generator) -> People:
    pop, ctx, dl = s.population, s.context, s.deliberation
    r, o, a, g = pop.residents, pop.officials, pop.academics, pop.civil_society_groups
    n = r + o + a + g
    kind = np.repeat(np.array([RESIDENT, OFFICIAL, ACADEMIC, GROUP], dtype=np.int8), [r, o, a, g])

    # Districts: residents spread evenly; the deprived concentrate in some districts (segregation grows
    # with inequality), which is what makes need differ between districts.
    district = np.empty(n, dtype=np.int64)
    district[:r] = rng.permutation(np.arange(r) % pop.districts)
    deprivation_odds = 1 + 4 * ctx.inequality * (np.arange(pop.districts) / max(1, pop.districts - 1))
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
        [ctx.official_view, 0.5 * (ctx.official_view + ctx.needed_change), ctx.marginalised_view],
        ctx.resident_view,
    )
    view = np.clip(mean_view + ctx.view_spread * rng.standard_normal(n), 0.0, 1.0)
    salience = np.clip(
        np.select([kind == OFFICIAL, marginalised], [0.2, 0.7], 0.4) + 0.1 * rng.standard_normal(n), 0, 1
    )

    # Theories of change held: the programme's theory with weight 1 - diversity, otherwise uniform.
    probs = np.full(N_THEORIES, ctx.toc_diversity / N_THEORIES)
    probs[THEORY_INDEX[s.theory.kind.value]] += 1 - ctx.toc_diversity
    toc = rng.choice(N_THEORIES, size=n, p=probs).astype(np.int8)

    # Time and energy: deprivation costs capacity (Jam and Justice: "time, resources, emotional labour")
    capacity = np.clip(rng.beta(4, 4, n) * (1 - 0.6 * ctx.inequality * marginalised) + 0.2, 0.05, 1.0)
    capacity[kind == OFFICIAL] = np.clip(capacity[kind == OFFICIAL] * (0.5 + ctx.state_capacity), 0.05, 1.0)

    trust = np.clip(ctx.baseline_trust + 0.1 * rng.standard_normal((n, 4)), 0, 1)
    positionality = np.where(
        kind == ACADEMIC, np.clip(ctx.academic_engagement + 0.15 * rng.standard_normal(n), 0, 1), 0.0
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
        mobilisation[r + o + a :] = rng.beta(2, 3, g)

    # Knowledge items (Stasser & Titus 1985): lay items are held by few residents, mostly the deprived;
    # expert items are common among officials and academics. Items say how much change is needed:
    # lay items are noisy but unbiased, expert items precise but biased towards the status quo.
    k = dl.knowledge_items
    n_lay = round(dl.lay_share * k)
    item_lay = np.zeros(k, dtype=bool)
    item_lay[:n_lay] = True
    noise = np.where(item_lay, dl.evidence_noise, 0.5 * dl.evidence_noise)
    item_value = np.clip(
        ctx.needed_change - np.where(item_lay, 0.0, dl.expert_bias) + noise * rng.standard_normal(k), 0, 1
    )
    knows = rng.random((n, k)) < holding_probability(kind, marginalised, item_lay)

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
        skill=rng.beta(2, 5, n),
        trust=trust,
        benefits=np.zeros(n),
        burden=np.zeros(n),
        turns=np.zeros(n, dtype=np.int64),
        last_turn=np.full(n, -1, dtype=np.int64),
        positionality=positionality,
        mobilisation=mobilisation,
        adopted=np.zeros(n, dtype=bool),
        group_of=group_of,
        taking_part=np.zeros(n, dtype=bool),
        knows=knows,
        item_lay=item_lay,
        item_value=item_value,
        first_group=r + o + a,
    )


def holding_probability(kind: np.ndarray, marginalised: np.ndarray, item_lay: np.ndarray) -> np.ndarray:
    """Chance each actor holds each item: lay items are scattered among residents (more among the deprived,
    whose experience they record); expert items are common among officials and academics."""
    lay = np.where(kind == RESIDENT, np.where(marginalised, 0.08, 0.03), 0.01)
    expert = np.where(np.isin(kind, [OFFICIAL, ACADEMIC]), 0.6, 0.02)
    return np.where(item_lay[None, :], lay[:, None], expert[:, None])


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
            ring = homophilous_small_world(
                np.zeros(len(idx), dtype=np.int64), min(4, len(idx) - 1), 1.0, 0.1, rng
            )
            parts.append(idx[ring])
        if s.network.cross_sector_ties and len(idx):
            src = np.repeat(idx, s.network.cross_sector_ties)
            # ties go to residents of the same district when possible (local officials, local research)
            same = rng.random(len(src)) < 0.7
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
