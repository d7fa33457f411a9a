"""Mobilise: actors act on their own theory of change with their own time and energy.

Who acts: officials, academics and groups, and residents who are *mobilised* (members of a group, or took
part in the last ``behaviour.activist_memory`` months), as long as they back change (view above
``behaviour.support_line``: nobody campaigns for what they oppose). How much: an actor's effort is its
spare capacity this month, ``capacity x (1 - fatigue)`` person-months, times ``1 + theory.programme_funding``
for holders of the programme's theory (``theory.kind``: the convening organisation pays for that theory's
work). Effort is on one scale under every theory: a person-month buys the same under any of them.

What effort does, by the theory held (levers move later, in :mod:`model.restructuring`):

- incremental: experimenting; incrementalists take part in the experiments the design runs and start
  their own with this effort (:func:`model.initiatives.grassroots`, next month), whose success depends on
  capacity and resources;
- structural: campaigning; effort is counted toward the committed minority's push on the rules;
- knowledge: documenting evidence. Each item a knowledge-led actor knows enters the evidence base with
  hazard ``theory.production`` per person-month of the effort of the knowledge-led actors who know it
  (co-produced evidence: lay items enter only if lay knowers are knowledge-led; Jasanoff 2004);
- coalition: bridging. A coalition builder forms Poisson(``theory.bridging`` x effort) ties to actors of
  another kind among the mobilised (strategic alliances; bridging ties, Granovetter 1973).

:func:`theory_effort` sums each theory's effort as a share of the city's capacity (every actor's
capacity): the *effort share* that scales each theory's push on its levers.
"""

from __future__ import annotations

import numpy as np
from coprod.model.kinds import COALITION, GROUP, KNOWLEDGE, N_THEORIES, RESIDENT, THEORY_INDEX
from coprod.model.network import add_ties


def mobilise(m) -> None:
    """This month's effort on each theory; knowledge-led actors document evidence, coalition builders
    bridge sectors."""
    effort = actor_effort(m)
    m.flows.effort = effort
    m.flows.theory_effort = theory_effort(m, effort)
    document(m, effort)
    bridge(m, effort)


def mobilised(m) -> np.ndarray:
    """Actors who can act on a theory: all but residents, and residents in a group or recently taking
    part."""
    p = m.people
    recent = (p.last_turn >= 0) & (m.steps - p.last_turn < m.settings.behaviour.activist_memory)
    return (p.kind != RESIDENT) | (p.group_of >= 0) | recent


def actor_effort(m) -> np.ndarray:
    """Person-months each actor spends acting on its theory this month (see the module docstring)."""
    p, s = m.people, m.settings
    backing = p.view > s.behaviour.support_line
    funded = p.toc == THEORY_INDEX[s.theory.kind.value]
    spare = p.capacity * (1 - p.fatigue) * (1 + s.theory.programme_funding * funded)
    return np.where(mobilised(m) & backing, spare, 0.0)


def theory_effort(m, effort: np.ndarray) -> np.ndarray:
    """Each theory's effort as a share of the city's capacity (the sum of every actor's capacity)."""
    p = m.people
    return np.bincount(p.toc, weights=effort, minlength=N_THEORIES) / p.capacity.sum()


def document(m, effort: np.ndarray) -> None:
    """Knowledge-led actors document what they know into the evidence base."""
    p = m.people
    production = m.settings.theory.production
    by = np.where(p.toc == KNOWLEDGE, effort, 0.0)
    if production == 0 or not by.any():
        return
    behind = by @ p.knows  # person-months of knowledge-led effort behind each item
    p.in_evidence |= m.rng.random(len(behind)) < 1 - np.exp(-production * behind)


def bridge(m, effort: np.ndarray) -> None:
    """Coalition builders tie themselves to mobilised actors of another kind."""
    p = m.people
    builders = np.flatnonzero((p.toc == COALITION) & (effort > 0))
    if len(builders) == 0 or m.settings.theory.bridging == 0:
        return
    ties = m.rng.poisson(m.settings.theory.bridging * effort[builders])
    src = np.repeat(builders, ties)
    if len(src) == 0:
        return
    pool = np.flatnonzero(mobilised(m) & (p.kind != GROUP))
    dst = pool[m.rng.integers(0, len(pool), len(src))]
    keep = p.kind[dst] != p.kind[src]  # a draw of the builder's own kind forms no tie
    if keep.any():
        m.edges, m.adjacency = add_ties(m.edges, m.adjacency, np.column_stack([src[keep], dst[keep]]))
