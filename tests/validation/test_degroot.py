"""DeGroot (1974), *Reaching a consensus*, JASA 69(345): 118-121.

The model is linear, so its published results are exact statements, checked here to 1e-9:
``x(t) = W^t x(0)``, and for a strongly connected, aperiodic (primitive) row-stochastic W every opinion
converges to the consensus ``pi @ x(0)``, pi the stationary distribution of W (its left eigenvector for
eigenvalue 1, normalised to sum to 1).
"""

import numpy as np
import pytest
from coprod.model.deliberation import degroot

ROOT_SEED = 1974
TOLERANCE = 1e-9


def _random_stochastic(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(0.0, 1.0, size=(n, n))
    return w / w.sum(axis=1, keepdims=True)


def _ring_with_self_loops(n: int) -> np.ndarray:
    """Each agent listens to itself and its right-hand neighbour: strongly connected, and the self-loops
    make it aperiodic, yet sparse, so consensus takes many steps."""
    w = 0.5 * np.eye(n)
    w[np.arange(n), (np.arange(n) + 1) % n] = 0.5
    return w


def _stationary(w: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eig(w.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    return pi / pi.sum()


@pytest.mark.parametrize("steps", [0, 1, 2, 7, 30])
def test_iteration_matches_closed_form_power(steps: int) -> None:
    """``degroot(x0, W, steps=t)`` equals ``W^t x0`` (numpy.linalg.matrix_power) within 1e-9, on five
    seeded random 8-agent row-stochastic matrices (DeGroot 1974, eq. for x(t))."""
    for child in np.random.SeedSequence(ROOT_SEED).spawn(5):
        rng = np.random.default_rng(child)
        w = _random_stochastic(rng, 8)
        x0 = rng.uniform(0.0, 1.0, size=8)
        expected = np.linalg.matrix_power(w, steps) @ x0
        np.testing.assert_allclose(degroot(x0, w, steps=steps), expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize(
    ("name", "steps"),
    [("dense random", 200), ("sparse ring with self-loops", 3000)],
)
def test_converges_to_stationary_weighted_consensus(name: str, steps: int) -> None:
    """For a primitive W every agent ends at ``pi @ x0`` within 1e-9 (DeGroot 1974, Theorem 1 and its
    consensus value). Ten seeded 12-agent replications; a dense random W (200 steps) and a ring with
    self-loops, whose second eigenvalue is close to 1 (3000 steps)."""
    for child in np.random.SeedSequence([ROOT_SEED, 1]).spawn(10):
        rng = np.random.default_rng(child)
        w = _random_stochastic(rng, 12) if name == "dense random" else _ring_with_self_loops(12)
        x0 = rng.uniform(0.0, 1.0, size=12)
        consensus = _stationary(w) @ x0
        final = degroot(x0, w, steps=steps)
        np.testing.assert_allclose(final, np.full(12, consensus), rtol=0, atol=TOLERANCE)


def test_no_consensus_without_strong_connectivity() -> None:
    """The condition matters: two groups that only listen to themselves keep two different consensus
    values (each group's own weighted mean), so the final opinions differ by the initial gap."""
    block = np.full((3, 3), 1.0 / 3.0)
    w = np.block([[block, np.zeros((3, 3))], [np.zeros((3, 3)), block]])
    x0 = np.array([0.0, 0.1, 0.2, 0.7, 0.8, 0.9])
    final = degroot(x0, w, steps=50)
    np.testing.assert_allclose(final, [0.1, 0.1, 0.1, 0.8, 0.8, 0.8], rtol=0, atol=TOLERANCE)
