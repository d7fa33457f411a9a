"""Convene: the design selects participants; cost against capacity decides who can come.

Selection follows Fung's (2006) participant-selection axis: self-selection, open assemblies (with group
delegates), stratified sortition (random selection with quotas, as in citizens' assemblies), a mixed
cooperative of all four sectors (Jam and Justice's action research cooperative), and partners who
contribute money. Whoever cannot afford the time (available capacity below the cost net of stipend) or has
burnt out (fatigue above ``resources.dropout_fatigue``) does not come; this is how cost and emotional labour
shape who is in the room.

The month's selection runs as compiled kernels (:mod:`model.jit`, issue 18), except the weighted pick among
the residents (:func:`top_k`), where numpy's vectorised logarithm is the faster. Each kernel sits beside the
plain numpy version that documents its maths (``_plain_*``, :func:`_plain_convene`), and
``tests/test_fast_convening.py`` checks that the two agree draw for draw. The random numbers are drawn here,
from ``m.rng``, in the plain version's order and sizes, and handed to the kernels.
"""

from __future__ import annotations

import math

import numpy as np
from coprod.model.credibility import credibility
from coprod.model.jit import kernel
from coprod.model.kinds import ACADEMIC, GROUP, OFFICIAL, RESIDENT

_RESIDENT, _OFFICIAL, _ACADEMIC, _GROUP = (
    int(k) for k in (RESIDENT, OFFICIAL, ACADEMIC, GROUP)
)  # for kernels

# -- weighted sampling without replacement (Gumbel top-k) ----------------------------------------------


def top_k(candidates: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted sample of ``k`` distinct candidates without replacement (Gumbel top-k)."""
    candidates = np.asarray(candidates)
    k = min(k, len(candidates))
    if k <= 0:
        return candidates[:0]
    with np.errstate(divide="ignore"):
        keys = np.log(np.maximum(weights, 0.0)) - np.log(-np.log(rng.random(len(candidates))))
    return candidates[np.argpartition(-keys, k - 1)[:k]]


def top_k_of_few(candidates: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`top_k` for a short list (a kind's seats, the partners), where numpy's per-call cost is the
    cost: the same draw and the same set, through a kernel; the picks come in the candidates' order. On
    long lists (the residents) numpy's vectorised logarithm and partition are the faster (measured), so
    :func:`top_k` stays numpy."""
    candidates = np.asarray(candidates)
    k = min(k, len(candidates))
    if k <= 0:
        return candidates[:0]
    u = rng.random(len(candidates))
    picked = _top_k_kernel(np.asarray(weights, dtype=np.float64), u, k)
    if len(picked) < k:  # a tie at the k-th key: numpy's partition breaks it, as in top_k
        with np.errstate(divide="ignore"):
            keys = np.log(np.maximum(weights, 0.0)) - np.log(-np.log(u))
        picked = np.argpartition(-keys, k - 1)[:k]
    return candidates[picked]


@kernel
def _top_k_kernel(weights, u, k):
    """Positions of the ``k`` largest Gumbel keys, in order; fewer than ``k`` (none) when the k-th key is
    tied or a key is NaN, where the set would depend on how the partition breaks ties."""
    n = len(u)
    keys = np.empty(n)
    for i in range(n):
        w = weights[i]
        keys[i] = (math.log(w) if w > 0.0 else (-np.inf if w <= 0.0 else w)) - math.log(-math.log(u[i]))
    for i in range(n):
        if keys[i] != keys[i]:
            return np.empty(0, dtype=np.int64)
    threshold = _select(keys.copy(), n - k)  # the k-th largest key
    above = 0
    at = 0
    for i in range(n):
        if keys[i] > threshold:
            above += 1
        elif keys[i] == threshold:
            at += 1
    if above + at != k:
        return np.empty(0, dtype=np.int64)
    picked = np.empty(k, dtype=np.int64)
    j = 0
    for i in range(n):
        if keys[i] >= threshold:
            picked[j] = i
            j += 1
    return picked


@kernel
def _select(a, j):
    """The ``j``-th smallest of ``a`` (no NaN), counting from 0, by Wirth's selection; reorders ``a``."""
    lo = 0
    hi = len(a) - 1
    while lo < hi:
        pivot = a[j]
        i = lo
        h = hi
        while i <= h:
            while a[i] < pivot:
                i += 1
            while pivot < a[h]:
                h -= 1
            if i <= h:
                a[i], a[h] = a[h], a[i]
                i += 1
                h -= 1
        if h < j:
            lo = i
        if j < i:
            hi = h
    return a[j]


# -- stratified lottery ----------------------------------------------------------------------------------


def stratified(
    candidates: np.ndarray,
    strata: np.ndarray,
    population_strata: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Random sample of ``k`` candidates with quotas proportional to each stratum's population share.

    A stratum with too few eligible candidates leaves its quota partly empty (as a real lottery does when
    invitees decline), so cost still shapes who comes. Quotas: each stratum's share of ``k`` rounded down,
    the remainder to the largest fractions (ties to the lower stratum); within a stratum, the candidates
    with the smallest uniform draws (:func:`_plain_stratified`).
    """
    quota = _quotas(np.asarray(population_strata), k)
    order = np.argsort(strata + rng.random(len(candidates)), kind="stable")  # by stratum, random within
    sorted_strata = strata[order]
    first = np.searchsorted(sorted_strata, np.arange(len(quota)))
    return np.asarray(candidates)[order[_within_quota(sorted_strata, first, quota)]]


def _plain_stratified(
    candidates: np.ndarray,
    strata: np.ndarray,
    population_strata: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """:func:`stratified` in numpy."""
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


@kernel
def _quotas(population_strata, k):
    """Each stratum's share of ``k`` rounded down; the rest, one each, to the largest remainders (ties to the
    lower stratum, as a stable sort orders them)."""
    n_strata = population_strata.max() + 1
    counts = np.zeros(n_strata, dtype=np.int64)
    for s in population_strata:
        counts[s] += 1
    quota = np.empty(n_strata, dtype=np.int64)
    remainder = np.empty(n_strata)
    rest = k
    for s in range(n_strata):
        raw = counts[s] / len(population_strata) * k
        quota[s] = math.floor(raw)
        remainder[s] = raw - quota[s]
        rest -= quota[s]
    for _ in range(min(rest, n_strata)):
        best = -1
        for s in range(n_strata):
            if remainder[s] >= 0 and (best < 0 or remainder[s] > remainder[best]):
                best = s
        remainder[best] = -1.0  # topped up
        quota[best] += 1
    return quota


@kernel
def _within_quota(sorted_strata, first, quota):
    """Positions in the lottery's order whose rank within their stratum is inside its quota."""
    picked = np.empty(len(sorted_strata), dtype=np.int64)
    j = 0
    for i in range(len(sorted_strata)):
        s = sorted_strata[i]
        if i - first[s] < quota[s]:
            picked[j] = i
            j += 1
    return picked[:j]


# -- who comes -------------------------------------------------------------------------------------------


def convene(m) -> None:
    """Select this month's participants into ``m.people.taking_part`` (:func:`_plain_convene`: the same draws
    and the same room)."""
    p, d, b = m.people, m.settings.design, m.settings.behaviour
    r, rng = m.n_residents, m.rng
    u_keep = rng.random(p.n)
    u_willing = rng.random(r)
    able, chosen, eligible, motivation, n_kept = _come(
        p.kind,
        p.capacity,
        p.fatigue,
        p.taking_part,
        p.trust,
        p.salience,
        u_keep,
        u_willing,
        r,
        m.settings.resources.dropout_fatigue,
        d.participation_cost * (1.0 - d.stipend),
        d.participation_cost,
        d.continuity,
        b.willingness_floor,
        b.justice_drive,
    )
    k = max(0, d.participants - n_kept)

    match d.selection:
        case "self_selection":
            chosen[top_k(eligible, motivation, k, rng)] = True
        case "open_assembly":
            picked = top_k(eligible, motivation, k, rng)
            delegates = _delegates(m, able & ~chosen)
            chosen[picked] = True
            chosen[delegates] = True
        case "sortition":
            strata = p.district[:r] * 2 + p.marginalised[:r]
            chosen[stratified(eligible, strata[eligible], strata, k, rng)] = True
        case "mixed_cooperative":
            # half through civil-society groups, half by lottery: residents come with their networks;
            # residents reached through their group come as far as they trust groups
            strata = p.district[:r] * 2 + p.marginalised[:r]
            member = p.group_of[eligible] >= 0
            through = top_k(eligible[member], p.trust[eligible[member], GROUP], int(d.via_groups * k), rng)
            rest = np.setdiff1d(eligible, through)
            chosen[through] = True
            chosen[stratified(rest, strata[rest], strata, k - len(through), rng)] = True
        case "contribution":
            # partners are the groups that can bring money; residents come only through them
            groups = np.flatnonzero(p.kind == GROUP)
            n_partners = max(1, int(np.ceil(d.partner_share * len(groups))))
            partners = top_k_of_few(groups, p.mobilisation[groups], n_partners, rng)
            chosen[partners] = True
            via = np.isin(p.group_of[eligible], partners - p.first_group)
            pull = p.trust[eligible[via], GROUP]
            chosen[top_k(eligible[via], motivation[via] * pull, k, rng)] = True
        case other:
            raise ValueError(f"unknown design.selection {other!r}")
    # those who stay on count towards each kind's seats: the room does not grow month by month
    for code, n_seats in zip((OFFICIAL, ACADEMIC, GROUP), seats(m), strict=True):
        free, taken = _free_seats(p.kind, able, chosen, int(code))
        weights = p.mobilisation[free] if code == GROUP else np.ones(len(free))
        chosen[top_k_of_few(free, weights, n_seats - taken, rng)] = True
    if d.participants == 0:
        chosen[:] = False
    p.taking_part = chosen


@kernel
def _come(
    kind,
    capacity,
    fatigue,
    taking_part,
    trust,
    salience,
    u_keep,
    u_willing,
    r,
    dropout,
    cost_resident,
    cost_other,
    continuity,
    floor,
    justice_drive,
):
    """Who is able to come, who stays on (``chosen``), how many residents stay on, the residents eligible for
    a new seat and their motivation to come (see :func:`_plain_convene`)."""
    n = len(kind)
    able = np.empty(n, dtype=np.bool_)
    chosen = np.empty(n, dtype=np.bool_)
    eligible = np.empty(r, dtype=np.int64)
    motivation = np.empty(r)
    n_kept = 0
    n_eligible = 0
    for i in range(n):
        available = capacity[i] * (1.0 - fatigue[i])
        cost = cost_resident if kind[i] == _RESIDENT else cost_other
        able[i] = not (fatigue[i] >= dropout) and not (available < cost)
        chosen[i] = taking_part[i] and able[i] and u_keep[i] < continuity
        if i < r:
            if chosen[i]:
                n_kept += 1
            # residents who distrust officials decline more often (Tyler 2006)
            willing = u_willing[i] < floor + (1 - floor) * trust[i, _OFFICIAL]
            if able[i] and not chosen[i] and willing:
                eligible[n_eligible] = i
                motivation[n_eligible] = available * (1 + justice_drive * salience[i])
                n_eligible += 1
    return able, chosen, eligible[:n_eligible], motivation[:n_eligible], n_kept


@kernel
def _free_seats(kind, able, chosen, code):
    """Actors of kind ``code`` able to come and not yet chosen, and how many of the kind are chosen."""
    free = np.empty(len(kind), dtype=np.int64)
    n_free = 0
    taken = 0
    for i in range(len(kind)):
        if kind[i] == code:
            if chosen[i]:
                taken += 1
            elif able[i]:
                free[n_free] = i
                n_free += 1
    return free[:n_free], taken


def _plain_convene(m) -> None:
    """:func:`convene` in numpy."""
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
            delegates = _plain_delegates(m, able & ~chosen)
            picked = np.union1d(picked, delegates)
        case "sortition":
            picked = _plain_stratified(eligible, strata[eligible], strata, k, m.rng)
        case "mixed_cooperative":
            # half through civil-society groups, half by lottery: residents come with their networks
            member = p.group_of[eligible] >= 0
            through = top_k(eligible[member], group_pull[member], int(d.via_groups * k), m.rng)
            rest = np.setdiff1d(eligible, through)
            picked = np.union1d(
                through, _plain_stratified(rest, strata[rest], strata, k - len(through), m.rng)
            )
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
    n_off = max(1, math.ceil(d.official_seats * d.participants))
    research = bool({"design", "analysis"} & set(d.stages))
    n_acad = max(1, math.ceil(d.academic_seats * d.participants)) if research and d.academic_seats else 0
    return n_off, n_acad, math.ceil(d.group_seats * m.n_groups)


def participation_cost(m) -> np.ndarray:
    """Share of a month's capacity that taking part costs each actor: residents net of the stipend;
    officials and academics take part in paid time but it still takes their time."""
    d = m.settings.design
    return np.where(m.people.kind == RESIDENT, d.participation_cost * (1.0 - d.stipend), d.participation_cost)


def _delegates(m, able: np.ndarray) -> np.ndarray:
    """One able member per civil-society group (participatory budgeting's delegates): each group's first
    member in a random order (:func:`_plain_delegates`)."""
    p = m.people
    members = _group_members(able, p.group_of, m.n_residents)
    if len(members) == 0:
        return members
    return _first_of_each_group(members[m.rng.permutation(len(members))], p.group_of)


def _plain_delegates(m, able: np.ndarray) -> np.ndarray:
    """:func:`_delegates` in numpy."""
    p = m.people
    members = np.flatnonzero(able[: m.n_residents] & (p.group_of[: m.n_residents] >= 0))
    if len(members) == 0:
        return members
    order = members[m.rng.permutation(len(members))]
    _, first = np.unique(p.group_of[order], return_index=True)
    return order[first]


@kernel
def _group_members(able, group_of, r):
    members = np.empty(r, dtype=np.int64)
    n = 0
    for i in range(r):
        if able[i] and group_of[i] >= 0:
            members[n] = i
            n += 1
    return members[:n]


@kernel
def _first_of_each_group(order, group_of):
    seen = np.zeros(group_of.max() + 1, dtype=np.bool_)
    first = np.empty(len(order), dtype=np.int64)
    n = 0
    for i in order:
        if not seen[group_of[i]]:
            seen[group_of[i]] = True
            first[n] = i
            n += 1
    return first[:n]


# -- voice and stubbornness in the room ------------------------------------------------------------------


def voice_weights(m, idx: np.ndarray) -> np.ndarray:
    """Effective speaking weight of each participant.

    Officials carry ``design.official_weight``, academics ``design.expert_weight``, groups one plus their
    mobilisation, marginalised residents their credibility (:func:`model.credibility.credibility`), other
    residents 1. Facilitation shrinks every weight towards equality: ``w_eff = w ** (1 - facilitation)``
    (credibility already carries it). Compiled; :func:`_plain_voice_weights` is the numpy version.
    """
    p, d = m.people, m.settings.design
    return _voice_kernel(
        p.kind,
        p.marginalised,
        p.mobilisation,
        np.asarray(idx, dtype=np.int64),
        d.official_weight,
        d.expert_weight,
        1.0 - d.facilitation,
        credibility(m.settings),
    )


def _plain_voice_weights(m, idx: np.ndarray) -> np.ndarray:
    """:func:`voice_weights` in numpy."""
    p, d = m.people, m.settings.design
    kind = p.kind[idx]
    base = np.select(
        [kind == OFFICIAL, kind == ACADEMIC, kind == GROUP],
        [d.official_weight, d.expert_weight, 1.0 + p.mobilisation[idx]],
        1.0,
    ) ** (1.0 - d.facilitation)
    return np.where((kind == RESIDENT) & p.marginalised[idx], credibility(m.settings), base)


@kernel
def _power(x, e):
    """``x ** e`` as numpy's ``**`` computes it: a square and a square root exactly."""
    if e == 2.0:
        return x * x
    if e == 1 / 2:
        return math.sqrt(x)
    return x**e


@kernel
def _voice_kernel(kind, marginalised, mobilisation, idx, official_weight, expert_weight, exponent, credible):
    weights = np.empty(len(idx))
    for j in range(len(idx)):
        i = idx[j]
        if kind[i] == _RESIDENT and marginalised[i]:
            weights[j] = credible
        elif kind[i] == _OFFICIAL:
            weights[j] = _power(official_weight, exponent)
        elif kind[i] == _ACADEMIC:
            weights[j] = _power(expert_weight, exponent)
        elif kind[i] == _GROUP:
            weights[j] = _power(1.0 + mobilisation[i], exponent)
        else:
            weights[j] = _power(1.0, exponent)
    return weights


def stubbornness(m, idx: np.ndarray) -> np.ndarray:
    """How firmly each participant holds their initial view in a meeting (Friedkin-Johnsen prejudice):
    officials by ``design.official_stubbornness``, academics by their detachment, residents by
    ``deliberation.stubbornness``; groups speak for their members and hold nothing of their own.
    Compiled; :func:`_plain_stubbornness` is the numpy version."""
    p, s = m.people, m.settings
    b = s.behaviour
    official = s.design.official_stubbornness
    return _stubbornness_kernel(
        p.kind,
        p.trust,
        p.positionality,
        np.asarray(idx, dtype=np.int64),
        official,
        (1 - official) * b.distrust_entrenchment,
        b.detached_stubbornness,
        s.deliberation.stubbornness,
    )


def _plain_stubbornness(m, idx: np.ndarray) -> np.ndarray:
    """:func:`stubbornness` in numpy."""
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


@kernel
def _stubbornness_kernel(kind, trust, positionality, idx, official, entrenchment, detached, resident):
    held = np.empty(len(idx))
    for j in range(len(idx)):
        i = idx[j]
        if kind[i] == _OFFICIAL:
            # officials who have lost trust in residents (backlash) dig in towards full stubbornness
            held[j] = official + entrenchment * (1 - trust[i, _RESIDENT])
        elif kind[i] == _ACADEMIC:
            held[j] = detached * (1.0 - positionality[i])
        elif kind[i] == _GROUP:
            held[j] = 0.0
        else:
            held[j] = resident
    return held
