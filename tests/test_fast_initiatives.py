"""The compiled experiment and conformity kernels agree with the plain versions that document them (issue 18).

Each fast mechanism against its plain version from the same state and the same generator: the same result,
exactly, and the generator left in the same state (the same draws, in the same order and sizes).

- :func:`_numpy_sum` rounds as numpy's pairwise sum does, at every size around its block boundaries;
- :func:`act` against :func:`_plain_act` (the experiments one by one by :func:`_experiment`) under every
  design, month after month; :func:`experiment_all` on hand-made teams: empty, one member, overlapping teams
  that all succeed (each sees the skill the one before left), teams with no resident, a team larger than a
  summation block, with and without members' own time;
- :func:`_conform` against :func:`_plain_conform`: groups of zero, one and many members, tied tallies.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from coprod.model import GovernanceModel
from coprod.model.decisions import _conform, _plain_conform
from coprod.model.initiatives import (
    Outcome,
    _experiment,
    _numpy_sum,
    _plain_act,
    act,
    experiment_all,
)
from coprod.model.kinds import N_THEORIES
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


def _state(m) -> dict:
    """Everything act and decide read or write: the actors' arrays, the pipelines, the generator."""
    p = m.people
    arrays = {
        f.name: getattr(p, f.name).copy()
        for f in dataclasses.fields(p)
        if isinstance(getattr(p, f.name), np.ndarray)
    }
    return {
        "people": arrays,
        "pipeline": m.flows.pipeline.copy(),
        "partner_pipeline": m.flows.partner_pipeline.copy(),
        "rng": m.rng.bit_generator.state,
    }


def _restore(m, state: dict) -> None:
    for name, value in state["people"].items():
        setattr(m.people, name, value.copy())
    m.flows.pipeline = state["pipeline"].copy()
    m.flows.partner_pipeline = state["partner_pipeline"].copy()
    m.rng.bit_generator.state = state["rng"]


def _assert_same(a: dict, b: dict) -> None:
    assert a["rng"] == b["rng"]
    for key in ("pipeline", "partner_pipeline"):
        assert np.array_equal(a[key], b[key]), key
    for name, value in a["people"].items():
        assert np.array_equal(value, b["people"][name], equal_nan=value.dtype.kind == "f"), name


def _assert_same_outcome(a: Outcome, b: Outcome) -> None:
    for f in dataclasses.fields(Outcome):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


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


@pytest.mark.parametrize("name", SCENARIOS)
def test_act_agrees_with_the_plain_act_month_after_month(name):
    m = _model(name, theory__grassroots=0.1)  # many of incrementalists' own experiments too
    experiments = []

    def checked_act() -> None:  # the model's own schedule, with each month's act checked against the plain
        before = _state(m)
        plain = _plain_act(m, m.flows.decision)
        after_plain = _state(m)
        _restore(m, before)
        fast = act(m, m.flows.decision)
        _assert_same(after_plain, _state(m))
        _assert_same_outcome(plain, fast)
        experiments.append(fast.experiments)
        m.flows.outcome = fast

    m.act = checked_act
    for _ in range(12):
        m.step()
    assert len(experiments) == 12 and sum(experiments) > 0


def _teams_cases(m) -> dict[str, list[np.ndarray]]:
    p, r = m.people, m.n_residents
    officials = np.flatnonzero(p.kind != 0)
    return {
        "one member": [np.array([3])],
        "empty and one": [np.zeros(0, dtype=np.int64), np.array([5])],
        "overlapping": [np.arange(10), np.arange(5, 15), np.arange(0, 20, 2)],
        "no resident": [officials[:4], officials[2:9]],
        "over a block": [np.arange(0, r, 2)[:200], np.arange(r - 150, p.n)],
        "mixed": [np.array([0, r, r + 1]), np.array([1, 2]), np.arange(r, p.n)],
    }


@pytest.mark.parametrize("succeed", [True, False])
@pytest.mark.parametrize("own_time", [True, False])
@pytest.mark.parametrize(
    "case", ["one member", "empty and one", "overlapping", "no resident", "over a block", "mixed"]
)
def test_experiment_all_agrees_with_the_plain_loop(case, own_time, succeed):
    overrides = {"theory__experiment_success": 1.0, "behaviour__experiment_floor": 1.0} if succeed else {}
    m = _model("action_research_cooperative", **overrides)
    for _ in range(3):
        m.step()
    teams = _teams_cases(m)[case]
    effort = np.random.default_rng(1).random(m.people.n) if own_time else None
    funds = 0.0 if own_time else 1234.5
    before = _state(m)
    plain = Outcome(toc_trials=np.zeros(N_THEORIES), toc_successes=np.zeros(N_THEORIES))
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty team's capability: the mean of nothing
        for team in teams:
            in_kind = float(effort[team].sum()) * m.settings.resources.stipend_amount if own_time else 0.0
            _experiment(m, team, funds, plain, in_kind=in_kind)
    after_plain = _state(m)
    _restore(m, before)
    fast = Outcome(toc_trials=np.zeros(N_THEORIES), toc_successes=np.zeros(N_THEORIES))
    experiment_all(m, teams, funds, fast, effort=effort)
    _assert_same(after_plain, _state(m))
    _assert_same_outcome(plain, fast)
    assert fast.experiments == len(teams)
    if succeed and case != "empty and one":
        assert fast.successes == len(teams)


@pytest.mark.parametrize("size", [0, 1, 2, 5, 60])
@pytest.mark.parametrize("tied", [False, True])
def test_conform_agrees_with_the_plain_conform(size, tied):
    m = _model("citizens_assembly", deliberation__conformity=0.5)
    m.step()
    rng = np.random.default_rng(size)
    idx = np.sort(rng.choice(m.people.n, size, replace=False))
    weights = np.ones(size) if tied else rng.random(size)
    if tied:  # two theories with equal tallies
        m.people.toc[idx] = np.arange(size) % 2
    for _ in range(4):
        before = _state(m)
        _plain_conform(m, idx, weights)
        after_plain = _state(m)
        _restore(m, before)
        _conform(m, idx, weights)
        _assert_same(after_plain, _state(m))
