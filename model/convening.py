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
from coprod.model.credibility import credibility
from coprod.model.kinds import ACADEMIC, GROUP, OFFICIAL, RESIDENT


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
    p, d, b = m.people, m.settings.design, m.settings.behaviour
    r = m.n_residents
    res = np.arange(r)
    available = p.capacity * (1.0 - p.fatigue)
    burnt_out, short_of_time = unable(m)
    able = ~burnt_out & ~short_of_time
    keep = p.taking_part & able & (m.rng.random(p.n) < d.continuity)
    chosen = np.zeros(p.n, dtype=bool)
    chosen[keep] = True

    k = max(0, d.participants - int(keep[:r].sum()))
    # residents who distrust officials decline more often (Tyler 2006)
    willing = m.rng.random(r) < b.willingness_floor + (1 - b.willingness_floor) * p.trust[:r, OFFICIAL]
    eligible = res[able[:r] & ~keep[:r] & willing]
    strata = p.district[:r] * 2 + p.marginalised[:r]
    officials = np.flatnonzero(p.kind == OFFICIAL)
    academics = np.flatnonzero(p.kind == ACADEMIC)
    groups = np.flatnonzero(p.kind == GROUP)
    n_off, n_acad, n_groups = seats(m)
    motivation = available[eligible] * (1 + b.justice_drive * p.salience[eligible])
    # residents reached through their group come as far as they trust groups
    group_pull = p.trust[eligible, GROUP]

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
            member = p.group_of[eligible] >= 0
            through = top_k(eligible[member], group_pull[member], int(d.via_groups * k), m.rng)
            rest = np.setdiff1d(eligible, through)
            picked = np.union1d(through, stratified(rest, strata[rest], strata, k - len(through), m.rng))
        case "contribution":
            # partners are the groups that can bring money; residents come only through them
            n_partners = max(1, int(np.ceil(d.partner_share * len(groups))))
            partners = top_k(groups, p.mobilisation[groups], n_partners, m.rng)
            chosen[partners] = True
            via = np.isin(p.group_of[eligible], partners - p.first_group)
            picked = top_k(eligible[via], (motivation * group_pull)[via], k, m.rng)
        case other:
            raise ValueError(f"unknown design.selection {other!r}")
    chosen[picked] = True
    # those who stay on count towards each kind's seats: the room does not grow month by month
    for members, n_seats, weight in (
        (officials, n_off, None),
        (academics, n_acad, None),
        (groups, n_groups, p.mobilisation[groups]),
    ):
        free = members[able[members] & ~chosen[members]]
        w = np.ones(len(free)) if weight is None else weight[np.isin(members, free)]
        chosen[top_k(free, w, n_seats - int(chosen[members].sum()), m.rng)] = True
    if d.participants == 0:
        chosen[:] = False
    p.taking_part = chosen


def unable(m) -> tuple[np.ndarray, np.ndarray]:
    """Who cannot come this month, and why, over all actors: burnt out (fatigue at
    ``resources.dropout_fatigue``) and short of time (capacity net of fatigue below what taking part
    costs). :func:`convene` and the story of a run (:mod:`coprod.story`) both ask this."""
    p = m.people
    burnt_out = p.fatigue >= m.settings.resources.dropout_fatigue
    short_of_time = p.capacity * (1.0 - p.fatigue) < participation_cost(m)
    return burnt_out, short_of_time


def seats(m) -> tuple[int, int, int]:
    """Seats for officials, academics (when citizens take part in the design or analysis stage) and groups."""
    d = m.settings.design
    n_off = max(1, int(np.ceil(d.official_seats * d.participants)))
    research = bool({"design", "analysis"} & set(d.stages))
    n_acad = max(1, int(np.ceil(d.academic_seats * d.participants))) if research and d.academic_seats else 0
    return n_off, n_acad, int(np.ceil(d.group_seats * m.n_groups))


def participation_cost(m) -> np.ndarray:
    """Share of a month's capacity that taking part costs each actor: residents net of the stipend;
    officials and academics take part in paid time but it still takes their time."""
    d = m.settings.design
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

    Officials carry ``design.official_weight``, academics ``design.expert_weight``, groups one plus their
    mobilisation, marginalised residents their credibility (:func:`model.credibility.credibility`), other
    residents 1. Facilitation shrinks every weight towards equality: ``w_eff = w ** (1 - facilitation)``
    (credibility already carries it).
    """
    p, d = m.people, m.settings.design
    kind = p.kind[idx]
    base = np.select(
        [kind == OFFICIAL, kind == ACADEMIC, kind == GROUP],
        [d.official_weight, d.expert_weight, 1.0 + p.mobilisation[idx]],
        1.0,
    ) ** (1.0 - d.facilitation)
    return np.where((kind == RESIDENT) & p.marginalised[idx], credibility(m.settings), base)


def stubbornness(m, idx: np.ndarray) -> np.ndarray:
    """How firmly each participant holds their initial view in a meeting (Friedkin-Johnsen prejudice):
    officials by ``design.official_stubbornness``, academics by their detachment, residents by
    ``deliberation.stubbornness``; groups speak for their members and hold nothing of their own."""
    p, s = m.people, m.settings
    b = s.behaviour
    kind = p.kind[idx]
    # officials who have lost trust in residents (backlash) dig in towards full stubbornness
    official = s.design.official_stubbornness
    official = official + (1 - official) * b.distrust_entrenchment * (1 - p.trust[idx, RESIDENT])
    return np.select(
        [kind == OFFICIAL, kind == ACADEMIC, kind == GROUP],
        [official, b.detached_stubbornness * (1.0 - p.positionality[idx]), 0.0],
        s.deliberation.stubbornness,
    )
