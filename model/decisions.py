"""Decide: the design's decision rule turns a meeting into a position, an allocation and experiments.

Rules follow the authority axis of Fung's (2006) democracy cube:

- ``advisory`` (consultation, citizens' assembly): the recommendation (voice-weighted mean of the citizen
  side) is blended with officials' view by the structure's ``citizen_weight``;
- ``dissensus`` (action research cooperative): no forced consensus; each cluster of views runs its own
  experiment, and authority travels through the officials inside the group;
- ``vote`` (participatory budgeting): one person one vote for district proposals, binding over the budget
  share, allocated by votes weighted by need (the Porto Alegre need criterion, Wampler 2007);
- ``contribution`` (co-financed partnership): say follows money put in.

Each rule returns the decision's *social power* vector (who determined the position, summing to 1), the
Friedkin-Johnsen notion of influence (Friedkin & Johnsen 1999) applied to the decision itself; it is what
``marginalised_influence`` measures. Under forced-consensus rules participants drop minority theories of
change with probability ``deliberation.conformity`` (halved by full facilitation): consensus bias on
theories of change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.world import ACADEMIC, GROUP, N_THEORIES, OFFICIAL, RESIDENT


@dataclass
class Decision:
    position: float  # decided level of change, 0-1
    power_idx: np.ndarray  # actors with a say
    power: np.ndarray  # their share of the say (sums to 1)
    allocation: np.ndarray  # share of the decided budget per district (sums to 1)
    teams: list[np.ndarray] = field(default_factory=list)  # experiment teams
    consensus: bool = True  # was one answer forced?
    published: bool = False  # rationale published?
    recommendation: float | None = None  # the citizen side's view, before officials blend it in


def decide(m, idx: np.ndarray, weights: np.ndarray) -> Decision:
    """Apply the design's rule to this month's meeting (participants ``idx`` with voice ``weights``)."""
    p, s = m.people, m.scenario
    cw = m.structure["citizen_weight"]
    officials = np.flatnonzero(p.kind == OFFICIAL)
    official_view = float(p.view[officials].mean())
    citizen = idx[p.kind[idx] != OFFICIAL]
    w_c = weights[p.kind[idx] != OFFICIAL]
    rule = s.design.decision_rule
    if len(citizen) == 0:
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
                    m, citizen, w_c / w_c.sum(), officials, np.full(len(officials), 1 / len(officials)), cw
                )
                d.teams = _split(m, idx, s.design.experiments)
            case "dissensus":
                d = _dissensus(m, idx, weights, citizen, w_c, officials, cw)
            case "vote":
                voters = citizen[p.kind[citizen] == RESIDENT]
                if len(voters) == 0:
                    voters = citizen
                d = _blend(
                    m,
                    voters,
                    np.full(len(voters), 1 / len(voters)),
                    officials,
                    np.full(len(officials), 1 / len(officials)),
                    cw,
                )
                votes = np.bincount(p.district[voters], minlength=m.n_districts).astype(float)
                d.allocation = _normalise(votes * m.need ** (2 * s.design.need_weighting))
                d.teams = _split(m, idx, s.design.experiments)
            case "contribution":
                d = _contribution(m, idx, officials)
                d.teams = _split(m, idx, s.design.experiments)
            case other:
                raise ValueError(f"unknown design.decision_rule {other!r}")
    d.published = bool(m.rng.random() < m.structure["transparency"])
    if d.consensus:
        _conform(m, idx, weights)
    return d


def _blend(m, citizens, c_share, officials, o_share, cw) -> Decision:
    p = m.people
    recommendation = float(c_share @ p.view[citizens])
    position = cw * recommendation + (1 - cw) * float(o_share @ p.view[officials])
    return Decision(
        position=position,
        power_idx=np.concatenate([citizens, officials]),
        power=np.concatenate([cw * c_share, (1 - cw) * o_share]),
        allocation=_allocate(m, m.district_population.astype(float), position),
        recommendation=recommendation,
    )


def _dissensus(m, idx, weights, citizen, w_c, officials, cw) -> Decision:
    """Parallel experiments, one per cluster of views: dissensus kept, not resolved."""
    p, s = m.people, m.scenario
    inside = np.isin(officials, idx)
    # the officials inside the group carry half of the officials' say
    o_share = np.full(len(officials), (0.5 if inside.any() else 1.0) / len(officials))
    if inside.any():
        o_share[inside] += 0.5 / inside.sum()
    d = _blend(m, citizen, w_c / w_c.sum(), officials, o_share, cw)
    d.teams = _clusters(idx, p.view[idx], s.design.experiments) if s.design.experiments else []
    d.consensus = False
    return d


def _contribution(m, idx, officials) -> Decision:
    """Say follows money: public money through officials, partners' money through groups and academics."""
    p, st = m.people, m.structure
    partners = idx[np.isin(p.kind[idx], [GROUP, ACADEMIC])]
    inside = idx[p.kind[idx] == OFFICIAL]
    o_idx = inside if len(inside) else officials
    cf = st["co_financing"]
    money = p.mobilisation[partners] + np.where(p.kind[partners] == GROUP, 0.0, 0.5)
    share_p = cf * _normalise(money) if len(partners) else np.zeros(0)
    share_o = np.full(len(o_idx), (1 - cf if len(partners) else 1.0) / len(o_idx))
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
    alloc = (1 - cf) * _allocate(m, pop, position) + cf * _normalise(partner_districts + 1e-12)
    recommendation = float(_normalise(money) @ view[partners]) if len(partners) else position
    power_idx, power = _through_groups(m, idx, power_idx, power)
    return Decision(position, power_idx, power, _normalise(alloc), recommendation=recommendation)


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
    s = m.scenario
    # citizens who set the agenda put distribution on it (doubly so when they take part in that stage)
    agenda = m.structure["agenda_setting"] * (1 + ("agenda" in s.design.stages)) / 2
    tilt = s.design.need_weighting + 2 * max(0.0, position - 0.5) + agenda
    return _normalise(population * m.need**tilt)


def _split(m, idx: np.ndarray, n: int) -> list[np.ndarray]:
    if n <= 0 or len(idx) == 0:
        return []
    return [t for t in np.array_split(idx[m.rng.permutation(len(idx))], min(n, len(idx))) if len(t)]


def _clusters(idx: np.ndarray, views: np.ndarray, most: int) -> list[np.ndarray]:
    """Split participants at the largest gaps between views (at most ``most`` groups, gaps over 0.05)."""
    order = np.argsort(views, kind="stable")
    gaps = np.diff(views[order])
    cut = np.sort(np.argsort(-gaps, kind="stable")[: most - 1])
    cut = cut[gaps[cut] > 0.05]
    return [idx[order[part]] for part in np.split(np.arange(len(idx)), cut + 1) if len(part)]


def _conform(m, idx: np.ndarray, weights: np.ndarray) -> None:
    """Forced consensus: participants switch to the voice-weighted majority theory of change."""
    p, s = m.people, m.scenario
    if len(idx) == 0:
        return
    tally = np.bincount(p.toc[idx], weights=weights, minlength=N_THEORIES)
    majority = int(np.argmax(tally + 1e-9 * m.rng.random(N_THEORIES)))  # ties broken at random
    p_switch = s.deliberation.conformity * (1 - 0.5 * s.design.facilitation)
    switch = (p.toc[idx] != majority) & (m.rng.random(len(idx)) < p_switch)
    p.toc[idx[switch]] = majority


def _normalise(x: np.ndarray) -> np.ndarray:
    total = x.sum()
    return x / total if total > 0 else np.full(len(x), 1 / max(len(x), 1))
