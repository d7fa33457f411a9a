"""Rewire: co-participants form ties, cross-sector ties more readily with ``theory.bridging_boost``.

Participants are paired at random each month; a pair forms a tie with probability
``network.tie_formation``, times ``1 + bridging_boost`` when the two are of different kinds (triadic and
focal closure in shared settings, Feld 1981; bridging ties, Granovetter 1973).
"""

from __future__ import annotations

import numpy as np

from model.network import add_edges, adjacency


def rewire(m) -> None:
    idx, s = m.flows.meeting, m.settings
    if len(idx) < 2 or s.network.tie_formation == 0:
        return
    pairs = idx[m.rng.permutation(len(idx))][: len(idx) // 2 * 2].reshape(-1, 2)
    kind = m.people.kind
    cross = kind[pairs[:, 0]] != kind[pairs[:, 1]]
    chance = np.minimum(1.0, s.network.tie_formation * (1 + s.theory.bridging_boost * cross))
    new = pairs[m.rng.random(len(pairs)) < chance]
    if len(new):
        m.edges, fresh = add_edges(m.edges, new)
        if len(fresh):  # the CSR grows by the fresh ties (a sum is linear; a rebuild sorts every tie)
            m.adjacency = m.adjacency + adjacency(fresh, m.people.n)
