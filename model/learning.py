"""Learn: costs and capabilities, trust, and the spread of theories of change.

- Taking part costs time (``design.participation_cost`` net of stipend, relative to capacity) and emotional
  labour (fatigue at ``resources.fatigue_rate``, heavier for marginalised participants facing a credibility
  deficit); rest restores ``resources.recovery`` a month. Taking part builds skill (learning by doing),
  more when citizens take part in the ``doing`` stage and when co-financing funds capacity building.
- Trust in officials follows procedural experience (Tyler 2006): participants who hear back
  (``design.feedback``) trust more the closer the decision is to their view; everyone's trust follows
  whether the month's spending met their district's need.
- Officials answer to citizens as far as the structure's ``downward_accountability`` makes them: they move
  towards the citizens' recommendation (Fung 2006 on accountability; Arnstein's upper rungs).
- Theories of change spread by success-biased imitation along ties (Boyd & Richerson 1985): an actor
  compares with a random contact at ``deliberation.imitation`` and switches with probability equal to the
  difference in the two theories' recent success rates.
"""

from __future__ import annotations

import numpy as np

from model.convening import participation_cost
from model.initiatives import Outcome
from model.world import GROUP, OFFICIAL, RESIDENT


def bear_costs(m) -> None:
    p, s = m.people, m.scenario
    part = p.taking_part & (p.kind != GROUP)
    res_part = part & (p.kind == RESIDENT)
    cost = participation_cost(m)
    credibility = np.where(
        p.marginalised, (1 - 0.5 * s.context.inequality) ** (1 - s.design.facilitation), 1.0
    )
    p.fatigue = np.where(
        part,
        p.fatigue + s.resources.fatigue_rate * (2 - credibility) * (1 - p.fatigue),
        p.fatigue * (1 - s.resources.recovery),
    )
    p.burden[res_part] += cost[res_part] / p.capacity[res_part]
    p.turns[part] += 1
    p.last_turn[part] = m.steps
    growth = 0.03 * (1 + ("doing" in s.design.stages)) * (1 + m.structure["co_financing"])
    p.skill[part] += growth * (1 - p.skill[part])


def update_trust(m, position: float) -> None:
    p, s = m.people, m.scenario
    r = m.n_residents
    res = np.arange(r)
    heard = p.taking_part[:r] & (m.rng.random(r) < s.design.feedback)
    target = 1 - np.abs(position - p.view[:r])
    p.trust[res[heard], OFFICIAL] += 0.2 * (target[heard] - p.trust[res[heard], OFFICIAL])
    met = m.month_spend_per_head[p.district[:r]] / np.maximum(m.fair_per_head[p.district[:r]], 1e-9)
    p.trust[:r, OFFICIAL] += 0.02 * (np.clip(met, 0, 2) / 2 - p.trust[:r, OFFICIAL])


def spread_theories(m, outcome: Outcome) -> None:
    p, s = m.people, m.scenario
    tried = outcome.toc_trials > 0
    rate = np.where(tried, outcome.toc_successes / np.maximum(outcome.toc_trials, 1), m.toc_score)
    m.toc_score = 0.8 * m.toc_score + 0.2 * rate
    adj = m.adjacency
    deg = np.diff(adj.indptr)
    who = np.flatnonzero((p.kind != GROUP) & (deg > 0) & (m.rng.random(p.n) < s.deliberation.imitation))
    if len(who) == 0:
        return
    contact = adj.indices[adj.indptr[who] + (m.rng.random(len(who)) * deg[who]).astype(np.int64)]
    gain = m.toc_score[p.toc[contact]] - m.toc_score[p.toc[who]]
    switch = (p.kind[contact] != GROUP) & (m.rng.random(len(who)) < gain)
    p.toc[who[switch]] = p.toc[contact[switch]]


def respond(m, recommendation: float) -> None:
    """Downward accountability: officials move towards what citizens recommended, at the listening rate
    ``deliberation.convergence`` scaled by the structure's ``downward_accountability`` (officials who
    answer upwards do not move)."""
    p = m.people
    officials = p.kind == OFFICIAL
    rate = m.scenario.deliberation.convergence * m.structure["downward_accountability"]
    p.view[officials] += rate * (recommendation - p.view[officials])
