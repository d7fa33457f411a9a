"""The compiled network kernels agree with the plain versions that document them (issue 18).

- :func:`add_ties` (merge into the sorted tie list, CSR grown in place of a sparse sum) against
  :func:`_plain_add_ties` (:func:`add_edges` and ``adj + adjacency(fresh)``): the same ties, and the same CSR
  entry for entry (``indptr``, ``indices``, ``data``), canonical;
- :func:`largest_component` (union-find over the tie list) against :func:`largest_component_share` (scipy's
  connected components of the extracted subgraph): the same mask and size, the tie rule included.
"""

from __future__ import annotations

import numpy as np
import pytest
from coprod.model.network import (
    _plain_add_ties,
    _plain_betweenness,
    add_ties,
    adjacency,
    betweenness,
    largest_component,
    largest_component_share,
    unique_edges,
)


def _graph(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, object]:
    edges = unique_edges(rng.integers(0, n, (m, 2))) if m else np.empty((0, 2), dtype=np.int64)
    return edges, adjacency(edges, n)


def _same_csr(a, b) -> None:
    assert a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data) and a.indices.dtype == b.indices.dtype
    assert a.has_canonical_format and b.has_canonical_format
    assert (a != b).nnz == 0


@pytest.mark.parametrize(
    ("n", "m", "k"), [(2, 0, 1), (5, 0, 3), (10, 12, 8), (200, 600, 50), (3000, 12000, 400)]
)
def test_add_ties_agrees_with_plain(n, m, k):
    rng = np.random.default_rng(n + m + k)
    edges, adj = _graph(n, m, rng)
    for _ in range(5):  # grow a few times, as months do
        new = rng.integers(0, n, (k, 2))
        if len(edges):  # some existing ties, reversed, and a duplicate and self-loop
            new = np.concatenate([new, edges[rng.integers(0, len(edges), 3)][:, ::-1], new[:2], [[0, 0]]])
        fast_edges, fast_adj = add_ties(edges, adj, new)
        plain_edges, plain_adj = _plain_add_ties(edges, adj, new)
        assert np.array_equal(fast_edges, plain_edges) and fast_edges.dtype == plain_edges.dtype
        _same_csr(fast_adj, plain_adj)
        _same_csr(fast_adj, adjacency(fast_edges, n))  # the same as a rebuild from the tie list
        edges, adj = fast_edges, fast_adj


def test_add_ties_edge_cases():
    edges, adj = _graph(6, 8, np.random.default_rng(1))
    for new in (np.empty((0, 2), dtype=np.int64), [[2, 2]], edges[:3], edges[:3, ::-1]):  # nothing fresh
        grown_edges, grown = add_ties(edges, adj, np.asarray(new))
        assert grown_edges is edges and grown is adj
    grown_edges, grown = add_ties(
        np.empty((0, 2), dtype=np.int64), adjacency(np.empty((0, 2), int), 4), [[3, 1]]
    )
    assert grown_edges.tolist() == [[1, 3]] and grown.toarray()[1, 3] == grown.toarray()[3, 1] == 1.0
    with pytest.raises(IndexError):
        add_ties(edges, adj, [[0, 6]])


def _check_component(edges: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, int]:
    fast_mask, fast_size = largest_component(edges, members)
    plain_mask, plain_size = largest_component_share(adjacency(edges, len(members)), members)
    assert fast_size == plain_size and np.array_equal(fast_mask, plain_mask)
    assert fast_mask.dtype == bool and fast_mask.sum() == fast_size
    return fast_mask, fast_size


@pytest.mark.parametrize(("n", "m"), [(1, 0), (2, 1), (30, 20), (300, 250), (300, 900), (5000, 6000)])
def test_largest_component_agrees_with_plain(n, m):
    rng = np.random.default_rng(n * 7 + m)
    edges, _ = _graph(n, m, rng)
    for share in (0.0, 0.1, 0.5, 0.9, 1.0):
        _check_component(edges, rng.random(n) < share)


def test_largest_component_edge_cases():
    edges = np.array([[0, 1], [2, 3], [4, 5], [6, 7], [7, 8]])  # pairs and a triple
    n = 10
    none = np.zeros(n, dtype=bool)
    assert _check_component(edges, none)[1] == 0
    one = none.copy()
    one[5] = True  # a single member
    mask, size = _check_component(edges, one)
    assert size == 1 and mask.tolist() == one.tolist()
    isolated = none.copy()
    isolated[[9, 3, 5]] = True  # members with no tie among them: the lowest-indexed one
    mask, size = _check_component(edges, isolated)
    assert size == 1 and np.flatnonzero(mask).tolist() == [3]
    pairs = none.copy()
    pairs[[2, 3, 4, 5, 8, 9]] = True  # equally large pairs: the one holding the lowest member
    mask, size = _check_component(edges, pairs)
    assert size == 2 and np.flatnonzero(mask).tolist() == [2, 3]
    ties_later = none.copy()
    ties_later[[0, 4, 5, 6, 7, 8]] = True  # the larger component wins though its members come later
    mask, size = _check_component(edges, ties_later)
    assert size == 3 and np.flatnonzero(mask).tolist() == [6, 7, 8]
    _check_component(edges, ~none)
    _check_component(np.empty((0, 2), dtype=np.int64), ~none)


def test_largest_component_ties_at_random():
    """Many equally large components (disjoint paths of one length), masked at random."""
    rng = np.random.default_rng(5)
    for length in (2, 3, 4):
        n = 60 * length
        order = rng.permutation(n).reshape(-1, length)  # paths over shuffled nodes
        edges = unique_edges(np.column_stack([order[:, :-1].ravel(), order[:, 1:].ravel()]))
        for _ in range(20):
            _check_component(edges, rng.random(n) < 0.8)
        _check_component(edges, np.ones(n, dtype=bool))


def _betweenness_pair(edges: np.ndarray, nodes: np.ndarray, samples: int, seed: int) -> np.ndarray:
    fast = betweenness(edges, nodes, samples, np.random.default_rng(seed))
    plain = _plain_betweenness(edges, nodes, samples, np.random.default_rng(seed))
    assert fast.dtype == plain.dtype and np.array_equal(fast, plain)  # bit for bit: the same float32 sums
    return fast


@pytest.mark.parametrize(("n", "m"), [(3, 2), (10, 9), (60, 90), (400, 1200), (2000, 3000)])
def test_betweenness_agrees_with_plain(n, m):
    rng = np.random.default_rng(n + m)
    edges = unique_edges(rng.integers(0, n, (m, 2)))  # sparse graphs fall apart into components
    for share, samples in ((1.0, 64), (0.7, 64), (0.5, 10_000), (0.9, 2)):
        nodes = np.flatnonzero(rng.random(n) < share)
        if len(nodes):
            _betweenness_pair(edges, nodes, samples, int(rng.integers(1000)))
    _betweenness_pair(edges, rng.permutation(n), 16, 3)  # nodes in any order


def test_betweenness_edge_cases():
    path = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    exact = _betweenness_pair(path, np.arange(5), 100, 0)  # every pivot: exact, up to the factor 2
    assert exact.tolist() == [0.0, 6.0, 8.0, 6.0, 0.0]
    assert _betweenness_pair(path, np.array([0, 4]), 10, 0).tolist() == [0.0, 0.0]  # too few nodes
    assert _betweenness_pair(path, np.array([0, 2, 4]), 10, 0).tolist() == [0.0, 0.0, 0.0]  # no ties
    _betweenness_pair(np.empty((0, 2), dtype=np.int64), np.arange(6), 4, 1)
    star = np.column_stack([np.zeros(30, dtype=np.int64), np.arange(1, 31)])
    assert np.argmax(_betweenness_pair(star, np.arange(31), 8, 2)) == 0
    rng = np.random.default_rng(4)  # many shortest paths: large path counts
    grid = [[r * 20 + c, r * 20 + c + 1] for r in range(20) for c in range(19)]
    grid += [[r * 20 + c, (r + 1) * 20 + c] for r in range(19) for c in range(20)]
    _betweenness_pair(unique_edges(np.array(grid)), np.arange(400), 400, int(rng.integers(100)))
