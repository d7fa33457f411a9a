"""The benchmark references agree with the project's Deffuant kernel (issue 6).

The benchmarks compare the speed of :func:`model.deliberation.deffuant` with a bare numpy reference and a
plain-Mesa reference (``benchmarks/references/``); a speed ratio only means something if the three compute
the same model. They schedule encounters differently (the project and numpy use rounds of disjoint pairs,
Mesa one pair at a time in ``shuffle_do`` order) and use their generators differently, so runs cannot match
bit for bit: they are compared on macro outputs over many seeds, and on exact micro properties.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from coprod.model.deliberation import count_clusters, deffuant

# benchmarks/ is not an installed package; with `pythonpath = ["."]` in pytest's settings this can go
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from benchmarks.references import mesa_deffuant, numpy_deffuant  # noqa: E402

N_AGENTS = 200
SEEDS = 400  # per side and threshold
MU = 0.5
MESA_STEPS = 60  # one Mesa step is N_AGENTS encounters
ENCOUNTERS = MESA_STEPS * N_AGENTS  # 120 encounters per agent: converged at these thresholds
MAJOR = 0.05  # a cluster holds at least 5% of the agents

# Margins, fixed before the first run: the difference of the mean number of major clusters at most 0.3, of
# the mean dispersion (standard deviation of the final opinions) at most 0.02 on the 0-1 scale. With 400
# seeds a side the standard error of a difference of means is about 0.03 clusters and 0.006 dispersion
# in the noisier case (d = 0.3, where runs end in one cluster or two), so the margins are 10 and 3
# standard errors: a real difference of that size fails, sampling noise does not.
CLUSTER_MARGIN = 0.3
DISPERSION_MARGIN = 0.02


def _initial(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(N_AGENTS)


def _dynamics_seed(seed: int) -> int:
    return 1_000_003 + seed


def _final(side: str, threshold: float, seed: int) -> np.ndarray:
    x0 = _initial(seed)
    match side:
        case "project":
            return deffuant(
                x0,
                threshold=threshold,
                convergence=MU,
                interactions=ENCOUNTERS,
                rng=np.random.default_rng(_dynamics_seed(seed)),
            )
        case "numpy":
            return numpy_deffuant.deffuant(
                x0, threshold, MU, ENCOUNTERS, np.random.default_rng(_dynamics_seed(seed))
            )
        case "mesa":
            return mesa_deffuant.deffuant(x0, threshold, MU, MESA_STEPS, _dynamics_seed(seed))
        case _:
            raise ValueError(f"unknown side {side!r}")


@cache
def _outcomes(side: str, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Major-cluster counts and dispersions over the seeds (the same initial opinions on every side)."""
    finals = [_final(side, threshold, seed) for seed in range(SEEDS)]
    clusters = np.array([count_clusters(x, min_share=MAJOR) for x in finals])
    dispersion = np.array([x.std() for x in finals])
    return clusters, dispersion


@pytest.mark.slow
@pytest.mark.parametrize("threshold", [0.2, 0.3])
@pytest.mark.parametrize("pair", [("project", "numpy"), ("project", "mesa"), ("numpy", "mesa")])
def test_references_agree_on_clusters_and_dispersion(pair, threshold):
    """Mean major-cluster count within 0.3 and mean dispersion within 0.02 (400 seeds a side, N = 200,
    mu = 0.5, 120 encounters per agent); margins stated above, before the first run."""
    (c_a, s_a), (c_b, s_b) = _outcomes(pair[0], threshold), _outcomes(pair[1], threshold)
    cluster_gap = abs(c_a.mean() - c_b.mean())
    dispersion_gap = abs(s_a.mean() - s_b.mean())
    assert cluster_gap <= CLUSTER_MARGIN, (pair, threshold, c_a.mean(), c_b.mean())
    assert dispersion_gap <= DISPERSION_MARGIN, (pair, threshold, s_a.mean(), s_b.mean())


@pytest.mark.parametrize("side", ["numpy", "mesa"])
def test_reference_reproduces_the_papers_regimes(side):
    """Deffuant et al. (2000): about 1 / (2d) clusters; consensus (one major cluster) in most runs at
    d = 0.3 and never at d = 0.1. Checked on 20 seeds, so that a broken reference fails fast."""
    one = [count_clusters(_final(side, 0.3, seed), min_share=MAJOR) for seed in range(20)]
    many = [count_clusters(_final(side, 0.1, seed), min_share=MAJOR) for seed in range(20)]
    assert np.mean(np.array(one) == 1) >= 0.6
    assert min(many) >= 3


@pytest.mark.parametrize("side", ["numpy", "mesa"])
def test_reference_encounters_keep_the_mean_and_move_pairs_to_the_midpoint(side):
    """Every encounter is symmetric, so the mean opinion never moves; with mu = 0.5 two agents within the
    threshold meet at their midpoint, and two agents further apart than the threshold never move."""
    x0 = _initial(7)
    x = _final(side, 0.25, 7)
    assert x.mean() == pytest.approx(x0.mean(), abs=1e-12)
    pair = np.array([0.2, 0.4])
    if side == "numpy":
        met = numpy_deffuant.deffuant(pair, 0.3, 0.5, 1, np.random.default_rng(0))
        apart = numpy_deffuant.deffuant(pair, 0.1, 0.5, 5, np.random.default_rng(0))
    else:
        met = mesa_deffuant.deffuant(pair, 0.3, 0.5, 1, 0)
        apart = mesa_deffuant.deffuant(pair, 0.1, 0.5, 5, 0)
    np.testing.assert_allclose(met, [0.3, 0.3], atol=1e-15)
    np.testing.assert_array_equal(apart, pair)


@pytest.mark.parametrize("side", ["numpy", "mesa"])
def test_reference_is_reproducible_from_its_seed(side):
    np.testing.assert_array_equal(_final(side, 0.2, 3), _final(side, 0.2, 3))
    assert not np.array_equal(_final(side, 0.2, 3), _final(side, 0.2, 4))
