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

Who is mobilised, the effort, the effort behind each item and the bridging draws' bookkeeping are compiled
kernels (:mod:`model.jit`), each beside the plain numpy version that documents it (``_plain_*``), tested
equal in tests/test_fast_mobilisation.py; the random draws stay numpy's, the same calls in the same order.
"""

from __future__ import annotations

import numpy as np
from coprod.model.jit import kernel
from coprod.model.kinds import COALITION, GROUP, KNOWLEDGE, N_THEORIES, RESIDENT, THEORY_INDEX
from coprod.model.network import add_ties

_RESIDENT, _GROUP = int(RESIDENT), int(GROUP)  # for the kernels
_KNOWLEDGE, _COALITION = int(KNOWLEDGE), int(COALITION)
_N_THEORIES = int(N_THEORIES)


def mobilise(m) -> None:
    """This month's effort on each theory; knowledge-led actors document evidence, coalition builders
    bridge sectors.

    Who is mobilised, each actor's effort and each theory's share come from one pass (:func:`_acting`), and
    the month's mobilised actors are handed on to :func:`bridge`: the same as :func:`_plain_mobilise`.
    """
    effort, mob, shares = _acting_now(m, total=float(m.people.capacity.sum()))
    m.flows.effort = effort
    m.flows.theory_effort = shares
    document(m, effort)
    bridge(m, effort, mob)


def _plain_mobilise(m) -> None:
    """Reference for :func:`mobilise`, from the plain pieces."""
    effort = _plain_actor_effort(m)
    m.flows.effort = effort
    m.flows.theory_effort = theory_effort(m, effort)
    _plain_document(m, effort)
    _plain_bridge(m, effort)


def mobilised(m) -> np.ndarray:
    """Actors who can act on a theory: all but residents, and residents in a group or recently taking
    part."""
    p = m.people
    recent = (p.last_turn >= 0) & (m.steps - p.last_turn < m.settings.behaviour.activist_memory)
    return (p.kind != RESIDENT) | (p.group_of >= 0) | recent


def actor_effort(m) -> np.ndarray:
    """Person-months each actor spends acting on its theory this month (see the module docstring); the
    same as :func:`_plain_actor_effort`, in one compiled pass (:func:`_acting`)."""
    return _acting_now(m, total=1.0)[0]


def _plain_actor_effort(m) -> np.ndarray:
    """Reference for :func:`actor_effort`."""
    p, s = m.people, m.settings
    backing = p.view > s.behaviour.support_line
    funded = p.toc == THEORY_INDEX[s.theory.kind.value]
    spare = p.capacity * (1 - p.fatigue) * (1 + s.theory.programme_funding * funded)
    return np.where(mobilised(m) & backing, spare, 0.0)


def theory_effort(m, effort: np.ndarray) -> np.ndarray:
    """Each theory's effort as a share of the city's capacity (the sum of every actor's capacity)."""
    p = m.people
    return np.bincount(p.toc, weights=effort, minlength=N_THEORIES) / p.capacity.sum()


def _acting_now(m, total: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_acting` on the model's state: (effort, mobilised, each theory's effort over ``total``)."""
    p, s = m.people, m.settings
    return _acting(
        p.kind,
        p.group_of,
        p.last_turn,
        int(m.steps),
        int(s.behaviour.activist_memory),
        p.view,
        float(s.behaviour.support_line),
        p.toc,
        int(THEORY_INDEX[s.theory.kind.value]),
        p.capacity,
        p.fatigue,
        float(s.theory.programme_funding),
        total,
    )


@kernel
def _acting(
    kind, group_of, last_turn, steps, memory, view, line, toc, funded, capacity, fatigue, funding, total
):  # pragma: no cover - compiled
    """:func:`mobilised`, :func:`_plain_actor_effort` and :func:`theory_effort` (summed in actor order, as
    ``bincount`` sums) in one pass; the theories' sums are divided by ``total``."""
    n = kind.shape[0]
    effort = np.zeros(n)
    mob = np.empty(n, np.bool_)
    shares = np.zeros(_N_THEORIES)
    for i in range(n):
        recent = last_turn[i] >= 0 and steps - last_turn[i] < memory
        mob[i] = kind[i] != _RESIDENT or group_of[i] >= 0 or recent
        if mob[i] and view[i] > line:
            effort[i] = capacity[i] * (1 - fatigue[i]) * (1 + funding * (1.0 if toc[i] == funded else 0.0))
        shares[toc[i]] += effort[i]
    for t in range(_N_THEORIES):
        shares[t] /= total
    return effort, mob, shares


def document(m, effort: np.ndarray) -> None:
    """Knowledge-led actors document what they know into the evidence base.

    The effort behind each item is summed by :func:`_behind` over the knowledge-led actors who hold it, in
    actor order (:func:`_plain_document` has BLAS's product ``by @ knows`` sum it, in an order of its own:
    the two can differ in the last bit, and a draw falls between them with chance about 1e-16)."""
    p = m.people
    production = m.settings.theory.production
    if production == 0:
        return
    behind, any_effort = _behind(p.toc, effort, p.knows)
    if not any_effort:
        return
    p.in_evidence |= m.rng.random(len(behind)) < 1 - np.exp(-production * behind)


def _plain_document(m, effort: np.ndarray) -> None:
    """Reference for :func:`document`."""
    p = m.people
    production = m.settings.theory.production
    by = np.where(p.toc == KNOWLEDGE, effort, 0.0)
    if production == 0 or not by.any():
        return
    behind = by @ p.knows  # person-months of knowledge-led effort behind each item
    p.in_evidence |= m.rng.random(len(behind)) < 1 - np.exp(-production * behind)


@kernel
def _behind(toc, effort, knows):  # pragma: no cover - compiled
    """Person-months of knowledge-led effort behind each item, and whether there is any (``by.any()``)."""
    k = knows.shape[1]
    behind = np.zeros(k)
    found = False
    for i in range(knows.shape[0]):
        if toc[i] != _KNOWLEDGE or effort[i] == 0:  # zero terms add nothing
            continue
        found = True
        for j in range(k):
            if knows[i, j]:
                behind[j] += effort[i]
    return behind, found


def bridge(m, effort: np.ndarray, mob: np.ndarray | None = None) -> None:
    """Coalition builders tie themselves to mobilised actors of another kind (``mob``: the month's mobilised
    actors, :func:`mobilised` when not given).

    The same draws and ties as :func:`_plain_bridge`: :func:`_builders` finds the builders, their Poisson
    means and the size of the pool, :func:`_pairs` turns the draws into the kept pairs."""
    p = m.people
    bridging = float(m.settings.theory.bridging)
    if bridging == 0:
        return
    if mob is None:
        mob = mobilised(m)
    builders, means, pool_size = _builders(p.toc, p.kind, effort, mob, bridging)
    if len(builders) == 0:
        return
    ties = m.rng.poisson(means)
    n_ties = int(ties.sum())
    if n_ties == 0:
        return
    draws = m.rng.integers(0, pool_size, n_ties)
    pairs = _pairs(builders, ties, draws, p.kind, mob)
    if len(pairs):
        m.edges, m.adjacency = add_ties(m.edges, m.adjacency, pairs)


def _plain_bridge(m, effort: np.ndarray) -> None:
    """Reference for :func:`bridge`."""
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


@kernel
def _builders(toc, kind, effort, mob, bridging):  # pragma: no cover - compiled
    """The coalition builders acting (in actor order), their Poisson means ``bridging x effort`` and the
    number of mobilised actors who are not groups (the pool their draws index)."""
    n = toc.shape[0]
    builders = np.empty(n, np.int64)
    means = np.empty(n)
    b = 0
    pool = 0
    for i in range(n):
        if toc[i] == _COALITION and effort[i] > 0:
            builders[b] = i
            means[b] = bridging * effort[i]
            b += 1
        if mob[i] and kind[i] != _GROUP:
            pool += 1
    return builders[:b], means[:b], pool


@kernel
def _pairs(builders, ties, draws, kind, mob):  # pragma: no cover - compiled
    """``(builder, drawn actor)`` for each draw (builders repeated by their ties; a draw indexes the pool of
    mobilised non-groups in actor order), those of the builder's own kind left out."""
    pool = np.empty(kind.shape[0], np.int64)
    size = 0
    for i in range(kind.shape[0]):
        if mob[i] and kind[i] != _GROUP:
            pool[size] = i
            size += 1
    pairs = np.empty((draws.shape[0], 2), np.int64)
    kept = 0
    t = 0
    for b in range(builders.shape[0]):
        src = builders[b]
        for _ in range(ties[b]):
            dst = pool[draws[t]]
            t += 1
            if kind[dst] != kind[src]:
                pairs[kept, 0] = src
                pairs[kept, 1] = dst
                kept += 1
    return pairs[:kept]
