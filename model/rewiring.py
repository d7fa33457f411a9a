"""Rewire: co-participants form ties.

Participants are paired at random each month; a pair forms a tie with probability
``network.tie_formation`` (focal closure in shared settings, Feld 1981). Deliberate bridging across sectors
is coalition builders' work (:func:`model.mobilisation.bridge`).
"""

from __future__ import annotations

from coprod.model.network import add_edges, adjacency


def rewire(m) -> None:
    idx, s = m.flows.meeting, m.settings
    if len(idx) < 2 or s.network.tie_formation == 0:
        return
    pairs = idx[m.rng.permutation(len(idx))][: len(idx) // 2 * 2].reshape(-1, 2)
    new = pairs[m.rng.random(len(pairs)) < s.network.tie_formation]
    if len(new):
        m.edges, fresh = add_edges(m.edges, new)
        if len(fresh):  # the CSR grows by the fresh ties (a sum is linear; a rebuild sorts every tie)
            m.adjacency = m.adjacency + adjacency(fresh, m.people.n)
