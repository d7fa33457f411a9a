"""The compiled experiment and conformity kernels agree with the plain versions that document them (issue 18).

Each fast mechanism against its plain version from the same state and the same generator: the same result,
exactly, and the generator left in the same state (the same draws, in the same order and sizes).

- :func:`_numpy_sum` rounds as numpy's pairwise sum does, at every size around its block boundaries;
- :func:`act` against :func:`_plain_act` (the experiments one by one by :func:`_experiment`) under every
  design, month after month; :func:`experiment_all` on hand-made teams: empty, one member, overlapping teams
  that all succeed (each sees the skill the one before left), teams with no resident, a team larger than a
  summation block, with and without members' own time;
- :func:`_conform` against :func:`_plain_conform`: groups of zero, one and many members, tied tallies;
- :func:`deliver` and :func:`grassroots` against :func:`_plain_deliver` and :func:`_plain_grassroots` (also
  inside :func:`_plain_act` above): with and without co-financing, many and few districts, nobody acting;
- :func:`decide`'s compiled steps against their plain versions: the officials, their chance of deferring
  and the citizen side (:func:`_sides_kernel`), and who a consensus drops (:func:`_drop_kernel`), on the
  model's actors and on rooms of none, one, only officials and only citizens.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from coprod.model import GovernanceModel
from coprod.model.decisions import (
    Decision,
    _conform,
    _drop_kernel,
    _plain_conform,
    _plain_drop,
    _plain_sides,
    _sides_kernel,
)
from coprod.model.initiatives import (
    Outcome,
    _experiment,
    _numpy_sum,
    _plain_act,
    _plain_deliver,
    _plain_grassroots,
    act,
    deliver,
    experiment_all,
    grassroots,
)
from coprod.model.kinds import INCREMENTAL, N_THEORIES, OFFICIAL
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


@pytest.mark.parametrize("cf", [0.0, 0.4])
@pytest.mark.parametrize("districts", [1, 3, 8, 9, 40])
def test_deliver_agrees_with_the_plain_deliver(cf, districts):
    m = _model("co_financed_partnership", population__districts=districts)
    for _ in range(2):
        m.step()
    rng = np.random.default_rng(districts)
    m.flows.partner_pipeline[:] = rng.random(districts) * 1e4
    for month in range(6):
        allocation = rng.random(districts)
        decision = Decision(float(rng.random()), np.zeros(0, dtype=np.int64), np.zeros(0), allocation)
        allocated = 0.0 if month == 0 else float(rng.random() * 1e5)
        before = _state(m)
        plain_out, fast_out = Outcome(), Outcome()
        plain = _plain_deliver(m, decision, allocated, cf, plain_out)
        after_plain = _state(m)
        _restore(m, before)
        fast = deliver(m, decision, allocated, cf, fast_out)
        _assert_same(after_plain, _state(m))
        _assert_same_outcome(plain_out, fast_out)
        assert fast.dtype == plain.dtype and np.array_equal(fast, plain)


@pytest.mark.parametrize("acting", ["none", "one", "few", "many"])
def test_grassroots_agrees_with_the_plain_grassroots(acting):
    m = _model("participatory_budgeting", theory__grassroots=0.2)
    for _ in range(3):
        m.step()
    p = m.people
    rng = np.random.default_rng(len(acting))
    effort = rng.random(p.n) * (rng.random(p.n) < 0.5)  # half of them put in nothing
    count = {"none": 0, "one": 1, "few": 5, "many": p.n}[acting]
    p.toc[:] = (INCREMENTAL + 1) % N_THEORIES
    p.toc[rng.permutation(p.n)[:count]] = INCREMENTAL
    if acting in ("one", "few"):  # enough effort for teams; two of the few put in nothing
        effort[np.flatnonzero(p.toc == INCREMENTAL)] = [30.0, 0.0, 30.0, 0.0, 30.0][:count]
    drawn = 0
    for _ in range(3):
        before = _state(m)
        plain = _plain_grassroots(m, effort)
        after_plain = _state(m)
        _restore(m, before)
        fast = grassroots(m, effort)
        _assert_same(after_plain, _state(m))
        assert len(fast) == len(plain)
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(fast, plain, strict=True))
        drawn += len(fast)
    assert (drawn > 0) == (acting != "none")


def _rooms(m) -> dict[str, np.ndarray]:
    p = m.people
    officials = np.flatnonzero(p.kind == OFFICIAL)
    return {
        "none": np.zeros(0, dtype=np.int64),
        "one": np.array([4]),
        "one official": officials[:1],
        "only officials": officials,
        "only citizens": np.arange(0, 200, 3),
        "the meeting": m.flows.meeting,
        "everyone": np.arange(p.n),
    }


@pytest.mark.parametrize(
    "room", ["none", "one", "one official", "only officials", "only citizens", "the meeting", "everyone"]
)
def test_decide_s_compiled_steps_agree_with_the_plain_ones(room):
    m = _model("participatory_budgeting")
    for _ in range(3):
        m.step()
    p = m.people
    idx = _rooms(m)[room]
    weights = np.random.default_rng(len(idx)).random(len(idx))
    fast = _sides_kernel(p.kind, idx, weights, p.accountability, p.trust)
    plain = _plain_sides(p, idx, weights)
    for a, b in zip(fast, plain, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    citizen_side = plain[2]
    for position in (0.0, 0.3, float(p.view[idx].mean()) if len(idx) else 0.5, 1.0):
        for confidence in (0.0, 0.1, 0.25, 1.0):
            fast = _drop_kernel(p.view, idx, citizen_side, position, confidence)
            plain = _plain_drop(p.view, idx, citizen_side, position, confidence)
            for a, b in zip(fast, plain, strict=True):
                assert a.dtype == b.dtype and np.array_equal(a, b)
