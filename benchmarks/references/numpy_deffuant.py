"""Bare numpy reference of the Deffuant model on complete mixing: what a fast hand-written kernel costs.

Written from the paper (Deffuant, Neau, Amblard & Weisbuch 2000, *Advances in Complex Systems* 3, 87-98),
not from :mod:`model.deliberation`: no argument checks, no per-agent parameters, no network, no
stubbornness. It is the floor the project's kernel is measured against.

One *sweep* is n // 2 encounters between disjoint random pairs (every agent meets one other, an odd one
out sits out), so the pairs of a sweep can be updated at once without changing the result: the paper's
one-pair-at-a-time rule applied to a random perfect matching. The pairs come from one random
permutation (position i meets position i + n // 2), and ``k`` encounters are made of ``k // (n // 2)``
full sweeps and one partial sweep.
"""

from __future__ import annotations

import numpy as np


def sweep(x: np.ndarray, threshold: float, mu: float, rng: np.random.Generator, pairs: int) -> None:
    """``pairs`` encounters between disjoint random pairs, updating ``x`` in place."""
    shuffled = rng.permutation(x.size)
    a, b = shuffled[:pairs], shuffled[pairs : 2 * pairs]
    xa, xb = x[a], x[b]
    delta = xb - xa
    delta = np.where(np.abs(delta) < threshold, mu * delta, 0.0)
    x[a] = xa + delta
    x[b] = xb - delta


def deffuant(
    opinions: np.ndarray, threshold: float, mu: float, encounters: int, rng: np.random.Generator
) -> np.ndarray:
    """Opinions after ``encounters`` random pairwise encounters (a new array; ``opinions`` is untouched)."""
    x = np.array(opinions, dtype=np.float64)
    per_sweep = x.size // 2
    left = encounters
    while left > 0:
        k = min(per_sweep, left)
        sweep(x, threshold, mu, rng, k)
        left -= k
    return x
