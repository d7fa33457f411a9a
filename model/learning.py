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
"""

from __future__ import annotations

import numpy as np
from coprod.model.convening import participation_cost
from coprod.model.credibility import credibility
from coprod.model.initiatives import Outcome
from coprod.model.kinds import GROUP, OFFICIAL, RESIDENT


def bear_costs(m) -> None:
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


def update_trust(m, decision) -> None:
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


def spread_theories(m, outcome: Outcome) -> None:
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


def respond(m, decision) -> None:
    """Downward accountability: officials who deferred to the citizens move their view towards what
    citizens recommended, at the listening rate ``deliberation.convergence``; every official's orientation
    follows the rules (``structure.downward_accountability``)."""
    p, s = m.people, m.settings
    officials = np.flatnonzero(p.kind == OFFICIAL)
    if decision.recommendation is not None and decision.deferring is not None:
        moved = officials[decision.deferring]
        p.view[moved] += s.deliberation.convergence * (decision.recommendation - p.view[moved])
    lever = m.structure["downward_accountability"]
    p.accountability[officials] += s.behaviour.accountability_learning * (lever - p.accountability[officials])
