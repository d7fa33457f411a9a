"""Friedkin & Johnsen (1999), *Social influence networks and opinion change*, Advances in Group
Processes 16: 1-29; ``x(t+1) = Λ W x(t) + (I - Λ) x(0)``.

Checked here: the iteration reaches the closed-form equilibrium ``(I - Λ W)^{-1} (I - Λ) x(0)`` to 1e-9;
Λ = I is DeGroot's model exactly; and the published four-agent example (Λ = I - diag W) as reproduced
in Parsegov, Proskurnikov, Tempo & Friedkin (2017), IEEE Trans. Automatic Control 62(5): 2270-2285
(arXiv:1505.04920), whose final opinions are printed rounded.
"""

import numpy as np
import pytest
from coprod.model.deliberation import degroot, friedkin_johnsen

ROOT_SEED = 1999
TOLERANCE = 1e-9

# The influence matrix of the published four-agent example; agent 3 gives all weight to itself, so it is
# totally stubborn (susceptibility 1 - w_33 = 0).
PUBLISHED_W = np.array(
    [
        [0.220, 0.120, 0.360, 0.300],
        [0.147, 0.215, 0.344, 0.294],
        [0.000, 0.000, 1.000, 0.000],
        [0.090, 0.178, 0.446, 0.286],
    ]
)


def _random_stochastic(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(0.0, 1.0, size=(n, n))
    return w / w.sum(axis=1, keepdims=True)


def _equilibrium(w: np.ndarray, lam: np.ndarray, x0: np.ndarray) -> np.ndarray:
    n = x0.size
    return np.linalg.solve(np.eye(n) - np.diag(lam) @ w, (1.0 - lam) * x0)


def test_iteration_reaches_closed_form_equilibrium() -> None:
    """Ten seeded 10-agent replications with susceptibilities drawn in [0, 0.9] (so Λ W is a
    contraction): after 400 steps every opinion equals ``(I - ΛW)^{-1}(I - Λ)x0`` within 1e-9."""
    for child in np.random.SeedSequence(ROOT_SEED).spawn(10):
        rng = np.random.default_rng(child)
        w = _random_stochastic(rng, 10)
        lam = rng.uniform(0.0, 0.9, size=10)
        x0 = rng.uniform(0.0, 1.0, size=10)
        final = friedkin_johnsen(x0, w, lam, steps=400)
        np.testing.assert_allclose(final, _equilibrium(w, lam, x0), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("steps", [0, 1, 5, 40])
def test_full_susceptibility_is_degroot(steps: int) -> None:
    """Λ = I (scalar 1 or a vector of ones) removes the anchor term, leaving DeGroot's ``W x``: equal
    to :func:`degroot` within 1e-12 (five seeded 6-agent replications)."""
    for child in np.random.SeedSequence([ROOT_SEED, 1]).spawn(5):
        rng = np.random.default_rng(child)
        w = _random_stochastic(rng, 6)
        x0 = rng.uniform(0.0, 1.0, size=6)
        expected = degroot(x0, w, steps=steps)
        np.testing.assert_allclose(friedkin_johnsen(x0, w, 1.0, steps=steps), expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            friedkin_johnsen(x0, w, np.ones(6), steps=steps), expected, rtol=0, atol=1e-12
        )


def test_zero_susceptibility_keeps_initial_opinions() -> None:
    """Λ = 0: nobody listens, so x(t) = x(0) exactly, whatever W."""
    rng = np.random.default_rng(ROOT_SEED)
    w = _random_stochastic(rng, 5)
    x0 = rng.uniform(0.0, 1.0, size=5)
    np.testing.assert_array_equal(friedkin_johnsen(x0, w, 0.0, steps=25), x0)


@pytest.mark.parametrize(
    ("initial", "published", "tolerance"),
    [
        ([25.0, 25.0, 75.0, 85.0], [60.0, 60.0, 75.0, 75.0], 0.5),
        ([25.0, 15.0, -50.0, 5.0], [-19.3, -21.5, -50.0, -23.2], 0.05),
    ],
)
def test_published_four_agent_example(initial: list[float], published: list[float], tolerance: float) -> None:
    """The four-agent example of Parsegov et al. (2017), Λ = I - diag(W): after 500 steps the opinions
    match the published final opinions within half a unit of their last printed digit (0.5 for the
    first issue, printed as integers; 0.05 for the second, printed to one decimal). The stubborn agent 3
    keeps its initial opinion exactly."""
    lam = 1.0 - np.diag(PUBLISHED_W)
    final = friedkin_johnsen(np.array(initial), PUBLISHED_W, lam, steps=500)
    np.testing.assert_allclose(final, published, rtol=0, atol=tolerance)
    assert final[2] == initial[2]
