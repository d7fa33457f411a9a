"""Convene: the design selects participants; cost against capacity decides who can come.

Selection follows Fung's (2006) participant-selection axis: self-selection, open assemblies (with group
delegates), stratified sortition (random selection with quotas, as in citizens' assemblies), a mixed
cooperative of all four sectors (Jam and Justice's action research cooperative), and partners who
contribute money. Whoever cannot afford the time (available capacity below the cost net of stipend) or has
burnt out (fatigue above ``resources.dropout_fatigue``) does not come; this is how cost and emotional labour
shape who is in the room.
"""

from __future__ import annotations

import numpy as np

from model.world import ACADEMIC, GROUP, OFFICIAL, RESIDENT


def top_k(candidates: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted sample of ``k`` distinct candidates without replacement (Gumbel top-k)."""
    candidates = np.asarray(candidates)
    k = min(k, len(candidates))
    if k <= 0:
        return candidates[:0]
    with np.errstate(divide="ignore"):
        keys = np.log(np.maximum(weights, 0.0)) - np.log(-np.log(rng.random(len(candidates))))
    return candidates[np.argpartition(-keys, k - 1)[:k]]


def stratified(
    candidates: np.ndarray,
    strata: np.ndarray,
    population_strata: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Random sample of ``k`` candidates with quotas proportional to each stratum's population share.

    A stratum with too few eligible candidates leaves its quota partly empty (as a real lottery does when
    invitees decline), so cost still shapes who comes.
    """
    n_strata = int(population_strata.max()) + 1
    share = np.bincount(population_strata, minlength=n_strata) / len(population_strata)
    raw = share * k
    quota = np.floor(raw).astype(np.int64)
    rest = k - quota.sum()
    if rest > 0:
        quota[np.argsort(-(raw - quota), kind="stable")[:rest]] += 1
    order = np.argsort(strata + rng.random(len(candidates)), kind="stable")  # by stratum, random within
    sorted_strata = strata[order]
    first = np.searchsorted(sorted_strata, np.arange(n_strata))
    rank = np.arange(len(order)) - first[sorted_strata]
    return candidates[order[rank < quota[sorted_strata]]]


def convene(m) -> None:
    """Select this month's participants into ``m.people.taking_part``."""
    p, d = m.people, m.scenario.design
    r = m.n_residents
    res = np.arange(r)
    cost = participation_cost(m)
    available = p.capacity * (1.0 - p.fatigue)
    able = (available >= cost) & (p.fatigue < m.scenario.resources.dropout_fatigue)
    keep = p.taking_part & able & (m.rng.random(p.n) < d.continuity)
    chosen = np.zeros(p.n, dtype=bool)
    chosen[keep] = True

    k = max(0, d.participants - int(keep[:r].sum()))
    # residents who distrust officials decline more often (Tyler 2006): willingness 0.5 + 0.5 trust
    willing = m.rng.random(r) < 0.5 + 0.5 * p.trust[:r, OFFICIAL]
    eligible = res[able[:r] & ~keep[:r] & willing]
    strata = p.district[:r] * 2 + p.marginalised[:r]
    officials = np.flatnonzero(p.kind == OFFICIAL)
    academics = np.flatnonzero(p.kind == ACADEMIC)
    groups = np.flatnonzero(p.kind == GROUP)
    n_off = max(1, int(np.ceil(d.participants / 10)))
    n_acad = int(np.ceil(d.participants / 20)) if {"design", "analysis"} & set(d.stages) else 0
    n_groups = 0
    motivation = available[eligible] * (0.5 + p.salience[eligible])

    match d.selection:
        case "self_selection":
            picked = top_k(eligible, motivation, k, m.rng)
        case "open_assembly":
            picked = top_k(eligible, motivation, k, m.rng)
            delegates = _delegates(m, able & ~chosen)
            picked = np.union1d(picked, delegates)
        case "sortition":
            picked = stratified(eligible, strata[eligible], strata, k, m.rng)
        case "mixed_cooperative":
            # half through civil-society groups, half by lottery: residents come with their networks
            via_groups = eligible[p.group_of[eligible] >= 0]
            half = top_k(via_groups, np.ones(len(via_groups)), k // 2, m.rng)
            rest = np.setdiff1d(eligible, half)
            picked = np.union1d(half, stratified(rest, strata[rest], strata, k - len(half), m.rng))
            n_off, n_acad = max(1, d.participants // 5), max(1, d.participants // 8)
            n_groups = max(1, len(groups) // 4) if len(groups) else 0
        case "contribution":
            # partners are the groups that can bring money; residents come only through them
            partners = top_k(groups, p.mobilisation[groups] + 1e-9, max(1, len(groups) // 3), m.rng)
            chosen[partners] = True
            via = eligible[np.isin(p.group_of[eligible], partners - p.first_group)]
            picked = top_k(via, motivation[np.isin(eligible, via)], k, m.rng)
            n_off, n_acad = max(1, d.participants // 4), max(1, d.participants // 4)
        case other:
            raise ValueError(f"unknown design.selection {other!r}")
    chosen[picked] = True
    # those who stay on count towards each kind's seats: the room does not grow month by month
    for members, seats, weight in (
        (officials, n_off, None),
        (academics, n_acad, None),
        (groups, n_groups, p.mobilisation[groups] + 0.1),
    ):
        free = members[able[members] & ~chosen[members]]
        w = np.ones(len(free)) if weight is None else weight[np.isin(members, free)]
        chosen[top_k(free, w, seats - int(chosen[members].sum()), m.rng)] = True
    if d.participants == 0:
        chosen[:] = False
    p.taking_part = chosen


def participation_cost(m) -> np.ndarray:
    """Share of a month's capacity that taking part costs each actor: residents net of the stipend;
    officials and academics take part in paid time but it still takes their time."""
    d = m.scenario.design
    return np.where(m.people.kind == RESIDENT, d.participation_cost * (1.0 - d.stipend), d.participation_cost)


def _delegates(m, able: np.ndarray) -> np.ndarray:
    """One able member per civil-society group (participatory budgeting's delegates)."""
    p = m.people
    members = np.flatnonzero(able[: m.n_residents] & (p.group_of[: m.n_residents] >= 0))
    if len(members) == 0:
        return members
    order = members[m.rng.permutation(len(members))]
    _, first = np.unique(p.group_of[order], return_index=True)
    return order[first]


def voice_weights(m, idx: np.ndarray) -> np.ndarray:
    """Effective speaking weight of each participant.

    Officials carry ``design.official_weight``, academics ``design.expert_weight``, groups their
    mobilisation; marginalised residents suffer a credibility deficit that grows with inequality
    (testimonial injustice, Fricker 2007). Facilitation shrinks every weight towards equality:
    ``w_eff = w ** (1 - facilitation)``.
    """
    p, d = m.people, m.scenario.design
    kind = p.kind[idx]
    base = np.select(
        [kind == OFFICIAL, kind == ACADEMIC, kind == GROUP, p.marginalised[idx]],
        [
            d.official_weight,
            d.expert_weight,
            1.0 + p.mobilisation[idx],
            1.0 - 0.5 * m.scenario.context.inequality,
        ],
        1.0,
    )
    return base ** (1.0 - d.facilitation)


def stubbornness(m, idx: np.ndarray) -> np.ndarray:
    """How firmly each participant holds their initial view in a meeting (Friedkin-Johnsen prejudice):
    officials by ``design.official_stubbornness``, academics by their detachment, residents by
    ``deliberation.stubbornness``; groups speak for their members and hold nothing of their own."""
    p, s = m.people, m.scenario
    kind = p.kind[idx]
    # officials who have lost trust in residents (backlash) dig in: half the gap to full stubbornness
    official = s.design.official_stubbornness
    official = official + (1 - official) * 0.5 * (1 - p.trust[idx, RESIDENT])
    return np.select(
        [kind == OFFICIAL, kind == ACADEMIC, kind == GROUP],
        [official, 0.5 * (1.0 - p.positionality[idx]), 0.0],
        s.deliberation.stubbornness,
    )
