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


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance between two distributions given as counts (normalised here)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return 1.0
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())
