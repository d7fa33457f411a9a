"""Rewire: co-participants form ties.

Participants are paired at random each month; a pair forms a tie with probability
``network.tie_formation`` (focal closure in shared settings, Feld 1981). Deliberate bridging across sectors
is coalition builders' work (:func:`model.mobilisation.bridge`).
"""

from __future__ import annotations

from coprod.model.network import add_ties


def rewire(m) -> None:
    idx, s = m.flows.meeting, m.settings
    if len(idx) < 2 or s.network.tie_formation == 0:
        return
    pairs = idx[m.rng.permutation(len(idx))][: len(idx) // 2 * 2].reshape(-1, 2)
    new = pairs[m.rng.random(len(pairs)) < s.network.tie_formation]
    if len(new):
        m.edges, m.adjacency = add_ties(m.edges, m.adjacency, new)
