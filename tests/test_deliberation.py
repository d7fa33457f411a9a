"""Fast unit tests of the deliberation kernels on tiny hand-built worlds (validation against the papers is
in tests/validation/)."""

import numpy as np
import pytest
from coprod.model.deliberation import (
    _encounter_rounds,
    count_clusters,
    deffuant,
    degroot,
    friedkin_johnsen,
    hegselmann_krause,
)

W3 = np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]])
X3 = np.array([0.0, 0.5, 1.0])


def _rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------------------------------------
# DeGroot and Friedkin-Johnsen
# --------------------------------------------------------------------------------------------------------


def test_degroot_one_step_by_hand() -> None:
    np.testing.assert_allclose(degroot(X3, W3, steps=1), [0.25, 0.5, 0.75], rtol=0, atol=1e-15)


def test_degroot_zero_steps_returns_a_copy() -> None:
    out = degroot(X3, W3, steps=0)
    np.testing.assert_array_equal(out, X3)
    assert out is not X3
    assert out.dtype == np.float64


def test_friedkin_johnsen_one_step_by_hand() -> None:
    lam = np.array([1.0, 0.5, 0.0])
    # agent 0: W x = 0.25; agent 1: 0.5 * 0.5 + 0.5 * 0.5; agent 2 keeps 1.0
    np.testing.assert_allclose(friedkin_johnsen(X3, W3, lam, steps=1), [0.25, 0.5, 1.0], rtol=0, atol=1e-15)


# --------------------------------------------------------------------------------------------------------
# Deffuant: the classic rule on tiny cases
# --------------------------------------------------------------------------------------------------------


def test_deffuant_one_encounter_by_hand() -> None:
    out = deffuant([0.2, 0.6], threshold=0.5, convergence=0.25, interactions=1, rng=_rng())
    np.testing.assert_allclose(out, [0.3, 0.5], rtol=0, atol=1e-15)


def test_deffuant_threshold_is_strict() -> None:
    """Deffuant et al. (2000) update only if the difference is *below* d: a pair exactly d apart stays."""
    out = deffuant([0.0, 0.25], threshold=0.25, convergence=0.5, interactions=10, rng=_rng())
    np.testing.assert_array_equal(out, [0.0, 0.25])


@pytest.mark.parametrize("interactions", [0, 1, 2, 5, 17])
def test_deffuant_exact_encounter_count_shown_by_the_outcome(interactions: int) -> None:
    """With two agents every encounter shrinks their gap by the factor (1 - 2 mu), so the final gap
    reveals how many encounters happened."""
    mu = 0.1
    out = deffuant([0.0, 1.0], threshold=2.0, convergence=mu, interactions=interactions, rng=_rng())
    assert out[1] - out[0] == pytest.approx((1 - 2 * mu) ** interactions, abs=1e-14)


def test_deffuant_exact_encounter_count_with_two_disjoint_edges() -> None:
    """Two disjoint edges are both kept every round; five encounters are three rounds, the last cut to
    one, and the product of the two gaps shows exactly five happened."""
    mu = 0.1
    x0 = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    edges = np.array([[0, 1], [2, 3]])
    out = deffuant(x0, threshold=2.0, convergence=mu, interactions=5, rng=_rng(), edges=edges)
    assert (out[1] - out[0]) * (out[3] - out[2]) == pytest.approx((1 - 2 * mu) ** 5, abs=1e-14)
    assert out[4] == 0.5


@pytest.mark.parametrize(("n", "interactions"), [(2, 3), (7, 10), (10, 5), (10, 23), (11, 0), (1000, 12_345)])
def test_encounter_rounds_complete_graph_are_exact_and_disjoint(n: int, interactions: int) -> None:
    rounds = list(_encounter_rounds(n, interactions, _rng()))
    assert sum(i.size for i, _ in rounds) == interactions
    for i, j in rounds:
        assert i.size == j.size <= n // 2
        both = np.concatenate([i, j])
        assert np.unique(both).size == both.size, "an agent met twice in one round"
    assert all(i.size == n // 2 for i, _ in rounds[:-1]), "only the last round may be cut short"


def test_encounter_rounds_on_edges_are_exact_disjoint_and_adjacent() -> None:
    rng = _rng(3)
    n = 40
    edges = np.array([(a, b) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.15])
    allowed = {tuple(e) for e in edges} | {tuple(e[::-1]) for e in edges}
    rounds = list(_encounter_rounds(n, 777, _rng(), edges))
    assert sum(i.size for i, _ in rounds) == 777
    for i, j in rounds:
        assert i.size > 0
        both = np.concatenate([i, j])
        assert np.unique(both).size == both.size, "an agent met twice in one round"
        assert all((a, b) in allowed for a, b in zip(i.tolist(), j.tolist(), strict=True))


def test_deffuant_edges_never_mix_disconnected_components() -> None:
    """Two cliques with no edge between them: each keeps its own mean, and with a threshold above every
    gap each reaches its own consensus, never the pooled one."""
    rng = _rng(11)
    a = rng.uniform(0.0, 0.5, size=6)
    b = rng.uniform(0.5, 1.0, size=6)
    x0 = np.concatenate([a, b])
    clique = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    edges = np.array(clique + [(i + 6, j + 6) for i, j in clique])
    out = deffuant(x0, threshold=2.0, convergence=0.3, interactions=3000, rng=_rng(), edges=edges)
    assert out[:6].mean() == pytest.approx(a.mean(), abs=1e-12)
    assert out[6:].mean() == pytest.approx(b.mean(), abs=1e-12)
    np.testing.assert_allclose(out[:6], a.mean(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(out[6:], b.mean(), rtol=0, atol=1e-9)


def test_deffuant_agents_without_edges_never_move() -> None:
    x0 = np.linspace(0.0, 1.0, 6)
    out = deffuant(x0, threshold=2.0, convergence=0.5, interactions=50, rng=_rng(), edges=[[0, 1], [1, 2]])
    np.testing.assert_array_equal(out[3:], x0[3:])


def test_deffuant_conserves_the_mean() -> None:
    x0 = _rng(5).uniform(size=301)
    out = deffuant(x0, threshold=0.3, convergence=0.4, interactions=20_000, rng=_rng())
    assert out.mean() == pytest.approx(x0.mean(), abs=1e-12)


# --------------------------------------------------------------------------------------------------------
# Deffuant extensions
# --------------------------------------------------------------------------------------------------------


def test_deffuant_equal_weights_are_exactly_classic() -> None:
    x0 = _rng(1).uniform(size=50)
    kwargs = {"threshold": 0.3, "convergence": 0.35, "interactions": 2000}
    classic = deffuant(x0, rng=_rng(), **kwargs)
    np.testing.assert_array_equal(deffuant(x0, rng=_rng(), weights=np.full(50, 2.5), **kwargs), classic)
    np.testing.assert_array_equal(deffuant(x0, rng=_rng(), weights=4.0, **kwargs), classic)


def test_deffuant_weights_by_hand() -> None:
    """w = (3, 1), mu = 0.5: agent 0 moves by 0.5 * 2 * 1/4 of the gap, agent 1 by 0.5 * 2 * 3/4."""
    out = deffuant([0.0, 1.0], threshold=2.0, convergence=0.5, interactions=1, rng=_rng(), weights=[3.0, 1.0])
    np.testing.assert_allclose(out, [0.25, 0.25], rtol=0, atol=1e-15)
    out = deffuant(
        [0.0, 1.0], threshold=2.0, convergence=0.25, interactions=1, rng=_rng(), weights=[3.0, 1.0]
    )
    np.testing.assert_allclose(out, [0.125, 0.625], rtol=0, atol=1e-15)


def test_deffuant_zero_weight_pair_does_not_move() -> None:
    out = deffuant([0.0, 1.0], threshold=2.0, convergence=0.5, interactions=3, rng=_rng(), weights=[0.0, 0.0])
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_deffuant_per_agent_threshold_and_convergence() -> None:
    """A closed-minded agent (threshold 0) does not move; its open partner does, by its own mu."""
    out = deffuant([0.0, 0.4], threshold=[0.0, 1.0], convergence=[0.5, 0.25], interactions=1, rng=_rng())
    np.testing.assert_allclose(out, [0.0, 0.3], rtol=0, atol=1e-15)


def test_deffuant_scalar_and_vector_parameters_agree() -> None:
    x0 = _rng(2).uniform(size=40)
    a = deffuant(x0, threshold=0.2, convergence=0.3, interactions=500, rng=_rng())
    b = deffuant(x0, threshold=np.full(40, 0.2), convergence=np.full(40, 0.3), interactions=500, rng=_rng())
    np.testing.assert_array_equal(a, b)


def test_deffuant_zero_stubbornness_is_exactly_classic() -> None:
    x0 = _rng(4).uniform(size=30)
    kwargs = {"threshold": 0.25, "convergence": 0.5, "interactions": 600}
    np.testing.assert_array_equal(
        deffuant(x0, rng=_rng(), stubbornness=0.0, **kwargs), deffuant(x0, rng=_rng(), **kwargs)
    )


def test_deffuant_full_stubbornness_returns_to_anchors() -> None:
    x0 = _rng(4).uniform(size=30)
    anchors = np.linspace(0.0, 1.0, 30)
    kwargs = {"threshold": 1.0, "convergence": 0.5, "interactions": 100}
    np.testing.assert_array_equal(deffuant(x0, rng=_rng(), stubbornness=1.0, **kwargs), x0)
    np.testing.assert_array_equal(
        deffuant(x0, rng=_rng(), stubbornness=1.0, anchors=anchors, **kwargs), anchors
    )


def test_deffuant_stubbornness_by_hand() -> None:
    """One encounter to the midpoint 0.5, then the pull x <- 0.8 x + 0.2 x0."""
    out = deffuant([0.0, 1.0], threshold=2.0, convergence=0.5, interactions=1, rng=_rng(), stubbornness=0.2)
    np.testing.assert_allclose(out, [0.4, 0.6], rtol=0, atol=1e-15)


def test_deffuant_stubbornness_keeps_disagreement() -> None:
    """Friedkin-Johnsen-style anchoring stops full consensus: the spread stays well above zero."""
    x0 = _rng(6).uniform(size=200)
    free = deffuant(x0, threshold=1.0, convergence=0.5, interactions=20_000, rng=_rng())
    anchored = deffuant(x0, threshold=1.0, convergence=0.5, interactions=20_000, rng=_rng(), stubbornness=0.1)
    assert np.ptp(free) < 1e-9
    assert np.ptp(anchored) > 0.05


# --------------------------------------------------------------------------------------------------------
# Hegselmann-Krause and cluster counting
# --------------------------------------------------------------------------------------------------------


def _hk_reference(x: np.ndarray, eps: float, steps: int) -> np.ndarray:
    """The rule written the obvious O(n^2) way."""
    for _ in range(steps):
        near = np.abs(x[:, None] - x[None, :]) <= eps
        x = (near * x[None, :]).sum(axis=1) / near.sum(axis=1)
    return x


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.1, 0.2, 0.5])
def test_hegselmann_krause_matches_the_quadratic_reference(eps: float) -> None:
    x0 = _rng(8).uniform(size=120)
    for steps in (1, 2, 5):
        np.testing.assert_allclose(
            hegselmann_krause(x0, confidence=eps, steps=steps),
            _hk_reference(x0, eps, steps),
            rtol=0,
            atol=1e-12,
        )


def test_hegselmann_krause_one_step_by_hand() -> None:
    out = hegselmann_krause([0.0, 0.1, 0.5, 0.9, 1.0], confidence=0.15, steps=1)
    np.testing.assert_allclose(out, [0.05, 0.05, 0.5, 0.95, 0.95], rtol=0, atol=1e-15)


def test_hegselmann_krause_stops_at_fixed_point() -> None:
    out = hegselmann_krause([0.0, 0.1, 0.5, 0.9, 1.0], confidence=0.15, steps=10**9)
    np.testing.assert_allclose(out, [0.05, 0.05, 0.5, 0.95, 0.95], rtol=0, atol=1e-15)


def test_count_clusters_by_hand() -> None:
    x = np.array([0.1, 0.1, 0.1005, 0.5, 0.5, 0.5, 0.5, 0.9])
    assert count_clusters(x) == 3
    assert count_clusters(x, min_share=0.2) == 2
    assert count_clusters(x, min_share=0.5) == 1
    assert count_clusters(x, gap=1e-4) == 4
    assert count_clusters(x, gap=0.45) == 1
    assert count_clusters([]) == 0


# --------------------------------------------------------------------------------------------------------
# contracts: purity, determinism, bad input
# --------------------------------------------------------------------------------------------------------


def test_no_kernel_mutates_its_inputs() -> None:
    x0 = _rng(9).uniform(size=12)
    w = np.full((12, 12), 1.0 / 12)
    lam = np.full(12, 0.5)
    thr = np.full(12, 0.4)
    mu = np.full(12, 0.3)
    weights = np.arange(1.0, 13.0)
    stub = np.full(12, 0.1)
    anchors = np.linspace(0.0, 1.0, 12)
    edges = np.array([[i, (i + 1) % 12] for i in range(12)])
    inputs = [x0, w, lam, thr, mu, weights, stub, anchors, edges]
    before = [a.copy() for a in inputs]
    outputs = [
        degroot(x0, w, steps=3),
        friedkin_johnsen(x0, w, lam, steps=3),
        deffuant(
            x0,
            threshold=thr,
            convergence=mu,
            interactions=40,
            rng=_rng(),
            edges=edges,
            weights=weights,
            stubbornness=stub,
            anchors=anchors,
        ),
        deffuant(x0, threshold=0.4, convergence=0.3, interactions=0, rng=_rng()),
        hegselmann_krause(x0, confidence=0.2, steps=3),
    ]
    count_clusters(x0)
    for a, b in zip(inputs, before, strict=True):
        np.testing.assert_array_equal(a, b)
    for out in outputs:
        assert not np.shares_memory(out, x0)


@pytest.mark.parametrize(
    "edges", [None, np.array([[i, (i + 1) % 30] for i in range(30)] + [[0, 15], [3, 20]])]
)
def test_deffuant_is_deterministic_given_the_seed(edges: np.ndarray | None) -> None:
    x0 = _rng(10).uniform(size=30)
    kwargs = {"threshold": 0.3, "convergence": 0.3, "interactions": 400, "edges": edges}
    a = deffuant(x0, rng=np.random.default_rng(123), **kwargs)
    b = deffuant(x0, rng=np.random.default_rng(123), **kwargs)
    c = deffuant(x0, rng=np.random.default_rng(124), **kwargs)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chained_calls_equal_one_call_in_whole_rounds() -> None:
    """Splitting a run at a round boundary (n // 2 encounters on the complete graph) changes nothing."""
    x0 = _rng(12).uniform(size=20)
    kwargs = {"threshold": 0.3, "convergence": 0.5}
    rng = _rng()
    half = deffuant(x0, interactions=30, rng=rng, **kwargs)
    chained = deffuant(half, interactions=30, rng=rng, **kwargs)
    np.testing.assert_array_equal(chained, deffuant(x0, interactions=60, rng=_rng(), **kwargs))


BAD_CALLS = [
    (lambda: degroot(X3, W3[:2], steps=1), "square"),
    (lambda: degroot(X3, np.eye(4), steps=1), "3 opinions"),
    (lambda: degroot(X3, [[1.5, -0.5, 0], [0, 1, 0], [0, 0, 1]], steps=1), "nonnegative"),
    (lambda: degroot(X3, [[0.5, 0.4, 0], [0, 1, 0], [0, 0, 1]], steps=1), "row 0 sums to 0.9"),
    (lambda: degroot(X3, np.full((3, 3), np.nan), steps=1), "finite"),
    (lambda: degroot([0.0, np.nan, 1.0], W3, steps=1), "initial must be finite"),
    (lambda: degroot(np.eye(3), W3, steps=1), "1-D"),
    (lambda: degroot(X3, W3, steps=-1), "steps"),
    (lambda: degroot(X3, W3, steps=2.5), "steps"),
    (lambda: degroot(X3, W3, steps=True), "steps"),
    (lambda: friedkin_johnsen(X3, W3, 1.5, steps=1), "susceptibility"),
    (lambda: friedkin_johnsen(X3, W3, [0.5, 0.5], steps=1), r"shape \(3,\)"),
    (lambda: deffuant(X3, threshold=-0.1, convergence=0.5, interactions=1, rng=_rng()), "threshold"),
    (lambda: deffuant(X3, threshold=0.1, convergence=0.6, interactions=1, rng=_rng()), "convergence"),
    (lambda: deffuant(X3, threshold=0.1, convergence=np.nan, interactions=1, rng=_rng()), "convergence"),
    (lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=-1, rng=_rng()), "interactions"),
    (lambda: deffuant([0.5], threshold=0.1, convergence=0.5, interactions=1, rng=_rng()), "at least 2"),
    (
        lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), edges=[0, 1]),
        "shape",
    ),
    (
        lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), edges=[[0, 3]]),
        "index",
    ),
    (
        lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), edges=[[1, 1]]),
        "self-loop",
    ),
    (
        lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), edges=[[0.0, 1.0]]),
        "integer",
    ),
    (
        lambda: deffuant(
            X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), edges=np.empty((0, 2), int)
        ),
        "empty",
    ),
    (
        lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), weights=[1, -1, 1]),
        "weights",
    ),
    (
        lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), stubbornness=1.1),
        "stubbornness",
    ),
    (
        lambda: deffuant(
            X3,
            threshold=0.1,
            convergence=0.5,
            interactions=1,
            rng=_rng(),
            stubbornness=0.1,
            anchors=[0.0],
        ),
        "anchors",
    ),
    (
        lambda: deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=_rng(), anchors=X3),
        "without stubbornness",
    ),
    (lambda: hegselmann_krause(X3, confidence=-0.1, steps=1), "confidence"),
    (lambda: hegselmann_krause(X3, confidence=np.inf, steps=1), "confidence"),
    (lambda: hegselmann_krause(X3, confidence=0.1, steps=-2), "steps"),
    (lambda: count_clusters(X3, min_share=1.5), "min_share"),
    (lambda: count_clusters(X3, gap=0.0), "gap"),
]


@pytest.mark.parametrize(
    ("call", "match"), BAD_CALLS, ids=[f"{i}-{match}" for i, (_, match) in enumerate(BAD_CALLS)]
)
def test_bad_arguments_raise_value_error(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_rng_must_be_a_generator() -> None:
    with pytest.raises(TypeError, match="Generator"):
        deffuant(X3, threshold=0.1, convergence=0.5, interactions=1, rng=42)
