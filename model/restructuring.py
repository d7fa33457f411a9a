"""Restructure: actors' effort on their theories moves the governance structure; inertia and backlash push
back.

The structure is five levers in [0, 1]: ``citizen_weight``, ``agenda_setting``, ``transparency``,
``downward_accountability`` and ``co_financing``. Each month each theory ``t`` has a push

    ``push_t = theory.rate x effort share_t x condition_t``

and moves each of the ``n_t`` levers it works (:data:`model.theories.THEORY_LEVERS`) a share ``min(1, push_t /
n_t)`` of the way to 1, where the effort share is its holders' effort this month over the city's capacity
(:mod:`model.mobilisation`) and the condition its readiness (:mod:`model.conditions`), for structural and
coalition change only once it has tipped (readiness 1). One rate for every theory, spread over its levers: the
same effort buys the same movement under any theory. A theory nobody acts on moves nothing. Every lever then
drifts back towards where it started at ``theory.inertia`` (institutional inertia, Streeck & Thelen 2005).

Structural pushes meet backlash: officials, as a body, lose trust in residents in proportion to the share of
them who oppose change (view below ``behaviour.support_line``) (``theory.backlash x theory.backlash_trust x
push_S / n_S x opposition``), and in a month the rules are pushed officials roll them back with chance
``theory.backlash x opposition x theory.rollback``, taking ``theory.rollback_size x push_S / n_S`` of the
structural levers back.

Before the push, adoption of practices spreads among officials (:func:`model.conditions.spread_adoption`).
"""

from __future__ import annotations

import math

import numpy as np
from coprod.model.conditions import TIPPING, readiness, spread_adoption
from coprod.model.kinds import OFFICIAL, RESIDENT, STRUCTURAL, THEORIES
from coprod.model.theories import THEORY_LEVERS

LEVERS = ("citizen_weight", "agenda_setting", "transparency", "downward_accountability", "co_financing")


def restructure(m) -> None:
    st, th, flows = m.structure, m.settings.theory, m.flows
    spread_adoption(m)
    ready = readiness(m)
    rate = th.rate
    push = [  # scalars as Python floats: four of them, the same arithmetic as on arrays
        rate * effort * (math.floor(condition) if theory in _TIPPING else condition)  # tipping: only at 1
        for theory, (effort, condition) in enumerate(
            zip(flows.theory_effort.tolist(), ready.tolist(), strict=True)
        )
    ]
    flows.readiness, flows.push = ready, np.array(push, dtype=float)
    for theory, theory_push in zip(THEORIES, push, strict=True):
        levers = THEORY_LEVERS[theory]
        share = min(1.0, theory_push / len(levers))
        for lever in levers:
            st[lever] += share * (1 - st[lever])
    if push[STRUCTURAL] > 0:
        backlash(m, min(1.0, push[STRUCTURAL] / len(THEORY_LEVERS["structural"])))
    inertia, start = th.inertia, m.structure0
    for lever in LEVERS:
        st[lever] = clip01(float(st[lever] + inertia * (start[lever] - st[lever])))


_TIPPING = frozenset(int(t) for t in TIPPING)


def clip01(x: float) -> float:
    """``float(np.clip(x, 0.0, 1.0))`` for a Python float, without numpy's per-call cost: NaN and -0.0 stay
    as they are, as with numpy's clip."""
    if x > 0.0:
        return x if x < 1.0 else 1.0
    return x if x == 0.0 or x != x else 0.0


def backlash(m, push: float) -> None:
    """Officials lose trust in residents as far as they oppose the pushed rules, and may roll them back."""
    p, th, st = m.people, m.settings.theory, m.structure
    officials = p.kind == OFFICIAL
    opposed = float(np.mean(p.view[officials] < m.settings.behaviour.support_line))
    loss = min(1.0, th.backlash * th.backlash_trust * push * opposed)
    p.trust[officials, RESIDENT] *= 1 - loss
    if m.rng.random() < th.backlash * opposed * th.rollback:
        for lever in THEORY_LEVERS["structural"]:
            st[lever] -= min(1.0, push * th.rollback_size) * st[lever]
