"""The compiled mobilisation and condition kernels agree with the plain versions documenting them (issue 18).

Each fast mechanism against its ``_plain_*`` version from the same state and the same generator: the same
result, exactly, and the generator left in the same state (the same draws, in the same order and sizes).

- :func:`mobilise` (and :func:`actor_effort`, :func:`document`, :func:`bridge`) against
  :func:`_plain_mobilise`; the effort behind each item, summed in actor order, against BLAS's ``by @ knows``
  to rounding and against the same sum in Python exactly;
- :func:`readiness` against :func:`_plain_readiness`, :func:`spread_adoption` against
  :func:`_plain_spread_adoption`;
- the edge cases: nobody mobilised or backing change, everybody acting, an empty evidence base, zero and
  unreachable thresholds, a city without groups.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from coprod.model import GovernanceModel
from coprod.model.conditions import (
    TIPPING,
    _plain_readiness,
    _plain_spread_adoption,
    readiness,
    spread_adoption,
)
from coprod.model.kinds import COALITION, KNOWLEDGE, N_THEORIES, OFFICIAL, STRUCTURAL, THEORIES
from coprod.model.mobilisation import (
    _behind,
    _plain_actor_effort,
    _plain_bridge,
    _plain_document,
    _plain_mobilise,
    actor_effort,
    bridge,
    document,
    mobilise,
    mobilised,
    theory_effort,
)
from coprod.model.restructuring import LEVERS, backlash, clip01, restructure
from coprod.model.scenario import load_scenario
from coprod.model.theories import THEORY_LEVERS

SCENARIOS = ("participatory_budgeting", "citizens_assembly", "top_down_consultation")


def _model(name: str, residents: int = 300, **overrides) -> GovernanceModel:
    return GovernanceModel(load_scenario(f"scenarios/{name}.toml"), residents=residents, rng=5, **overrides)


def _state(m) -> dict:
    """What the mechanisms here read or write: the actors' arrays, the ties, the flows, the generator."""
    p = m.people
    arrays = {
        f.name: getattr(p, f.name).copy()
        for f in dataclasses.fields(p)
        if isinstance(getattr(p, f.name), np.ndarray)
    }
    adj = m.adjacency
    return {
        "people": arrays,
        "edges": m.edges.copy(),
        "adjacency": (adj.indptr.copy(), adj.indices.copy(), adj.data.copy()),
        "structure": dict(m.structure),
        "flows": {
            name: None if getattr(m.flows, name) is None else np.array(getattr(m.flows, name))
            for name in ("effort", "theory_effort", "readiness", "push")
        },
        "rng": m.rng.bit_generator.state,
    }


def _restore(m, state: dict) -> None:
    for name, value in state["people"].items():
        setattr(m.people, name, value.copy())
    m.edges = state["edges"].copy()
    indptr, indices, data = state["adjacency"]
    m.adjacency = type(m.adjacency)((data.copy(), indices.copy(), indptr.copy()), shape=m.adjacency.shape)
    m.structure = dict(state["structure"])
    for name, value in state["flows"].items():
        setattr(m.flows, name, None if value is None else value.copy())
    m.rng.bit_generator.state = state["rng"]


def _assert_same(a: dict, b: dict) -> None:
    assert a["rng"] == b["rng"]
    assert np.array_equal(a["edges"], b["edges"])
    for x, y in zip(a["adjacency"], b["adjacency"], strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert a["structure"] == b["structure"]
    for name, value in a["flows"].items():
        other = b["flows"][name]
        assert (value is None) == (other is None), name
        if value is not None:
            assert value.dtype == other.dtype and np.array_equal(value, other), name
    for name, value in a["people"].items():
        other = b["people"][name]
        assert value.dtype == other.dtype, name
        assert np.array_equal(value, other, equal_nan=value.dtype.kind == "f"), name


def _agree(m, fast, plain, *args) -> None:
    """Run ``plain(m, *args)``, then ``fast(m, *args)`` from the same state: both leave the same state."""
    start = _state(m)
    plain(m, *args)
    after_plain = _state(m)
    _restore(m, start)
    fast(m, *args)
    _assert_same(after_plain, _state(m))


def _agree_everywhere(m) -> None:
    effort = _plain_actor_effort(m)
    fast = actor_effort(m)
    assert fast.dtype == effort.dtype and np.array_equal(fast, effort)
    _agree(m, mobilise, _plain_mobilise)
    _agree(m, document, _plain_document, effort)
    _agree(m, bridge, _plain_bridge, effort)
    _agree(m, lambda m, e: bridge(m, e, mobilised(m)), _plain_bridge, effort)
    _agree(m, spread_adoption, _plain_spread_adoption)
    fast, plain = readiness(m), _plain_readiness(m)
    assert fast.dtype == plain.dtype and np.array_equal(fast, plain)


# -- month after month -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("theory", ["incremental", "structural", "knowledge", "coalition"])
def test_mobilise_and_conditions_agree_with_plain_month_after_month(name, theory):
    m = _model(name, theory=theory, theory__production=0.2, theory__bridging=2.0)
    for _ in range(8):
        _agree_everywhere(m)
        m.step()


def test_agree_at_scale():
    m = _model("participatory_budgeting", 3000, theory="coalition")
    for _ in range(3):
        _agree_everywhere(m)
        m.step()


def test_mobilised_actors_handed_on_are_the_months():
    m = _model("participatory_budgeting")
    for _ in range(3):
        m.step()
    effort = actor_effort(m)
    _agree(m, mobilise, _plain_mobilise)
    mobilise(m)
    assert np.array_equal(m.flows.effort, effort)
    assert np.array_equal(m.flows.theory_effort, theory_effort(m, effort))


# -- edge cases --------------------------------------------------------------------------------------


def _edge_model(**overrides) -> GovernanceModel:
    m = _model("participatory_budgeting", 200, theory__production=0.3, theory__bridging=3.0, **overrides)
    m.step()
    return m


def test_nobody_backing_change():
    m = _edge_model()
    m.people.view[:] = 0.0  # nobody acts, no coalition, nobody committed
    assert not actor_effort(m).any()
    _agree_everywhere(m)


def test_everybody_acting_on_one_theory():
    for theory in (KNOWLEDGE, COALITION):
        m = _edge_model()
        p = m.people
        p.view[:] = 1.0
        p.salience[:] = 1.0
        p.group_of[: m.n_residents] = 0  # every resident mobilised
        p.toc[:] = theory
        _agree_everywhere(m)


def test_one_builder_and_one_knower():
    m = _edge_model()
    p = m.people
    p.toc[:] = 0
    acting = np.flatnonzero(actor_effort(m) > 0)
    p.toc[acting[0]] = COALITION
    p.toc[acting[-1]] = KNOWLEDGE
    _agree_everywhere(m)


def test_empty_evidence_base_and_no_adopters():
    m = _edge_model()
    m.people.in_evidence[:] = False
    m.people.adopted[:] = False
    assert readiness(m)[KNOWLEDGE] == 0.0
    _agree_everywhere(m)


def test_without_groups():
    m = _edge_model(civil_society_groups=0)
    _agree_everywhere(m)


@pytest.mark.parametrize("threshold", [0.0, 1e-9, 0.3, 0.999, 1.0])
def test_thresholds_zero_and_out_of_reach(threshold):
    m = _edge_model(
        theory__adoption_threshold=threshold,
        theory__institutionalise_at=threshold,
        theory__tipping_share=threshold,
        theory__evidence_threshold=threshold,
        theory__coalition_share=threshold,
    )
    p = m.people
    rng = np.random.default_rng(3)
    for share in (0.0, 0.3, 1.0):
        p.adopted[:] = (p.kind == OFFICIAL) & (rng.random(p.n) < share)
        _agree_everywhere(m)
    if threshold == 0.0:
        assert readiness(m).tolist() == [1.0] * N_THEORIES


# -- the effort behind each item ---------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k"), [(0, 0), (0, 3), (1, 1), (5, 0), (7, 4), (300, 40), (4000, 60)])
def test_effort_behind_items(n, k):
    rng = np.random.default_rng(n + k)
    for knowing in (0.0, 0.5, 1.0):
        toc = rng.integers(0, N_THEORIES, n).astype(np.int8)
        effort = np.where(rng.random(n) < 0.6, rng.random(n) * 2, 0.0)
        knows = rng.random((n, k)) < knowing
        behind, found = _behind(toc, effort, knows)
        by = np.where(toc == KNOWLEDGE, effort, 0.0)
        assert found == bool(by.any())
        assert np.allclose(behind, by @ knows, rtol=1e-13, atol=0.0)  # BLAS sums in an order of its own
        in_order = [sum((by[i] for i in range(n) if knows[i, j]), 0.0) for j in range(k)]
        assert behind.tolist() == in_order  # actor by actor, exactly


# -- restructure ---------------------------------------------------------------------------------------


def _array_restructure(m) -> None:
    """:func:`restructure` as it was on arrays (the push as numpy arithmetic), from the plain conditions."""
    st, th, flows = m.structure, m.settings.theory, m.flows
    _plain_spread_adoption(m)
    ready = _plain_readiness(m)
    tipped = ready.copy()
    tipped[list(TIPPING)] = np.floor(ready[list(TIPPING)])
    push = th.rate * flows.theory_effort * tipped
    flows.readiness, flows.push = ready, push
    for theory, theory_push in zip(THEORIES, push.tolist(), strict=True):
        levers = THEORY_LEVERS[theory]
        for lever in levers:
            st[lever] += min(1.0, theory_push / len(levers)) * (1 - st[lever])
    if push[STRUCTURAL] > 0:
        backlash(m, min(1.0, float(push[STRUCTURAL]) / len(THEORY_LEVERS["structural"])))
    for lever in LEVERS:
        st[lever] = clip01(float(st[lever] + th.inertia * (m.structure0[lever] - st[lever])))


@pytest.mark.parametrize("theory", ["incremental", "structural", "knowledge", "coalition"])
def test_restructure_agrees_with_array_version(theory):
    m = _model(
        "participatory_budgeting", theory=theory, theory__tipping_share=0.01, theory__coalition_share=0.01
    )
    pushed = set()
    for _ in range(8):
        m.step()
        _agree(m, restructure, _array_restructure)
        pushed |= {t for t, value in enumerate(m.flows.push.tolist()) if value > 0}
    assert pushed  # some theory moved its levers
    if theory == "structural":
        assert STRUCTURAL in pushed  # tipped: the structural push, and backlash, ran
