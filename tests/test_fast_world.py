"""The compiled world kernels agree with the plain versions that document them (issue 18).

:func:`holding_probability` and :func:`item_values` against :func:`_plain_holding_probability` and
:func:`_plain_item_values`: the same values, exactly (same bits and dtype), and the generator left in the same
state (the same draws, in the same order and sizes); on the model's own actors and items, on random inputs
of several sizes, and at the edges (no actor, no item, one of each, all lay, all expert).
"""

from __future__ import annotations

import numpy as np
import pytest
from coprod.model.kinds import N_KINDS
from coprod.model.scenario import load_scenario
from coprod.model.world import (
    _plain_holding_probability,
    _plain_item_values,
    build_people,
    holding_probability,
    item_values,
)

SCENARIO = load_scenario("scenarios/participatory_budgeting.toml")
SIZES = [(0, 0), (0, 5), (5, 0), (1, 1), (1, 7), (13, 1), (40, 9), (300, 24), (2000, 3)]


def _scenario(**deliberation):
    return SCENARIO.model_copy(update={"deliberation": SCENARIO.deliberation.model_copy(update=deliberation)})


def _actors(n: int, k: int, seed: int, lay: str = "mixed"):
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, N_KINDS, n).astype(np.int8)
    marginalised = rng.random(n) < 0.3
    item_lay = {"mixed": rng.random(k) < 0.5, "lay": np.ones(k, bool), "expert": np.zeros(k, bool)}[lay]
    return kind, marginalised, item_lay


def _assert_identical(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b)


@pytest.mark.parametrize("lay", ["mixed", "lay", "expert"])
@pytest.mark.parametrize(("n", "k"), SIZES)
def test_holding_probability_agrees_with_the_plain_version(n, k, lay):
    kind, marginalised, item_lay = _actors(n, k, seed=n * 100 + k, lay=lay)
    for s in (SCENARIO, _scenario(lay_holding_resident=0.01, expert_holding_resident=0.0)):
        _assert_identical(
            holding_probability(s, kind, marginalised, item_lay),
            _plain_holding_probability(s, kind, marginalised, item_lay),
        )


@pytest.mark.parametrize("lay", ["mixed", "lay", "expert"])
@pytest.mark.parametrize("k", [0, 1, 2, 9, 24, 1000])
def test_item_values_agree_with_the_plain_version(k, lay):
    _, _, item_lay = _actors(0, k, seed=k, lay=lay)
    # the last scenario's noise pushes values past both ends of [0, 1]: the clip matters
    for s in (SCENARIO, _scenario(expert_bias=0.3, expert_precision=0.25), _scenario(evidence_noise=2.0)):
        plain_rng, fast_rng = np.random.default_rng(k), np.random.default_rng(k)
        for _ in range(3):
            _assert_identical(item_values(s, item_lay, fast_rng), _plain_item_values(s, item_lay, plain_rng))
            assert fast_rng.bit_generator.state == plain_rng.bit_generator.state


def test_the_model_s_actors_and_items_agree():
    p = build_people(SCENARIO, np.random.default_rng(3))
    for items in (p.item_lay, p.item_lay[::3], p.item_lay[[0]], p.item_lay[:0]):
        _assert_identical(
            holding_probability(SCENARIO, p.kind, p.marginalised, items),
            _plain_holding_probability(SCENARIO, p.kind, p.marginalised, items),
        )
