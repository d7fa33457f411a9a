"""The social network: construction and the graph measures the outputs need.

Construction follows Watts & Strogatz (1998) on a ring ordered by social position, so that ring
neighbours share district and deprivation (homophily, McPherson et al. 2001) and rewired ties are the
bridging ties (Granovetter 1973). Officials and academics get a few ties to residents of their district.
The network is kept as a numpy edge list (``(m, 2)``, ``i < j``); a CSR adjacency is rebuilt when ties change.
No layout is ever computed here (the dashboard lays the graph out once per reset).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph


def homophilous_small_world(
    strata: np.ndarray, degree: int, homophily: float, bridging: float, rng: np.random.Generator
) -> np.ndarray:
    """Ring lattice over nodes sorted by stratum (blurred by ``1 - homophily``), rewired with ``bridging``.

    Returns an ``(m, 2)`` edge array over node indices ``0..len(strata)-1``.
    """
    n = len(strata)
    n_strata = int(strata.max()) + 1 if n else 1
    position = strata + rng.uniform(0.0, 1.0 + (1.0 - homophily) * n_strata, n)
    order = np.argsort(position, kind="stable")
    half = max(1, degree // 2)
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(len(src)) < bridging
    dst = dst.copy()
    dst[rewire] = rng.integers(0, n, int(rewire.sum()))
    edges = np.column_stack([order[src], order[dst]])
    return unique_edges(edges)


def unique_edges(edges: np.ndarray) -> np.ndarray:
    """Drop self-loops and duplicates; orient every edge as ``i < j``; sorted by ``(i, j)``."""
    if len(edges) == 0:
        return np.empty((0, 2), dtype=np.int64)
    e = edges.astype(np.int64)
    lo, hi = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
    width = int(hi.max()) + 1
    codes = np.unique((lo * width + hi)[lo != hi])
    return np.column_stack([codes // width, codes % width])


def add_edges(edges: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``edges`` (as :func:`unique_edges` returns them) with the ``new`` ties that are not there yet;
    returns the merged list and those fresh ties."""
    new = unique_edges(new)
    if len(new) == 0:
        return edges, new
    width = int(max(edges.max(initial=0), new.max())) + 1
    codes = edges[:, 0] * width + edges[:, 1]
    fresh = new[:, 0] * width + new[:, 1]
    at = np.searchsorted(codes, fresh)
    present = (at < len(codes)) & (codes[np.minimum(at, len(codes) - 1)] == fresh)
    merged = np.insert(codes, at[~present], fresh[~present])
    return np.column_stack([merged // width, merged % width]), new[~present]


def adjacency(edges: np.ndarray, n: int) -> sparse.csr_array:
    """Symmetric 0/1 CSR adjacency."""
    data = np.ones(2 * len(edges), dtype=np.float64)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    a = sparse.csr_array((data, (rows, cols)), shape=(n, n))
    a.data[:] = 1.0
    return a


def ei_index(edges: np.ndarray, group: np.ndarray) -> float:
    """Krackhardt & Stern (1988) E-I index: (external - internal) / all ties, in [-1, 1]."""
    if len(edges) == 0:
        return -1.0
    external = group[edges[:, 0]] != group[edges[:, 1]]
    return float((2 * external.sum() - len(edges)) / len(edges))


def within_two_steps(adj: sparse.csr_array, sources: np.ndarray) -> np.ndarray:
    """Boolean mask of nodes at distance <= 2 from any node in ``sources`` (a boolean mask)."""
    s = sources.astype(np.float64)
    one = adj @ s
    two = adj @ one
    return (s + one + two) > 0


def largest_component_share(adj: sparse.csr_array, members: np.ndarray) -> tuple[np.ndarray, int]:
    """Components of the subgraph induced by ``members`` (mask); returns (mask of largest component, size)."""
    idx = np.flatnonzero(members)
    if len(idx) == 0:
        return np.zeros_like(members), 0
    sub = adj[idx][:, idx]
    _, labels = csgraph.connected_components(sub, directed=False)
    sizes = np.bincount(labels)
    big = int(np.argmax(sizes))
    mask = np.zeros_like(members)
    mask[idx[labels == big]] = True
    return mask, int(sizes[big])


def betweenness(edges: np.ndarray, nodes: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Betweenness centrality of the subgraph induced by ``nodes``, up to a constant factor.

    Brandes' (2001) accumulation run from ``samples`` random pivots at once (the Brandes & Pich 2007
    estimate; all nodes when ``samples >= len(nodes)``, which is exact), vectorised as breadth-first
    search by sparse matrix products, one column per pivot: the forward pass counts shortest paths
    (sigma) level by level and records each node's depth from each pivot; the backward pass accumulates
    dependencies from the deepest level up. Returns one value per entry of ``nodes``, unnormalised:
    ratios (and so a Gini) are what the outputs use. The n x k work arrays are float32 (path counts and
    dependencies to about 7 significant digits, ample for a Gini), which halves the memory traffic that
    bounds this loop.
    """
    n = len(nodes)
    if n < 3:
        return np.zeros(n)
    position = np.full(int(max(nodes.max(), edges.max(initial=0))) + 1, -1, dtype=np.int64)
    position[nodes] = np.arange(n)
    e = position[edges]
    e = e[(e[:, 0] >= 0) & (e[:, 1] >= 0)]
    adj = adjacency(e, n).astype(np.float32)
    pivots = np.arange(n) if samples >= n else rng.choice(n, size=samples, replace=False)
    k = len(pivots)
    cols = np.arange(k)
    sigma = np.zeros((n, k), dtype=np.float32)
    sigma[pivots, cols] = 1.0
    depth = np.full((n, k), -1, dtype=np.int32)
    depth[pivots, cols] = 0
    frontier = sigma.copy()  # shortest-path counts of the nodes at the current depth, 0 elsewhere
    deepest = 0
    while True:
        reach = adj @ frontier
        new = reach > 0
        new &= depth < 0
        if not new.any():
            break
        deepest += 1
        np.copyto(depth, deepest, where=new)
        np.multiply(reach, new, out=frontier)
        sigma += frontier
    inverse = np.zeros_like(sigma)
    np.divide(1.0, sigma, out=inverse, where=sigma > 0)
    delta = np.zeros_like(sigma)
    coef = np.empty_like(sigma)
    below = depth == deepest
    for level in range(deepest, 0, -1):
        above = depth == level - 1
        np.add(delta, 1.0, out=coef)  # (1 + delta_w) / sigma_w on the level below, 0 elsewhere
        coef *= inverse
        coef *= below
        back = adj @ coef
        back *= sigma
        back *= above
        delta += back
        below = above
    delta[pivots, cols] = 0.0
    return delta.sum(axis=1, dtype=np.float64)
