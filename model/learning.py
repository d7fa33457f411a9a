"""Learn: costs and capabilities, trust, and the spread of theories of change.

- Taking part costs time (``design.participation_cost`` net of stipend, relative to capacity) and emotional
  labour (fatigue at ``resources.fatigue_rate``, heavier for marginalised participants facing a credibility
  deficit); rest restores ``resources.recovery`` a month. Taking part builds skill (learning by doing),
  more when citizens take part in the ``doing`` stage and when co-financing funds capacity building.
- Trust in officials follows procedural experience (Tyler 2006): participants dropped by a forced consensus
  lose ``behaviour.dropped_trust_loss`` of it; participants who hear back (``design.feedback``) trust more
  the closer the decision is to their view; everyone's trust follows whether the month's spending met their
  district's need.
- Officials answer to citizens as far as their own accountability orientation makes them: those who deferred
  to the citizens' recommendation this month (:mod:`model.decisions`) move their view towards it; each
  official's orientation follows the structure's ``downward_accountability`` at
  ``behaviour.accountability_learning`` (Fung 2006 on accountability; Arnstein's upper rungs).
- Theories of change spread by success-biased imitation along ties (Boyd & Richerson 1985): an actor
  compares with a random contact at ``deliberation.imitation`` and switches with probability equal to the
  difference in the two theories' recent success rates.

Each update runs as a compiled kernel (:mod:`model.jit`, issue 18) beside the plain numpy version that
documents it (``_plain_*``); ``tests/test_fast_convening.py`` checks that the two agree. Random numbers are
drawn here, from ``m.rng``, in the plain version's order and sizes.
"""

from __future__ import annotations

import numpy as np
from coprod.model.convening import participation_cost
from coprod.model.credibility import credibility
from coprod.model.initiatives import Outcome
from coprod.model.jit import kernel
from coprod.model.kinds import GROUP, OFFICIAL, RESIDENT

_RESIDENT, _OFFICIAL, _GROUP = int(RESIDENT), int(OFFICIAL), int(GROUP)  # for the kernels


# -- costs and capabilities ------------------------------------------------------------------------------


def bear_costs(m) -> None:
    """Fatigue, burden, turns and skill of this month's participants (:func:`_plain_bear_costs`)."""
    p, s = m.people, m.settings
    d = s.design
    growth = s.behaviour.learning_by_doing * (1 + ("doing" in d.stages)) * (1 + m.structure["co_financing"])
    p.fatigue = _bear_costs_kernel(
        p.kind,
        p.taking_part,
        p.marginalised,
        p.capacity,
        p.fatigue,
        p.burden,
        p.turns,
        p.last_turn,
        p.skill,
        d.participation_cost * (1.0 - d.stipend),
        1 - credibility(s),
        s.resources.fatigue_rate,
        s.resources.recovery,
        growth,
        m.steps,
    )


def _plain_bear_costs(m) -> None:
    """:func:`bear_costs` in numpy."""
    p, s = m.people, m.settings
    part = p.taking_part & (p.kind != GROUP)
    res_part = part & (p.kind == RESIDENT)
    cost = participation_cost(m)
    # not being believed is emotional labour on top of the time taken
    deficit = np.where(p.marginalised, 1 - credibility(s), 0.0)
    p.fatigue = np.where(
        part,
        p.fatigue + s.resources.fatigue_rate * (1 + deficit) * (1 - p.fatigue),
        p.fatigue * (1 - s.resources.recovery),
    )
    p.burden[res_part] += cost[res_part] / p.capacity[res_part]
    p.turns[part] += 1
    p.last_turn[part] = m.steps
    growth = (
        s.behaviour.learning_by_doing * (1 + ("doing" in s.design.stages)) * (1 + m.structure["co_financing"])
    )
    p.skill[part] += growth * (1 - p.skill[part])


@kernel
def _bear_costs_kernel(
    kind,
    taking_part,
    marginalised,
    capacity,
    fatigue,
    burden,
    turns,
    last_turn,
    skill,
    cost_resident,
    deficit,
    fatigue_rate,
    recovery,
    growth,
    step,
):
    """Updates burden, turns, last turn and skill in place; returns the new fatigue."""
    tired = np.empty(len(kind))
    for i in range(len(kind)):
        if taking_part[i] and kind[i] != _GROUP:
            # not being believed is emotional labour on top of the time taken
            extra = deficit if marginalised[i] else 0.0
            tired[i] = fatigue[i] + fatigue_rate * (1 + extra) * (1 - fatigue[i])
            if kind[i] == _RESIDENT:
                burden[i] += cost_resident / capacity[i]
            turns[i] += 1
            last_turn[i] = step
            skill[i] += growth * (1 - skill[i])
        else:
            tired[i] = fatigue[i] * (1 - recovery)
    return tired


# -- trust -------------------------------------------------------------------------------------------------


def update_trust(m, decision) -> None:
    """Residents' (and the dropped participants') trust in officials (:func:`_plain_update_trust`)."""
    p, s = m.people, m.settings
    b = s.behaviour
    r = m.n_residents
    _drop_trust(p.trust, decision.dropped, 1 - b.dropped_trust_loss)
    heard = m.rng.random(r)
    _trust_kernel(
        p.trust,
        p.taking_part,
        p.view,
        p.district,
        p.benefits,
        m.fair_per_head,
        heard,
        s.design.feedback,
        decision.position,
        b.trust_learning,
        b.trust_drift,
    )


def _plain_update_trust(m, decision) -> None:
    """:func:`update_trust` in numpy."""
    p, s = m.people, m.settings
    b, position = s.behaviour, decision.position
    r = m.n_residents
    p.trust[decision.dropped, OFFICIAL] *= 1 - b.dropped_trust_loss
    res = np.arange(r)
    heard = p.taking_part[:r] & (m.rng.random(r) < s.design.feedback)
    target = 1 - np.abs(position - p.view[:r])
    p.trust[res[heard], OFFICIAL] += b.trust_learning * (target[heard] - p.trust[res[heard], OFFICIAL])
    fair = m.fair_per_head[p.district[:r]]
    met = np.divide(p.benefits[:r], fair, out=np.ones(r), where=fair > 0)
    p.trust[:r, OFFICIAL] += b.trust_drift * (np.clip(met, 0, 2) / 2 - p.trust[:r, OFFICIAL])


@kernel
def _drop_trust(trust, dropped, keep):
    """The dropped (distinct actors) keep a share ``keep`` of their trust in officials."""
    for i in dropped:
        trust[i, _OFFICIAL] *= keep


@kernel
def _trust_kernel(
    trust, taking_part, view, district, benefits, fair_per_head, u, feedback, position, learning, drift
):
    """Residents (the first ``len(u)`` actors) who hear back move their trust in officials towards how close
    the decision came to their view; then every resident's towards whether spending met their district's
    fair share (``met`` clipped to [0, 2], halved)."""
    for i in range(len(u)):
        if taking_part[i] and u[i] < feedback:
            target = 1 - abs(position - view[i])
            trust[i, _OFFICIAL] += learning * (target - trust[i, _OFFICIAL])
        fair = fair_per_head[district[i]]
        met = benefits[i] / fair if fair > 0 else 1.0
        met = 0.0 if met < 0 else (2.0 if met > 2 else met)
        trust[i, _OFFICIAL] += drift * (met / 2 - trust[i, _OFFICIAL])


# -- theories of change -------------------------------------------------------------------------------------


def spread_theories(m, outcome: Outcome) -> None:
    """Success records, then success-biased imitation along ties (:func:`_plain_spread_theories`)."""
    p, s, flows = m.people, m.settings, m.flows
    _remember_success(flows.toc_score, outcome.toc_trials, outcome.toc_successes, s.behaviour.success_memory)
    adj = m.adjacency
    who = _imitators(p.kind, adj.indptr, m.rng.random(p.n), s.deliberation.imitation)
    if len(who) == 0:
        return
    pick = m.rng.random(len(who))
    switch = m.rng.random(len(who))
    _imitate(p.toc, p.kind, adj.indptr, adj.indices, flows.toc_score, who, pick, switch)


def _plain_spread_theories(m, outcome: Outcome) -> None:
    """:func:`spread_theories` in numpy."""
    p, s, flows = m.people, m.settings, m.flows
    tried = outcome.toc_trials > 0
    rate = np.where(tried, outcome.toc_successes / np.maximum(outcome.toc_trials, 1), flows.toc_score)
    flows.toc_score += s.behaviour.success_memory * (rate - flows.toc_score)
    adj = m.adjacency
    deg = np.diff(adj.indptr)
    who = np.flatnonzero((p.kind != GROUP) & (deg > 0) & (m.rng.random(p.n) < s.deliberation.imitation))
    if len(who) == 0:
        return
    contact = adj.indices[adj.indptr[who] + (m.rng.random(len(who)) * deg[who]).astype(np.int64)]
    gain = flows.toc_score[p.toc[contact]] - flows.toc_score[p.toc[who]]
    switch = (p.kind[contact] != GROUP) & (m.rng.random(len(who)) < gain)
    p.toc[who[switch]] = p.toc[contact[switch]]


@kernel
def _remember_success(score, trials, successes, memory):
    """Each theory's success record moves towards this month's success rate, where it was tried."""
    for t in range(len(score)):
        rate = successes[t] / max(trials[t], 1) if trials[t] > 0 else score[t]
        score[t] += memory * (rate - score[t])


@kernel
def _imitators(kind, indptr, u, imitation):
    """Actors with a contact (not groups) who compare theories this month."""
    who = np.empty(len(kind), dtype=np.int64)
    n = 0
    for i in range(len(kind)):
        if kind[i] != _GROUP and indptr[i + 1] > indptr[i] and u[i] < imitation:
            who[n] = i
            n += 1
    return who[:n]


@kernel
def _imitate(toc, kind, indptr, indices, score, who, pick, switch):
    """Each of ``who`` compares with a random contact and takes its theory with probability equal to the
    gain in success record; everyone compares with the theories held before anyone switches."""
    new = np.empty(len(who), dtype=toc.dtype)
    for j in range(len(who)):
        i = who[j]
        contact = indices[indptr[i] + np.int64(pick[j] * (indptr[i + 1] - indptr[i]))]
        gain = score[toc[contact]] - score[toc[i]]
        new[j] = toc[contact] if kind[contact] != _GROUP and switch[j] < gain else toc[i]
    for j in range(len(who)):
        toc[who[j]] = new[j]


# -- downward accountability ---------------------------------------------------------------------------------


def respond(m, decision) -> None:
    """Downward accountability: officials who deferred to the citizens move their view towards what
    citizens recommended, at the listening rate ``deliberation.convergence``; every official's orientation
    follows the rules (``structure.downward_accountability``)."""
    p, s = m.people, m.settings
    listen = decision.recommendation is not None and decision.deferring is not None
    _respond_kernel(
        p.kind,
        p.view,
        p.accountability,
        decision.deferring if listen else _NOBODY,
        decision.recommendation if listen else 0.0,
        listen,
        s.deliberation.convergence,
        m.structure["downward_accountability"],
        s.behaviour.accountability_learning,
    )


_NOBODY = np.zeros(0, dtype=bool)


def _plain_respond(m, decision) -> None:
    """:func:`respond` in numpy."""
    p, s = m.people, m.settings
    officials = np.flatnonzero(p.kind == OFFICIAL)
    if decision.recommendation is not None and decision.deferring is not None:
        moved = officials[decision.deferring]
        p.view[moved] += s.deliberation.convergence * (decision.recommendation - p.view[moved])
    lever = m.structure["downward_accountability"]
    p.accountability[officials] += s.behaviour.accountability_learning * (lever - p.accountability[officials])


@kernel
def _respond_kernel(
    kind, view, accountability, deferring, recommendation, listen, convergence, lever, learning
):
    """The ``j``-th official moves its view when ``deferring[j]`` (and ``listen``); every official's
    accountability follows the lever."""
    j = 0
    for i in range(len(kind)):
        if kind[i] == _OFFICIAL:
            if listen and deferring[j]:
                view[i] += convergence * (recommendation - view[i])
            accountability[i] += learning * (lever - accountability[i])
            j += 1
