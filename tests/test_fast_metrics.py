"""The compiled output kernels agree with the plain versions that document them (issue 18).

Outputs are measurement only, but stored results are rerun and compared exactly, so every fast version must
give the same floats, to the last bit, as the plain one:

- :func:`_numpy_sum` rounds as numpy's pairwise sum does, at every size around its block boundaries;
  :func:`_variance` and :func:`_gini` as ``np.var``/``mean`` and :func:`model.inequality.gini`;
- :func:`remember` against :func:`_plain_remember` under every design, month after month, and on hand-made
  months: no meeting, one participant, a silent meeting, a room of groups alone, a room of marginalised
  residents alone, nobody with a say;
- :func:`cross_sector_linked` against :func:`_plain_cross_sector_linked` in the model and on random networks;
- :func:`composite` and :func:`_share` against ``np.mean``.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from coprod.model import GovernanceModel
from coprod.model.inequality import gini
from coprod.model.kinds import GROUP
from coprod.model.knowledge import Speech
from coprod.model.metrics import (
    _gini,
    _numpy_sum,
    _plain_cross_sector_linked,
    _plain_remember,
    _share,
    _variance,
    composite,
    cross_sector_linked,
    remember,
)
from coprod.model.network import adjacency
from coprod.model.scenario import load_scenario

SCENARIOS = (
    "participatory_budgeting",
    "citizens_assembly",
    "top_down_consultation",
    "action_research_cooperative",
    "co_financed_partnership",
)


def _model(name: str, residents: int = 300, **overrides) -> GovernanceModel:
    return GovernanceModel(load_scenario(f"scenarios/{name}.toml"), residents=residents, rng=11, **overrides)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b or (a != a and b != b)


def _check_remember(m) -> None:
    """remember and _plain_remember from the same memory leave the same memory, bit for bit."""
    start = copy.deepcopy(m.memory)
    _plain_remember(m)
    plain = m.memory
    m.memory = copy.deepcopy(start)
    remember(m)
    for f in dataclasses.fields(plain):
        assert _same(getattr(plain, f.name), getattr(m.memory, f.name)), f.name


@pytest.mark.parametrize(
    "n", [0, 1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 136, 255, 256, 257, 271, 272, 1000, 1031, 4099, 70001]
)
def test_numpy_sum_rounds_as_numpy(n):
    rng = np.random.default_rng(n)
    for _ in range(5):
        a = rng.random(n) * rng.choice([1.0, 1e-8, 1e8], n)
        assert _numpy_sum(a, 0, n) == a.sum()
        lo = n // 3
        assert _numpy_sum(a, lo, n - lo) == a[lo:].sum()


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 100, 129, 257, 1000, 5003])
def test_variance_and_gini_round_as_numpy(n):
    rng = np.random.default_rng(n)
    cases = [rng.random(n), rng.random(n) * 1e6, np.full(n, 0.3), np.zeros(n), rng.integers(0, 3, n) / 7]
    for x in cases:
        var, mean = _variance(x)
        assert var == x.var() and mean == x.mean()
        assert _gini(np.sort(x)) == gini(x)
    assert _gini(np.zeros(0)) == gini(np.zeros(0)) == 0.0


@pytest.mark.parametrize("name", SCENARIOS)
def test_remember_agrees_with_the_plain_remember_month_after_month(name):
    m = _model(name)
    checked = []

    def checked_collect() -> None:  # the model's own schedule, each month's remember checked first
        _check_remember(m)
        checked.append(m.steps)
        m._collect()

    m.collect = checked_collect
    for _ in range(14):
        m.step()
    assert len(checked) == 14


def _sliced(speech: Speech, keep: np.ndarray) -> Speech:
    return Speech(
        speech.held[keep], speech.said[keep], speech.believed_said[keep], speech.lay_held, speech.believed
    )


def test_remember_agrees_on_edge_months():
    m = _model("participatory_budgeting")
    for _ in range(5):
        m.step()
    p, flows = m.people, m.flows
    idx, speech = flows.meeting.copy(), flows.speech
    before, after, decision = flows.views_before.copy(), flows.views_after.copy(), flows.decision

    def meeting(keep: np.ndarray, speech_: Speech | None = None) -> None:
        flows.meeting = idx[keep]
        flows.views_before, flows.views_after = before[keep], after[keep]
        flows.speech = _sliced(speech, keep) if speech_ is None else speech_
        _check_remember(m)

    positions = np.arange(len(idx))
    meeting(positions)  # the month as it was
    meeting(positions[:0], Speech.silent(0, p.item_lay))  # nobody came
    meeting(positions[:1])  # one participant
    meeting(positions[:2])
    meeting(positions, Speech.silent(len(idx), p.item_lay))  # nobody spoke
    groups = np.flatnonzero(p.kind == GROUP)[:5]  # groups alone (everyone else too tired to come)
    assert len(groups)
    flows.meeting, flows.views_before, flows.views_after = groups, p.view[groups], p.view[groups] * 0.9
    flows.speech = Speech.silent(len(groups), p.item_lay)
    _check_remember(m)
    rng = np.random.default_rng(5)  # made-up speech: some held nothing, no lay item held
    held = rng.integers(0, 4, len(idx))
    said = rng.integers(0, held + 1)
    made_up = Speech(held, said, rng.integers(0, said + 1), np.zeros_like(speech.lay_held), speech.believed)
    meeting(positions, made_up)
    meeting(np.flatnonzero(p.marginalised[idx]))  # the marginalised alone: no parity
    meeting(np.flatnonzero(~p.marginalised[idx]))
    flows.views_after = flows.views_before.copy()  # no convergence at all
    _check_remember(m)
    flows.views_before = np.full(len(flows.meeting), 0.4)  # no diversity to lose
    flows.views_after = flows.views_before.copy()
    _check_remember(m)
    flows.decision = dataclasses.replace(decision, power_idx=np.zeros(0, dtype=np.int64), power=np.zeros(0))
    _check_remember(m)  # nobody held the say


@pytest.mark.parametrize("name", SCENARIOS)
def test_cross_sector_linked_agrees_with_the_plain_version(name):
    m = _model(name)
    assert cross_sector_linked(m) == _plain_cross_sector_linked(m)  # month 0: the pilot meeting's residents
    for _ in range(8):
        m.step()
        assert cross_sector_linked(m) == _plain_cross_sector_linked(m)


@pytest.mark.parametrize("n", [2, 3, 10, 200])
def test_cross_sector_linked_agrees_on_random_networks(n):
    rng = np.random.default_rng(n)
    m = _model("participatory_budgeting", residents=200)
    m.step()  # past month 0, whose network is the pilot meeting
    for density in (0.0, 0.05, 0.5, 1.0):
        pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64).reshape(-1, 2)
        edges = pairs[rng.random(len(pairs)) < density]
        people = copy.copy(m.people)
        m.people = people
        people.kind = rng.integers(0, 4, n).astype(m.people.kind.dtype)
        people.last_turn = np.where(rng.random(n) < 0.5, m.steps, -1)
        m.adjacency = adjacency(edges, n)
        assert cross_sector_linked(m) == _plain_cross_sector_linked(m)


def test_composite_and_share_are_numpy_means():
    rng = np.random.default_rng(3)
    for k in range(1, 12):
        for _ in range(50):
            parts = tuple(rng.random(k) * rng.choice([1.0, 1e-9, 1e9], k))
            assert composite(*parts) == float(np.mean(parts))
    assert composite(-0.0) == float(np.mean((-0.0,)))
    for n in (1, 2, 9, 1000):
        mask = rng.random(n) < 0.3
        assert _share(mask) == float(np.mean(mask))
    assert np.isnan(_share(np.zeros(0, dtype=bool)))
