"""Decide: the design's decision rule turns a meeting into a position, an allocation and experiments.

Rules follow the authority axis of Fung's (2006) democracy cube:

- ``advisory`` (consultation, citizens' assembly): the recommendation (voice-weighted mean of the citizen
  side) is blended with officials' view by the structure's ``citizen_weight``;
- ``dissensus`` (action research cooperative): no forced consensus; each cluster of views runs its own
  experiment, and authority travels through the officials inside the group;
- ``vote`` (participatory budgeting): one person one vote for district proposals, binding over the budget
  share, allocated by votes weighted by need (the Porto Alegre need criterion, Wampler 2007);
- ``contribution`` (co-financed partnership): say follows money put in.

Officials hold the say the rule leaves them; each official *defers* to the citizens' recommendation with
probability ``accountability x trust in residents`` (their own state), passing their share of the say to the
citizen side: how far downward accountability is acted on, month by month (Fung 2006; Arnstein 1969).

Each rule returns the decision's *social power* vector (who determined the position, summing to 1), the
Friedkin-Johnsen notion of influence (Friedkin & Johnsen 1999) applied to the decision itself; it is what
``marginalised_influence`` and ``structure`` measure. Every group that decides together feels pressure to
conform (Asch 1956): participants drop a theory of change the group's voice-weighted majority does not hold
with probability ``deliberation.conformity`` (less with facilitation, ``behaviour.facilitation_relief``).
Under forced-consensus rules the group is the whole room; under the dissensus rule it is each experiment
team, so minorities can keep their own theory in a team of their own.

Consensus bias has consequences: under a forced consensus, participants (not officials) whose view lies
further from the decided position than ``deliberation.confidence`` (beyond their latitude of acceptance) are
*dropped*: the experiment teams are drawn from the others only, so the dropped participants' knowledge and
theories are lost to the experiment portfolio, and the dropped lose trust in officials
(``behaviour.dropped_trust_loss``) and so come less often (:mod:`model.convening`). Under the dissensus rule
every cluster keeps a team.

Conformity, finding the officials and the citizen side, and dropping run as compiled kernels
(:mod:`model.jit`, issue 18) beside their plain versions (:func:`_plain_conform`, :func:`_plain_sides`,
:func:`_plain_drop`); ``tests/test_fast_initiatives.py`` checks that they agree. The weighted means (BLAS
dot products) and sums whose rounding feeds a threshold stay numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from coprod.model.jit import kernel
from coprod.model.kinds import ACADEMIC, GROUP, N_THEORIES, OFFICIAL, RESIDENT

# a random amount far below any real difference in weighted tallies: breaks ties, nothing else
TIE_BREAK = 1e-9
_N_THEORIES = int(N_THEORIES)  # for the kernels
_OFFICIAL, _RESIDENT = int(OFFICIAL), int(RESIDENT)
_TINY = float(np.finfo(float).tiny)


@dataclass
class Decision:
    position: float  # decided level of change, 0-1
    power_idx: np.ndarray  # actors with a say
    power: np.ndarray  # their share of the say (sums to 1)
    allocation: np.ndarray  # share of the decided budget per district (sums to 1)
    teams: list[np.ndarray] = field(default_factory=list)  # experiment teams
    consensus: bool = True  # was one answer forced on the whole room?
    deferred: float = 0.0  # share of officials' say passed to the citizen side
    deferring: np.ndarray | None = None  # bool over all officials: who deferred to the citizens
    published: bool = False  # rationale published?
    recommendation: float | None = None  # the citizen side's view, before officials blend it in
    dropped: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )  # views a consensus left out


def decide(m, idx: np.ndarray, weights: np.ndarray) -> Decision:
    """Apply the design's rule to this month's meeting (participants ``idx`` with voice ``weights``)."""
    p, s = m.people, m.settings
    cw = m.structure["citizen_weight"]
    officials, chance, citizen_side, citizen, w_c, residents = _sides_kernel(
        p.kind, idx, weights, p.accountability, p.trust
    )
    human = getattr(m, "human", None)  # officials people play (:mod:`model.choices`)
    if human:
        chance = human.deference(officials, chance)
    defers = m.rng.random(len(officials)) < chance
    rule = s.design.decision_rule
    if len(citizen) == 0:
        official_view = float(p.view[officials].mean())
        d = Decision(
            official_view,
            officials,
            np.full(len(officials), 1 / len(officials)),
            _allocate(m, m.district_population.astype(float), official_view),
            recommendation=official_view,
        )
        d.consensus = False
    else:
        match rule:
            case "advisory":
                d = _blend(
                    m,
                    citizen,
                    _normalise(w_c),
                    officials,
                    np.full(len(officials), 1 / len(officials)),
                    cw,
                    defers,
                )
            case "dissensus":
                d = _dissensus(m, idx, citizen, w_c, officials, cw, defers)
            case "vote":
                voters = residents
                if len(voters) == 0:
                    voters = citizen
                votes = np.bincount(p.district[voters], minlength=m.n_districts).astype(float)
                d = _blend(
                    m,
                    voters,
                    np.full(len(voters), 1 / len(voters)),
                    officials,
                    np.full(len(officials), 1 / len(officials)),
                    cw,
                    defers,
                    allocation=_normalise(votes * m.need ** (2 * s.design.need_weighting)),
                )
            case "contribution":
                d = _contribution(m, idx, officials, defers)
            case other:
                raise ValueError(f"unknown design.decision_rule {other!r}")
    if d.consensus and len(citizen):
        # a forced consensus drops those it landed beyond the bounds of their confidence: their knowledge
        # and theories are left out of the experiments (and they lose trust, :mod:`model.learning`)
        # (officials are not dropped by their own decision)
        d.dropped, kept = _drop_kernel(
            p.view, idx, citizen_side, float(d.position), s.deliberation.confidence
        )
        if s.design.experiments > 0:  # the others, in the meeting's order
            d.teams = _split(m, kept, s.design.experiments)
    published = m.structure["transparency"]
    if human:
        published = human.publish_chance(officials, published)
    d.published = bool(m.rng.random() < published)
    if d.consensus:
        _conform(m, idx, weights)
    else:
        for team in d.teams:  # idx is sorted (the meeting is a flatnonzero)
            _conform(m, team, weights[np.searchsorted(idx, team)])
    return d


def _plain_sides(p, idx: np.ndarray, weights: np.ndarray):
    """Reference for :func:`_sides_kernel`."""
    officials = np.flatnonzero(p.kind == OFFICIAL)
    chance = p.accountability[officials] * p.trust[officials, RESIDENT]
    citizen_side = p.kind[idx] != OFFICIAL
    citizen = idx[citizen_side]
    return (
        officials,
        chance,
        citizen_side,
        citizen,
        weights[citizen_side],
        citizen[p.kind[citizen] == RESIDENT],
    )


@kernel
def _sides_kernel(kind, idx, weights, accountability, trust):
    """The officials (in order) and each one's chance of deferring (accountability x trust in residents);
    which participants ``idx`` are on the citizen side (not officials), and those participants with their
    voices ``weights``, and the residents among them."""
    n_officials = 0
    for i in range(kind.size):
        if kind[i] == _OFFICIAL:
            n_officials += 1
    officials = np.empty(n_officials, dtype=np.int64)
    chance = np.empty(n_officials)
    o = 0
    for i in range(kind.size):
        if kind[i] == _OFFICIAL:
            officials[o] = i
            chance[o] = accountability[i] * trust[i, _RESIDENT]
            o += 1
    citizen_side = np.empty(idx.size, dtype=np.bool_)
    citizen = np.empty(idx.size, dtype=idx.dtype)
    w_c = np.empty(idx.size, dtype=weights.dtype)
    residents = np.empty(idx.size, dtype=idx.dtype)
    c = 0
    n_residents = 0
    for a in range(idx.size):
        citizen_side[a] = kind[idx[a]] != _OFFICIAL
        if citizen_side[a]:
            citizen[c] = idx[a]
            w_c[c] = weights[a]
            c += 1
        if kind[idx[a]] == _RESIDENT:
            residents[n_residents] = idx[a]
            n_residents += 1
    return officials, chance, citizen_side, citizen[:c].copy(), w_c[:c].copy(), residents[:n_residents].copy()


def _plain_drop(
    view: np.ndarray, idx: np.ndarray, citizen_side: np.ndarray, position: float, confidence: float
):
    """Reference for :func:`_drop_kernel`."""
    beyond = np.abs(view[idx] - position) > confidence
    dropped = beyond & citizen_side
    return idx[dropped], idx[~dropped]


@kernel
def _drop_kernel(view, idx, citizen_side, position, confidence):
    """Participants ``idx`` on the citizen side whose view lies further than ``confidence`` from the decided
    ``position`` (dropped), and the others (kept), each in the meeting's order."""
    dropped = np.empty(idx.size, dtype=idx.dtype)
    kept = np.empty(idx.size, dtype=idx.dtype)
    n_dropped = 0
    n_kept = 0
    for a in range(idx.size):
        if citizen_side[a] and abs(view[idx[a]] - position) > confidence:
            dropped[n_dropped] = idx[a]
            n_dropped += 1
        else:
            kept[n_kept] = idx[a]
            n_kept += 1
    return dropped[:n_dropped].copy(), kept[:n_kept].copy()


def _blend(m, citizens, c_share, officials, o_share, cw, defers, allocation=None) -> Decision:
    """The citizen side holds ``cw`` of the say, officials the rest; deferring officials' shares pass to
    the citizen side. The allocation is :func:`_allocate`'s unless the rule gives its own."""
    p = m.people
    recommendation = float(c_share @ p.view[citizens])
    o_power = (1 - cw) * o_share
    deferred = float(o_power[defers].sum())
    o_power = np.where(defers, 0.0, o_power)
    citizen_say = cw + deferred
    position = citizen_say * recommendation + float(o_power @ p.view[officials])
    return Decision(
        position=position,
        power_idx=np.concatenate([citizens, officials]),
        power=np.concatenate([citizen_say * c_share, o_power]),
        allocation=_allocate(m, m.district_population.astype(float), position)
        if allocation is None
        else allocation,
        recommendation=recommendation,
        deferred=deferred / max(1 - cw, _TINY),
        deferring=defers,
    )


def _dissensus(m, idx, citizen, w_c, officials, cw, defers) -> Decision:
    """Parallel experiments, one per cluster of views: dissensus kept, not resolved."""
    p, s = m.people, m.settings
    inside = np.isin(officials, idx)
    # the officials inside the group carry design.inside_say of the officials' say
    say = s.design.inside_say if inside.any() else 0.0
    o_share = np.full(len(officials), (1 - say) / len(officials))
    if inside.any():
        o_share[inside] += say / inside.sum()
    d = _blend(m, citizen, _normalise(w_c), officials, o_share, cw, defers)
    if s.design.experiments:
        d.teams = _clusters(idx, p.view[idx], s.design.experiments, s.design.cluster_gap)
    d.consensus = False
    return d


def _contribution(m, idx, officials, defers) -> Decision:
    """Say follows money: public money through officials, partners' money through groups and academics;
    deferring officials pass their say to the partners."""
    p, st = m.people, m.structure
    partners = idx[np.isin(p.kind[idx], [GROUP, ACADEMIC])]
    inside = idx[p.kind[idx] == OFFICIAL]
    o_idx = inside if len(inside) else officials
    o_defers = defers[np.isin(officials, o_idx)]
    cf = st["co_financing"]
    academic_money = m.settings.resources.academic_contribution
    money = p.mobilisation[partners] + np.where(p.kind[partners] == GROUP, 0.0, academic_money)
    o_total = 1 - cf if len(partners) else 1.0
    share_o = np.full(len(o_idx), o_total / len(o_idx))
    deferred = float(share_o[o_defers].sum()) if len(partners) else 0.0
    share_o = np.where(o_defers & (len(partners) > 0), 0.0, share_o)
    share_p = (cf + deferred) * _normalise(money) if len(partners) else np.zeros(0)
    power_idx = np.concatenate([partners, o_idx])
    power = np.concatenate([share_p, share_o])
    view = p.view.copy()
    # a group speaks with its members' present view: residents are heard only through their group
    members = idx[(p.kind[idx] == RESIDENT) & (p.group_of[idx] >= 0)]
    if len(members):
        g = p.group_of[members]
        sums = np.bincount(g, weights=p.view[members], minlength=m.n_groups)
        counts = np.bincount(g, minlength=m.n_groups)
        has = counts > 0
        view[p.first_group + np.flatnonzero(has)] = sums[has] / counts[has]
    position = float(power @ view[power_idx])
    pop = m.district_population.astype(float)
    partner_districts = np.bincount(p.district[partners], weights=share_p, minlength=m.n_districts)
    alloc = (1 - cf) * _allocate(m, pop, position) + cf * _normalise(partner_districts)
    recommendation = float(_normalise(money) @ view[partners]) if len(partners) else position
    power_idx, power = _through_groups(m, idx, power_idx, power)
    return Decision(
        position,
        power_idx,
        power,
        _normalise(alloc),
        recommendation=recommendation,
        deferred=deferred / max(o_total, _TINY),
        deferring=defers & np.isin(officials, o_idx) & (len(partners) > 0),
    )


def _through_groups(m, idx, power_idx, power):
    """A group's say passes on, in equal parts, to its members in the room (residents heard through their
    group); groups with no member present keep theirs."""
    p = m.people
    members = idx[(p.kind[idx] == RESIDENT) & (p.group_of[idx] >= 0)]
    say = np.zeros(p.n)
    np.add.at(say, power_idx, power)
    count = np.bincount(p.group_of[members], minlength=m.n_groups)
    groups = p.first_group + np.flatnonzero(count > 0)
    member_say = say[p.first_group + p.group_of[members]] / count[p.group_of[members]]
    say[groups] = 0.0
    say[members] += member_say
    keep = np.flatnonzero(say > 0)
    return keep, say[keep]


def _allocate(m, population: np.ndarray, position: float) -> np.ndarray:
    """Allocation of the decided budget: per head, tilted to need by ``need_weighting`` and by how much
    change the decision backs."""
    s = m.settings
    # citizens who set the agenda put distribution on it (doubly so when they take part in that stage)
    agenda = m.structure["agenda_setting"] * (1 + ("agenda" in s.design.stages)) / 2
    human = getattr(m, "human", None)
    if human:  # officials people play may put need on their part of the agenda (:mod:`model.choices`)
        agenda = human.agenda(m, agenda)
    tilt = s.design.need_weighting + 2 * max(0.0, position - s.behaviour.support_line) + agenda
    return _normalise(population * m.need**tilt)


def _split(m, idx: np.ndarray, n: int) -> list[np.ndarray]:
    if n <= 0 or len(idx) == 0:
        return []
    return [t for t in np.array_split(idx[m.rng.permutation(len(idx))], min(n, len(idx))) if len(t)]


def _clusters(idx: np.ndarray, views: np.ndarray, most: int, gap: float) -> list[np.ndarray]:
    """Split participants at the largest gaps between views (at most ``most`` groups, gaps over ``gap``)."""
    order = np.argsort(views, kind="stable")
    gaps = np.diff(views[order])
    cut = np.sort(np.argsort(-gaps, kind="stable")[: most - 1])
    cut = cut[gaps[cut] > gap]
    return [idx[order[part]] for part in np.split(np.arange(len(idx)), cut + 1) if len(part)]


def _conform(m, idx: np.ndarray, weights: np.ndarray) -> None:
    """Conformity in a group deciding together: members switch to its voice-weighted majority theory
    (:func:`_plain_conform`, in one compiled kernel)."""
    p, s = m.people, m.settings
    if len(idx) < 2:
        return
    # the tie-breaks, then each member's switch draw: the plain version's two draws in one (``random``
    # draws one double at a time, so the stream is the same)
    u = m.rng.random(N_THEORIES + len(idx))
    p_switch = s.deliberation.conformity * (1 - s.behaviour.facilitation_relief * s.design.facilitation)
    _conform_kernel(p.toc, idx, weights, u, float(p_switch))


def _plain_conform(m, idx: np.ndarray, weights: np.ndarray) -> None:
    """Reference for :func:`_conform`."""
    p, s = m.people, m.settings
    if len(idx) < 2:
        return
    tally = np.bincount(p.toc[idx], weights=weights, minlength=N_THEORIES)
    majority = int(np.argmax(tally + TIE_BREAK * m.rng.random(N_THEORIES)))  # ties broken at random
    p_switch = s.deliberation.conformity * (1 - s.behaviour.facilitation_relief * s.design.facilitation)
    switch = (p.toc[idx] != majority) & (m.rng.random(len(idx)) < p_switch)
    p.toc[idx[switch]] = majority


@kernel
def _conform_kernel(toc, idx, weights, u, p_switch):
    """Members ``idx`` (voices ``weights``) switch to the majority theory where ``u[N_THEORIES + a] <
    p_switch``; ``u[:N_THEORIES]`` break ties in the tally."""
    tally = np.zeros(_N_THEORIES)
    for a in range(len(idx)):
        tally[toc[idx[a]]] += weights[a]
    majority = 0
    best = tally[0] + TIE_BREAK * u[0]
    for k in range(1, _N_THEORIES):
        if tally[k] + TIE_BREAK * u[k] > best:
            best = tally[k] + TIE_BREAK * u[k]
            majority = k
    for a in range(len(idx)):
        if toc[idx[a]] != majority and u[_N_THEORIES + a] < p_switch:
            toc[idx[a]] = majority


def _normalise(x: np.ndarray) -> np.ndarray:
    total = x.sum()
    return x / total if total > 0 else np.full(len(x), 1 / max(len(x), 1))
