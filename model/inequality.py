"""Inequality measures shared by the outputs."""

from __future__ import annotations

import numpy as np


def gini(values: np.ndarray) -> float:
    """Gini coefficient of nonnegative values (0 equal, 1 concentrated); 0 for all-zero or empty input.

    Sorted-rank formula: G = sum_i (2i - n - 1) x_(i) / (n sum x).
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(np.clip(((2 * ranks - n - 1) * x).sum() / (n * total), 0.0, 1.0))


def jackknife_gini(per_sample: np.ndarray, groups: int) -> float:
    """The Gini of the row sums of ``per_sample`` (``n x k``: node ``i``'s value is the sum over ``k``
    sampled columns), corrected for the bias that sampling puts in it by the delete-a-group jackknife
    (Quenouille 1956; Efron and Tibshirani 1993, ch. 10-11): with ``G`` the Gini of the full sums and
    ``G_j`` that with the ``j``-th of ``groups`` consecutive column groups left out,
    ``groups * G - (groups - 1) * mean_j G_j``, clipped to [0, 1].

    Sampling noise spreads the estimated values, and a Gini reads spread as inequality, so the plain
    estimate is too high by about ``c / k``; the jackknife removes that term, not the higher ones, so what
    is left grows with nodes per column (measured against exact values in ODD 7.9,
    ``leadership_concentration``, and ``make bench``'s part g). Needs ``groups`` between 2 and ``k``;
    the columns must be exchangeable draws."""
    k = per_sample.shape[1]
    if not 2 <= groups <= k:
        raise ValueError(f"jackknife_gini: groups must be in [2, {k}], got {groups}")
    total = per_sample.sum(axis=1, dtype=np.float64)
    full = gini(total)
    left_out = [
        gini(total - per_sample[:, cols].sum(axis=1, dtype=np.float64))
        for cols in np.array_split(np.arange(k), groups)
    ]
    return float(np.clip(groups * full - (groups - 1) * np.mean(left_out), 0.0, 1.0))


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance between two distributions given as counts (normalised here)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return 1.0
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())
