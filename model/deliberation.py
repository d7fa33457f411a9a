"""Opinion-dynamics kernels for the deliberate step, validated against published results.

Each kernel takes an opinion vector (one float per agent) and returns a *new* float array; inputs are
never mutated. Every random draw comes from the ``numpy.random.Generator`` passed in. There is no Python
loop per agent or per encounter: the linear models loop over time steps, the bounded-confidence models
over steps or over *rounds* of disjoint encounters, and all per-agent work inside a step is vectorised.
:func:`deffuant`'s encounters run in a compiled loop (:mod:`model.jit`, issue 18) over the pairs of
its rounds, drawn in numpy exactly as :func:`_plain_encounters`, the numpy version that documents it,
draws them; a test checks that the two agree bit for bit.

Sources
-------
- DeGroot, M. H. (1974). Reaching a consensus. *Journal of the American Statistical Association*
  69(345), 118-121. ``x(t+1) = W x(t)`` with W row-stochastic.
- Friedkin, N. E. & Johnsen, E. C. (1999). Social influence networks and opinion change.
  *Advances in Group Processes* 16, 1-29. ``x(t+1) = Λ W x(t) + (I - Λ) x(0)``; its four-agent example
  is reproduced in Parsegov, S. E., Proskurnikov, A. V., Tempo, R. & Friedkin, N. E. (2017). Novel
  multidimensional models of opinion dynamics in social networks. *IEEE Transactions on Automatic
  Control* 62(5), 2270-2285 (arXiv:1505.04920).
- Deffuant, G., Neau, D., Amblard, F. & Weisbuch, G. (2000). Mixing beliefs among interacting agents.
  *Advances in Complex Systems* 3(01n04), 87-98. Random pairwise encounters with a confidence threshold.
- Hegselmann, R. & Krause, U. (2002). Opinion dynamics and bounded confidence: models, analysis and
  simulation. *Journal of Artificial Societies and Social Simulation* 5(3), 2. Synchronous averaging
  over everyone within the confidence bound, oneself included.
- The stubbornness extension of :func:`deffuant` borrows the anchoring term of Friedkin & Johnsen (1999);
  the influence-weight extension is this project's, and reduces exactly to the classic rule when all
  weights are equal.

The validation of each kernel against these papers is in ``tests/validation/`` and ``docs/VALIDATION.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral

import numpy as np
from coprod.model.jit import kernel
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "count_clusters",
    "deffuant",
    "degroot",
    "friedkin_johnsen",
    "hegselmann_krause",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

ROW_SUM_TOLERANCE = 1e-9
FIXED_POINT_TOLERANCE = 1e-12
DEFAULT_CLUSTER_GAP = 1e-3


# ---------------------------------------------------------------------------------------------------------
# argument checks (error messages name the argument and the bad value)
# ---------------------------------------------------------------------------------------------------------


def _opinion_vector(values: ArrayLike, name: str) -> FloatArray:
    """A finite 1-D float copy of ``values``; the copy is what protects the caller's array."""
    x = np.array(values, dtype=np.float64, copy=True)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of opinions, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got {x[~np.isfinite(x)][:3]} among its values")
    return x


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _per_agent(value: ArrayLike, n: int, name: str, low: float, high: float) -> float | FloatArray:
    """A scalar, or a length-n vector, of values in [low, high]."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        scalar = float(arr)
        if not low <= scalar <= high:
            raise ValueError(f"{name} must lie in [{low}, {high}], got {scalar!r}")
        return scalar
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {arr.shape}")
    bad = ~((arr >= low) & (arr <= high))
    if np.any(bad):
        raise ValueError(f"{name} must lie in [{low}, {high}], got {arr[bad][:3]} among its values")
    return arr.copy()


def _row_stochastic(weights: ArrayLike, n: int) -> FloatArray:
    w = np.array(weights, dtype=np.float64, copy=True)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"weights must be a square matrix, got shape {w.shape}")
    if w.shape[0] != n:
        raise ValueError(f"weights has shape {w.shape} but there are {n} opinions")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite")
    if np.any(w < 0):
        raise ValueError(f"weights must be nonnegative, got minimum {float(w.min())}")
    row_sums = w.sum(axis=1)
    worst = int(np.argmax(np.abs(row_sums - 1.0))) if n else 0
    if n and abs(row_sums[worst] - 1.0) > ROW_SUM_TOLERANCE:
        raise ValueError(
            f"weights must be row-stochastic (rows sum to 1 within {ROW_SUM_TOLERANCE}); "
            f"row {worst} sums to {float(row_sums[worst])}"
        )
    return w


def _edge_list(edges: ArrayLike, n: int) -> IntArray:
    e = np.asarray(edges)
    if e.ndim != 2 or e.shape[1] != 2:
        raise ValueError(f"edges must have shape (m, 2), got shape {e.shape}")
    if e.size and not np.issubdtype(e.dtype, np.integer):
        raise ValueError(f"edges must hold integer agent indices, got dtype {e.dtype}")
    e = e.astype(np.intp, copy=False)  # read only: the kernels never write the edges
    if e.size and (e.min() < 0 or e.max() >= n):
        raise ValueError(f"edges must index agents 0..{n - 1}, got values from {e.min()} to {e.max()}")
    loops = e[:, 0] == e[:, 1]
    if np.any(loops):
        raise ValueError(f"edges must not contain self-loops, got {e[loops][:3].tolist()}")
    return e


# ---------------------------------------------------------------------------------------------------------
# linear pooling: DeGroot and Friedkin-Johnsen
# ---------------------------------------------------------------------------------------------------------


def degroot(initial: ArrayLike, weights: ArrayLike, *, steps: int) -> FloatArray:
    """Iterated opinion pooling ``x(t+1) = W x(t)`` (DeGroot 1974), ``steps`` times.

    ``weights`` must be square, nonnegative and row-stochastic (rows sum to 1 within 1e-9): agent i's
    next opinion is a weighted average of everyone's current opinions. For a strongly connected,
    aperiodic W the opinions converge to the consensus ``pi @ initial``, pi the stationary distribution
    (left unit eigenvector) of W.
    """
    x = _opinion_vector(initial, "initial")
    w = _row_stochastic(weights, x.size)
    for _ in range(_count(steps, "steps")):
        x = w @ x
    return x


def friedkin_johnsen(
    initial: ArrayLike, weights: ArrayLike, susceptibility: ArrayLike, *, steps: int
) -> FloatArray:
    """Pooling anchored to initial views, ``x(t+1) = Λ W x(t) + (I - Λ) x(0)`` (Friedkin & Johnsen 1999).

    ``susceptibility`` is Λ's diagonal, a scalar or one value per agent in [0, 1]: 1 is fully open to
    influence (Λ = I gives DeGroot), 0 never moves from the initial opinion. When Λ W is convergent the
    opinions tend to ``(I - Λ W)^{-1} (I - Λ) x(0)``.
    """
    x0 = _opinion_vector(initial, "initial")
    w = _row_stochastic(weights, x0.size)
    lam = _per_agent(susceptibility, x0.size, "susceptibility", 0.0, 1.0)
    anchor = (1.0 - lam) * x0
    x = x0.copy()
    for _ in range(_count(steps, "steps")):
        x = lam * (w @ x) + anchor
    return x


# ---------------------------------------------------------------------------------------------------------
# bounded confidence, pairwise: Deffuant et al.
# ---------------------------------------------------------------------------------------------------------


def _encounter_rounds(
    n: int, interactions: int, rng: np.random.Generator, edges: IntArray | None = None
) -> Iterator[tuple[IntArray, IntArray]]:
    """Yield rounds of disjoint encounters ``(i, j)`` until exactly ``interactions`` have happened.

    Without ``edges`` (complete graph) a round is a random permutation paired up: ``n // 2``
    encounters, the last round cut short. With ``edges`` a round shuffles the edge list and keeps an
    edge only if it comes first, in the shuffled order, among the edges of *both* its endpoints: a
    random matching, so no agent meets twice in a round. The first shuffled edge is always kept, so
    every round makes progress.
    """
    remaining = interactions
    if edges is None:
        per_round = n // 2
        while remaining > 0:
            k = min(per_round, remaining)
            perm = rng.permutation(n)
            yield perm[:k], perm[k : 2 * k]
            remaining -= k
        return
    m = edges.shape[0]
    positions = np.arange(m)
    both_ends = np.repeat(positions, 2)
    while remaining > 0:
        shuffled = np.take(edges, rng.permutation(m), axis=0)  # much faster than fancy row indexing
        first = np.full(n, m, dtype=np.intp)
        np.minimum.at(first, shuffled.ravel(), both_ends)
        keep = (first[shuffled[:, 0]] == positions) & (first[shuffled[:, 1]] == positions)
        kept = shuffled[keep][:remaining]
        yield kept[:, 0], kept[:, 1]
        remaining -= kept.shape[0]


def deffuant(
    opinions: ArrayLike,
    *,
    threshold: ArrayLike,
    convergence: ArrayLike,
    interactions: int,
    rng: np.random.Generator,
    edges: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    stubbornness: ArrayLike | None = None,
    anchors: ArrayLike | None = None,
) -> FloatArray:
    """Random pairwise encounters with bounded confidence (Deffuant, Neau, Amblard & Weisbuch 2000).

    In an encounter of i and j, if ``|x_i - x_j| < threshold`` both move toward each other by
    ``convergence * (x_j - x_i)`` (and its mirror), simultaneously; otherwise nothing happens.
    ``threshold`` is d in the paper, ``convergence`` is mu, in [0, 0.5]. Exactly ``interactions``
    encounters happen. With ``edges`` (an int array of shape (m, 2)) only adjacent agents meet.

    Scheduling. The paper draws one random pair at a time. Here encounters are drawn in *rounds* of
    disjoint pairs: on the complete graph a round is a random
    permutation paired up (``n // 2`` encounters, every agent meets exactly one other); with ``edges``
    it is a random matching (shuffle the edges, keep an edge only if it is the first of both its
    endpoints). The last round is cut short so the count is exact. Because the pairs of a round are
    disjoint, updating them together is *identical* to updating them one after another in any order;
    the only difference from the paper is how pairs are sampled across a round: one-pair-at-a-time lets
    an agent meet twice (or not at all) within n/2 encounters, here it meets exactly once. What drives
    the macro results is unchanged: each encounter applies the same symmetric, mean-preserving rule to
    a uniformly random pair (every pair is equally likely in a random perfect matching), and each agent
    takes part in the same share, 2/n, of all encounters, so clusters form from the same local
    contractions at the same pace; only the variance of each agent's encounter count is lower. The
    paper's results (cluster count against d, consensus for d >= 0.3, mu changing only the time) are
    reproduced with this schedule in ``tests/validation/test_deffuant.py``. On a network the matching
    has a bias the sequential model lacks: edge (u, v) is kept with probability
    ``1 / (deg u + deg v - 1)``, so edges between hubs meet less often than edges between low-degree
    agents (all edges are equal on a regular graph).

    Extensions (all ``None`` by default, which gives exactly the classic model):

    - ``threshold`` and ``convergence`` may be per-agent vectors: agent i moves only if
      ``|x_i - x_j| < threshold[i]``, and by its own ``convergence[i]``.
    - ``weights``, per-agent nonnegative influence: in an encounter agent i moves by
      ``convergence * 2 * w_j / (w_i + w_j) * (x_j - x_i)``, so equal weights give the classic rule
      (bit for bit) and a powerful partner pulls harder. Two zero-weight agents do not move.
    - ``stubbornness`` s (scalar or per-agent, in [0, 1]) with ``anchors`` (per agent; default the
      initial opinions): after every round ``x <- (1 - s) x + s * anchors``, the Friedkin-Johnsen
      pull back to one's initial view. ``anchors`` without ``stubbornness`` is an error.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    x = _opinion_vector(opinions, "opinions")
    n = x.size
    count = _count(interactions, "interactions")
    thr = _per_agent(threshold, n, "threshold", 0.0, np.inf)
    mu = _per_agent(convergence, n, "convergence", 0.0, 0.5)
    edge_list = None if edges is None else _edge_list(edges, n)
    if count > 0:
        if edge_list is None and n < 2:
            raise ValueError(f"deffuant needs at least 2 agents for encounters, got {n}")
        if edge_list is not None and edge_list.shape[0] == 0:
            raise ValueError(f"edges is empty, so the {count} requested interactions cannot happen")
    w = None
    if weights is not None:
        w = _per_agent(weights, n, "weights", 0.0, np.inf)
        if np.ndim(w) == 0:
            w = None  # one weight for all is the classic rule
    stub = None
    anchor = None
    if stubbornness is not None:
        stub = _per_agent(stubbornness, n, "stubbornness", 0.0, 1.0)
        anchor = x.copy() if anchors is None else _opinion_vector(anchors, "anchors")
        if anchor.size != n:
            raise ValueError(f"anchors must have shape ({n},), got shape {anchor.shape}")
    elif anchors is not None:
        raise ValueError("anchors were given without stubbornness, so they would have no effect")
    return _encounters(x, count, rng, edge_list, thr, mu, w, stub, anchor)


def _encounters(
    x: FloatArray,
    count: int,
    rng: np.random.Generator,
    edge_list: IntArray | None,
    thr: float | FloatArray,
    mu: float | FloatArray,
    w: FloatArray | None,
    stub: float | FloatArray | None,
    anchor: FloatArray | None,
) -> FloatArray:
    """:func:`deffuant`'s ``count`` encounters on its checked arguments (``x`` is its own copy, changed in
    place): the rounds drawn as :func:`_encounter_rounds` draws them, each round's encounters in a compiled
    loop. :func:`_plain_encounters` is the numpy version: the same draws, the same result."""
    # the kernels take every parameter as a float vector, one value per agent or one for all
    params = (
        _vector(thr),
        _vector(mu),
        _vector(1.0 if w is None else w),
        w is not None,
        _vector(0.0 if stub is None else stub),
        x if anchor is None else anchor,
        stub is not None,
    )
    if edge_list is None:
        for i, j in _encounter_rounds(x.size, count, rng):
            _pairs_kernel(x, i, j, *params)
        return x
    remaining = count
    while remaining > 0:
        order = rng.permutation(edge_list.shape[0])
        remaining -= _matching_kernel(x, edge_list, order, remaining, *params)
    return x


def _plain_encounters(
    x: FloatArray,
    count: int,
    rng: np.random.Generator,
    edge_list: IntArray | None,
    thr: float | FloatArray,
    mu: float | FloatArray,
    w: FloatArray | None,
    stub: float | FloatArray | None,
    anchor: FloatArray | None,
) -> FloatArray:
    """:func:`_encounters` in numpy: one vectorised update per round of :func:`_encounter_rounds`."""
    n = x.size
    per_agent_thr = np.ndim(thr) == 1
    per_agent_mu = np.ndim(mu) == 1
    for i, j in _encounter_rounds(n, count, rng, edge_list):
        diff = x[j] - x[i]
        gap = np.abs(diff)
        mu_i = mu[i] if per_agent_mu else mu
        mu_j = mu[j] if per_agent_mu else mu
        if w is not None:
            total = w[i] + w[j]
            share_i = np.divide(2.0 * w[j], total, out=np.zeros_like(total), where=total > 0)
            share_j = np.divide(2.0 * w[i], total, out=np.zeros_like(total), where=total > 0)
            mu_i = mu_i * share_i
            mu_j = mu_j * share_j
        if per_agent_thr:
            x[i] += np.where(gap < thr[i], mu_i * diff, 0.0)
            x[j] -= np.where(gap < thr[j], mu_j * diff, 0.0)
        else:
            close = gap < thr
            x[i] += np.where(close, mu_i * diff, 0.0)
            x[j] -= np.where(close, mu_j * diff, 0.0)
        if stub is not None:
            x = (1.0 - stub) * x + stub * anchor
    return x


def _vector(value: float | FloatArray) -> FloatArray:
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


@kernel
def _moves(x_i, x_j, thr_i, thr_j, mu_i, mu_j, w_i, w_j, weighted):
    """How far i and j move in an encounter of :func:`deffuant`, in the order of operations of
    :func:`_plain_encounters` (scalars only, so that calling it costs nothing)."""
    diff = x_j - x_i
    gap = abs(diff)
    if weighted:
        total = w_i + w_j
        mu_i = mu_i * (2.0 * w_j / total if total > 0 else 0.0)
        mu_j = mu_j * (2.0 * w_i / total if total > 0 else 0.0)
    return (mu_i * diff if gap < thr_i else 0.0), (mu_j * diff if gap < thr_j else 0.0)


@kernel
def _pair(values, i, j):
    """Agents i's and j's values of a parameter (its one value for all when it has one)."""
    if values.size == 1:
        return values[0], values[0]
    return values[i], values[j]


@kernel
def _anchor(x, stub, anchor):
    """The pull back to the anchors after a round, ``x <- (1 - s) x + s anchors``."""
    for k in range(x.size):
        s = stub[k if stub.size > 1 else 0]
        x[k] = (1.0 - s) * x[k] + s * anchor[k]


@kernel
def _pairs_kernel(x, first, second, thr, mu, w, weighted, stub, anchor, anchored):
    """One round on the complete graph, in place: ``first[e]`` meets ``second[e]``, then the pull back to
    the anchors."""
    for e in range(first.size):
        i, j = first[e], second[e]
        move_i, move_j = _moves(x[i], x[j], *_pair(thr, i, j), *_pair(mu, i, j), *_pair(w, i, j), weighted)
        x[i] += move_i
        x[j] -= move_j
    if anchored:
        _anchor(x, stub, anchor)


@kernel
def _matching_kernel(x, edges, order, remaining, thr, mu, w, weighted, stub, anchor, anchored):
    """One round on a network, in place: the random matching of :func:`_encounter_rounds`, at most
    ``remaining`` encounters. Returns how many happened. An edge comes first among the edges of both its
    endpoints exactly when neither endpoint was touched by an edge before it in ``order``, so one pass
    finds the matching in the order the plain version keeps it, and stops once ``remaining`` are met."""
    touched = np.zeros(x.size, dtype=np.bool_)
    met = 0
    for pos in range(order.size):
        if met == remaining:
            break
        i, j = edges[order[pos], 0], edges[order[pos], 1]
        if not touched[i] and not touched[j]:
            move_i, move_j = _moves(
                x[i], x[j], *_pair(thr, i, j), *_pair(mu, i, j), *_pair(w, i, j), weighted
            )
            x[i] += move_i
            x[j] -= move_j
            met += 1
        touched[i] = True
        touched[j] = True
    if anchored:
        _anchor(x, stub, anchor)
    return met


# ---------------------------------------------------------------------------------------------------------
# bounded confidence, synchronous: Hegselmann-Krause
# ---------------------------------------------------------------------------------------------------------


def hegselmann_krause(opinions: ArrayLike, *, confidence: float, steps: int) -> FloatArray:
    """Synchronous bounded-confidence averaging (Hegselmann & Krause 2002), at most ``steps`` steps.

    Every agent moves to the mean opinion of all agents within ``confidence`` of it (``|x_j - x_i| <=
    confidence``), itself included. Each step is O(n log n): sort, find each agent's window of
    neighbours with ``np.searchsorted``, and take window means from cumulative sums. Stops early at a
    fixed point (largest change below 1e-12); the model reaches one in finite time.
    """
    x = _opinion_vector(opinions, "opinions")
    eps = float(confidence)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"confidence must be a finite nonnegative number, got {confidence!r}")
    max_steps = _count(steps, "steps")
    if x.size == 0:
        return x
    for _ in range(max_steps):
        order = np.argsort(x, kind="stable")
        s = x[order]
        lo = np.searchsorted(s, s - eps, side="left")
        hi = np.searchsorted(s, s + eps, side="right")
        # Centring before the cumulative sum keeps window sums accurate to ~n ulp of the opinion spread.
        centre = s[s.size // 2]
        sums = np.concatenate(([0.0], np.cumsum(s - centre)))
        means = (sums[hi] - sums[lo]) / (hi - lo) + centre
        new = np.empty_like(x)
        new[order] = means
        change = np.max(np.abs(new - x))
        x = new
        if change < FIXED_POINT_TOLERANCE:
            break
    return x


# ---------------------------------------------------------------------------------------------------------
# reading the outcome
# ---------------------------------------------------------------------------------------------------------


def count_clusters(opinions: ArrayLike, *, min_share: float = 0.01, gap: float | None = None) -> int:
    """Number of opinion clusters holding at least ``min_share`` of the agents.

    Opinions are sorted and split wherever two consecutive values are more than ``gap`` apart. The
    default gap, 1e-3 of the opinion scale, suits converged bounded-confidence states, where agents in a
    cluster agree to many more digits and distinct clusters lie at least a confidence threshold apart;
    for a state still moving, pass the confidence threshold as ``gap``. Groups smaller than
    ``min_share`` of all agents (the few stragglers left at the extremes) are not counted.
    """
    x = _opinion_vector(opinions, "opinions")
    split = DEFAULT_CLUSTER_GAP if gap is None else float(gap)
    if not np.isfinite(split) or split <= 0:
        raise ValueError(f"gap must be a finite positive number, got {gap!r}")
    share = float(min_share)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"min_share must lie in [0, 1], got {min_share!r}")
    if x.size == 0:
        return 0
    s = np.sort(x)
    breaks = np.flatnonzero(np.diff(s) > split) + 1
    sizes = np.diff(np.concatenate(([0], breaks, [s.size])))
    return int(np.count_nonzero(sizes >= share * x.size))
