"""The social network: construction and the graph measures the outputs need.

Construction follows Watts & Strogatz (1998) on a ring ordered by social position, so that ring
neighbours share district and deprivation (homophily, McPherson et al. 2001) and rewired ties are the
bridging ties (Granovetter 1973). Officials and academics get a few ties to residents of their district.
The network is kept as a numpy edge list (``(m, 2)``, ``i < j``, sorted) and a CSR adjacency kept in step
with it: :func:`add_ties` grows both at once. No layout is ever computed here (the dashboard lays the graph
out once per reset).

The ties added each month, the coalition's largest component and betweenness are computed by compiled
kernels (:mod:`model.jit`); beside each sits the plain numpy/scipy version that documents it
(:func:`_plain_add_ties`, :func:`largest_component_share`, :func:`_plain_betweenness`), and a test checks
that they agree (tests/test_fast_network.py).
"""

from __future__ import annotations

import numpy as np
from coprod.model.jit import kernel
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
    if len(edges) == 0:
        return new, new
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


def add_ties(
    edges: np.ndarray, adj: sparse.csr_array, new: np.ndarray
) -> tuple[np.ndarray, sparse.csr_array]:
    """The tie list ``edges`` (as :func:`unique_edges` returns them) and its adjacency ``adj`` (canonical CSR)
    grown by the ``new`` pairs (any orientation; self-loops, duplicates and existing ties are dropped).

    The same as :func:`_plain_add_ties` (a merge on integer codes and a sparse sum), entry for entry, in two
    compiled passes: :func:`_merge_ties` inserts the fresh ties into the sorted list, :func:`_insert_entries`
    copies the CSR's column indices in blocks with the fresh entries slotted in, in order.
    """
    new = np.asarray(new, dtype=np.int64).reshape(-1, 2)
    n = adj.shape[0]
    if len(new) == 0:
        return edges, adj
    if new.min() < 0 or new.max() >= n:
        raise IndexError("a new tie names a node outside the adjacency")
    if 2 * (len(edges) + len(new)) >= np.iinfo(np.int32).max:  # beyond 32-bit CSR indices: scipy handles it
        return _plain_add_ties(edges, adj, new)
    merged, fresh = _merge_ties(np.ascontiguousarray(edges, dtype=np.int64), np.ascontiguousarray(new))
    if len(fresh) == 0:
        return edges, adj
    indptr, indices = _insert_entries(adj.indptr, adj.indices, fresh)
    grown = sparse.csr_array((np.ones(len(indices)), indices, indptr), shape=(n, n))
    grown.has_canonical_format = True  # sorted, no duplicates: the kernel keeps both
    return merged, grown


def _plain_add_ties(
    edges: np.ndarray, adj: sparse.csr_array, new: np.ndarray
) -> tuple[np.ndarray, sparse.csr_array]:
    """Reference for :func:`add_ties`: merge by :func:`add_edges`; the CSR grows by the sum with the fresh
    ties' adjacency (a sum is linear; a rebuild sorts every tie)."""
    merged, fresh = add_edges(edges, new)
    if len(fresh) == 0:
        return edges, adj
    return merged, adj + adjacency(fresh, adj.shape[0])


@kernel
def _merge_ties(edges, new):  # pragma: no cover - compiled
    """:func:`add_edges`: orient ``new`` as ``i < j``, drop self-loops, sort and deduplicate them (on the code
    ``i * width + j``, whose order is the lexicographic one), keep those not in ``edges`` and insert them.
    Returns the merged list and the fresh ties."""
    k = new.shape[0]
    width = 1
    for t in range(k):
        width = max(width, new[t, 0] + 1, new[t, 1] + 1)
    codes = np.empty(k, np.int64)
    c = 0
    for t in range(k):
        a, b = new[t, 0], new[t, 1]
        if a != b:
            codes[c] = min(a, b) * width + max(a, b)
            c += 1
    codes = codes[:c]
    _heapsort(codes)
    fresh = np.empty((c, 2), np.int64)
    at = np.empty(c, np.int64)  # the row of ``edges`` each fresh tie goes before
    f = 0
    for t in range(c):
        if t > 0 and codes[t] == codes[t - 1]:
            continue
        a, b = codes[t] // width, codes[t] % width
        pos = _lex_left(edges, a, b)
        if pos < edges.shape[0] and edges[pos, 0] == a and edges[pos, 1] == b:
            continue
        fresh[f, 0], fresh[f, 1], at[f] = a, b, pos
        f += 1
    merged = np.empty((edges.shape[0] + f, 2), np.int64)
    old, out = edges.reshape(-1), merged.reshape(-1)  # flat views: a tie is two entries
    src = 0
    for t in range(f + 1):  # blocks of old ties between insertion points, each followed by a fresh one
        stop = at[t] if t < f else edges.shape[0]
        _copy(out[2 * (src + t) : 2 * (stop + t)], old[2 * src : 2 * stop])
        if t < f:
            merged[stop + t, 0], merged[stop + t, 1] = fresh[t, 0], fresh[t, 1]
        src = stop
    return merged, fresh[:f]


@kernel
def _insert_entries(indptr, indices, fresh):  # pragma: no cover - compiled
    """A symmetric CSR pattern (sorted column indices) with both entries of each ``fresh`` tie (none present)
    inserted in order; returns the new ``indptr`` and ``indices`` (same dtypes)."""
    n = indptr.shape[0] - 1
    f = fresh.shape[0]
    entries = np.empty(2 * f, np.int64)  # (row, column) as row * n + column, sorted
    for t in range(f):
        entries[2 * t] = fresh[t, 0] * n + fresh[t, 1]
        entries[2 * t + 1] = fresh[t, 1] * n + fresh[t, 0]
    _heapsort(entries)
    at = np.empty(2 * f, np.int64)  # the old entry each new one goes before
    added = np.zeros(n + 1, np.int64)  # entries added in the rows before each row boundary
    for e in range(2 * f):
        row, col = entries[e] // n, entries[e] % n
        at[e] = _left(indices, indptr[row], indptr[row + 1], col)
        added[row + 1] += 1
    new_indptr = np.empty(n + 1, indptr.dtype)
    total = 0
    for r in range(n + 1):
        total += added[r]
        new_indptr[r] = indptr[r] + total
    new_indices = np.empty(indices.shape[0] + 2 * f, indices.dtype)
    src = 0
    for e in range(2 * f + 1):  # blocks of old entries between insertion points, each followed by a new one
        stop = at[e] if e < 2 * f else indices.shape[0]
        _copy(new_indices[src + e : stop + e], indices[src:stop])
        if e < 2 * f:
            new_indices[stop + e] = entries[e] % n
        src = stop
    return new_indptr, new_indices


@kernel
def _copy(to, values):  # pragma: no cover - compiled
    """``to[:] = values`` for two 1-d arrays of one length (a loop: slice assignment compiles in seconds)."""
    for i in range(values.shape[0]):
        to[i] = values[i]


@kernel
def _lex_left(edges, a, b):  # pragma: no cover - compiled
    """The first row of the sorted ``edges`` not below ``(a, b)`` (binary search)."""
    lo, hi = 0, edges.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if edges[mid, 0] < a or (edges[mid, 0] == a and edges[mid, 1] < b):
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel
def _left(a, lo, hi, x):  # pragma: no cover - compiled
    """The first index in ``lo..hi`` of the sorted ``a`` whose value is not below ``x`` (binary search)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel
def _heapsort(a):  # pragma: no cover - compiled
    """Sort ``a`` in place (heapsort: ``np.sort`` compiles in seconds, this in a fraction of one)."""
    n = a.shape[0]
    for root in range(n // 2 - 1, -1, -1):
        _sift_down(a, root, n)
    for end in range(n - 1, 0, -1):
        a[0], a[end] = a[end], a[0]
        _sift_down(a, 0, end)


@kernel
def _sift_down(a, root, end):  # pragma: no cover - compiled
    """Restore the max-heap order of ``a[:end]`` below ``root``."""
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and a[child + 1] > a[child]:
            child += 1
        if a[root] >= a[child]:
            return
        a[root], a[child] = a[child], a[root]
        root = child


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


def largest_component(edges: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, int]:
    """The largest connected component of the subgraph that ``edges`` (as :func:`unique_edges` returns them)
    induce on ``members`` (mask over all nodes, so longer than any node index in ``edges``): (its mask, its
    size); ``(all False, 0)`` without members.

    The same as :func:`largest_component_share`, tie rule included (among equally large components, the one
    holding the lowest-indexed member), by a compiled union-find over the ties between members
    (:func:`_union_find_largest`): no subgraph is extracted.
    """
    members = np.asarray(members, dtype=bool)
    return _union_find_largest(np.ascontiguousarray(edges, dtype=np.int64).reshape(-1, 2), members)


def largest_component_share(adj: sparse.csr_array, members: np.ndarray) -> tuple[np.ndarray, int]:
    """Components of the subgraph induced by ``members`` (mask); returns (mask of largest component, size).

    The plain reference for :func:`largest_component` (which the model uses): scipy labels components in
    order of their lowest-indexed member and ``argmax`` takes the first of equally large ones.
    """
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


@kernel
def _union_find_largest(edges, members):  # pragma: no cover - compiled
    """Union-find (path halving; the lower root wins, so each root is its component's lowest node) over the
    ties with both ends in ``members``; then the largest component, the first met in node order on ties."""
    n = members.shape[0]
    parent = np.arange(n)
    for t in range(edges.shape[0]):
        a, b = edges[t, 0], edges[t, 1]
        if not (members[a] and members[b]):
            continue
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    size = np.zeros(n, np.int64)
    for v in range(n):  # roots are below their nodes: in node order, a parent's root is already final
        parent[v] = parent[parent[v]]
        if members[v]:
            size[parent[v]] += 1
    best, best_size = -1, 0
    for v in range(n):
        if members[v] and size[parent[v]] > best_size:
            best, best_size = parent[v], size[parent[v]]
    mask = np.zeros(n, np.bool_)
    for v in range(n):
        mask[v] = members[v] and parent[v] == best
    return mask, best_size


def betweenness(edges: np.ndarray, nodes: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Betweenness centrality of the subgraph induced by ``nodes``, up to a constant factor.

    Brandes' (2001) accumulation from ``samples`` random pivots (the Brandes & Pich 2007 estimate; all nodes
    when ``samples >= len(nodes)``, which is exact): the sum over pivots of :func:`pivot_dependencies`.
    Returns one value per entry of ``nodes``, unnormalised: ratios (and so a Gini) are what the outputs use.
    """
    n = len(nodes)
    if n < 3:
        return np.zeros(n)
    return pivot_dependencies(edges, nodes, samples, rng).sum(axis=1, dtype=np.float64)


def pivot_dependencies(
    edges: np.ndarray, nodes: np.ndarray, samples: int, rng: np.random.Generator
) -> np.ndarray:
    """Each node's dependency on each pivot: an ``n x k`` float32 array (``k = min(samples, n)`` pivots
    drawn without replacement from ``rng``; every node, in order, when ``samples >= n``), 0 at the pivot.

    A compiled breadth-first search per pivot (:func:`_pivot_dependencies`) that does the float32
    arithmetic of :func:`_plain_betweenness` (one sparse product per level for all pivots at once) in the
    same order, so the two agree bit for bit; it visits each tie once per pivot where the products visit
    every tie at every level. The columns are exchangeable draws of the Brandes-Pich estimate (pivots drawn
    at random without replacement), which is what a jackknife over pivots
    (:func:`model.inequality.jackknife_gini`) needs."""
    adj, pivots = _induced(edges, nodes, samples, rng)
    return _pivot_dependencies(adj.indptr, adj.indices, pivots.astype(np.int64))


def _induced(
    edges: np.ndarray, nodes: np.ndarray, samples: int, rng: np.random.Generator
) -> tuple[sparse.csr_array, np.ndarray]:
    """The float32 adjacency of the subgraph induced by ``nodes`` (in their order) and the pivots drawn."""
    n = len(nodes)
    position = np.full(int(max(nodes.max(), edges.max(initial=0))) + 1, -1, dtype=np.int64)
    position[nodes] = np.arange(n)
    e = position[edges]
    e = e[(e[:, 0] >= 0) & (e[:, 1] >= 0)]
    adj = adjacency(e, n).astype(np.float32)
    pivots = np.arange(n) if samples >= n else rng.choice(n, size=samples, replace=False)
    return adj, pivots


@kernel
def _pivot_dependencies(indptr, indices, pivots):  # pragma: no cover - compiled
    """Each node's dependency on each pivot (an ``n x k`` float32 array, 0 at the pivot itself).

    Per pivot, a breadth-first search level by level; a node's path count (sigma) is the float32 sum, in
    column order, of those of its neighbours one level up, and a node's dependency the float32 sum, in
    column order, of ``(1 + delta_w) * (1 / sigma_w)`` over its neighbours ``w`` one level down, times its
    sigma: the sums a CSR product forms (adding the zeros of other nodes changes no sum)."""
    n, k = indptr.shape[0] - 1, pivots.shape[0]
    one = np.float32(1.0)
    delta = np.zeros((n, k), np.float32)
    sigma = np.zeros(n, np.float32)
    coef = np.zeros(n, np.float32)
    depth = np.full(n, -1, np.int64)
    order = np.empty(n, np.int64)  # nodes in order of discovery: level by level
    for c in range(k):
        s = pivots[c]
        depth[s], sigma[s], order[0] = 0, one, s
        start, stop, level = 0, 1, 0
        while start < stop:  # the next level: unvisited neighbours of this one
            end = stop
            for q in range(start, stop):
                v = order[q]
                for j in range(indptr[v], indptr[v + 1]):
                    w = indices[j]
                    if depth[w] < 0:
                        depth[w] = level + 1
                        order[end] = w
                        end += 1
            for q in range(stop, end):
                w = order[q]
                total = np.float32(0.0)
                for j in range(indptr[w], indptr[w + 1]):
                    if depth[indices[j]] == level:
                        total += sigma[indices[j]]
                sigma[w] = total
            start, stop, level = stop, end, level + 1
        for q in range(stop - 1, -1, -1):  # deepest first: a level's coefficients are final before its use
            v = order[q]
            total = np.float32(0.0)
            for j in range(indptr[v], indptr[v + 1]):
                if depth[indices[j]] == depth[v] + 1:
                    total += coef[indices[j]]
            dependency = total * sigma[v]
            delta[v, c] = dependency
            coef[v] = (dependency + one) * (one / sigma[v])
        delta[s, c] = 0.0
        for q in range(stop):
            v = order[q]
            depth[v], sigma[v], coef[v] = -1, 0.0, 0.0
    return delta


def _plain_betweenness(
    edges: np.ndarray, nodes: np.ndarray, samples: int, rng: np.random.Generator
) -> np.ndarray:
    """Reference for :func:`betweenness`: betweenness centrality of the subgraph induced by ``nodes``, up to
    a constant factor.

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
    adj, pivots = _induced(edges, nodes, samples, rng)
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
