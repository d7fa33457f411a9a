"""The compiled deliberation kernels agree with the plain versions that document them (issue 18).

Each fast mechanism against its ``_plain_*`` version from the same state and the same generator: the same
result, exactly (same bits), and the generator left in the same state (the same draws, in the same order
and sizes).

- :func:`deffuant` with its compiled encounters against :func:`_plain_encounters`, on random inputs of
  several sizes, on the complete graph and on networks, with every extension (per-agent threshold and
  convergence, weights with zeros, stubbornness with and without anchors), over many rounds, and at the
  edges (no encounter, no agent, one agent, two agents, one edge); its inputs left alone;
- :func:`speak`, :func:`share_knowledge` and :func:`publish` from model states month after month, and in
  an empty room, a room of one, a silenced room and a room that knows nothing;
- :func:`weigh_evidence` and :func:`speak_for_members`;
- a whole meeting (:func:`deliberate`) month after month with every plain version swapped in.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from coprod.model import GovernanceModel
from coprod.model import deliberation as deliberation_module
from coprod.model import governance as governance_module
from coprod.model import meeting as meeting_module
from coprod.model.convening import voice_weights
from coprod.model.deliberation import _plain_encounters, deffuant
from coprod.model.knowledge import (
    _plain_publish,
    _plain_share_knowledge,
    _plain_speak,
    publish,
    share_knowledge,
    speak,
)
from coprod.model.meeting import (
    _plain_speak_for_members,
    _plain_weigh_evidence,
    speak_for_members,
    weigh_evidence,
)
from coprod.model.scenario import load_scenario

SCENARIOS = ("participatory_budgeting", "citizens_assembly", "top_down_consultation")


def _model(name: str, residents: int = 300) -> GovernanceModel:
    return GovernanceModel(load_scenario(f"scenarios/{name}.toml"), residents=residents, rng=5)


def _state(m) -> dict:
    p = m.people
    arrays = {
        f.name: getattr(p, f.name).copy()
        for f in dataclasses.fields(p)
        if isinstance(getattr(p, f.name), np.ndarray)
    }
    return {"people": arrays, "rng": m.rng.bit_generator.state}


def _restore(m, state: dict) -> None:
    for name, value in state["people"].items():
        getattr(m.people, name)[...] = value
    m.rng.bit_generator.state = state["rng"]


def _assert_same_state(a: dict, b: dict) -> None:
    assert a["rng"] == b["rng"], "the two versions drew differently"
    for name, value in a["people"].items():
        assert np.array_equal(value, b["people"][name]), name


def _assert_same_speech(a, b) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert x.dtype == y.dtype, f.name
        assert np.array_equal(x, y), f.name


def _both(m, fast, plain, *args):
    """Run ``fast`` and ``plain`` from the same state; return their results and the states they leave."""
    start = _state(m)
    out_plain = plain(m, *args)
    after_plain = _state(m)
    _restore(m, start)
    out_fast = fast(m, *args)
    after_fast = _state(m)
    _assert_same_state(after_plain, after_fast)
    return out_fast, out_plain


# --------------------------------------------------------------------------------------------------------
# deffuant
# --------------------------------------------------------------------------------------------------------


def _random_case(seed: int) -> tuple[np.ndarray, dict]:
    g = np.random.default_rng(seed)
    n = int(g.choice([2, 3, 4, 7, 20, 61, 200]))
    x = g.uniform(size=n)
    kw: dict = {
        "threshold": g.uniform(0.0, 1.0) if g.random() < 0.5 else g.uniform(0.0, 1.0, n),
        "convergence": g.uniform(0.0, 0.5) if g.random() < 0.5 else g.uniform(0.0, 0.5, n),
        "interactions": int(g.choice([0, 1, n // 2, n, int(g.integers(0, 5 * n + 1))])),
    }
    if g.random() < 0.6:
        w = g.uniform(0.0, 3.0, n)
        w[g.random(n) < 0.3] = 0.0  # zero-weight agents, and pairs of them
        kw["weights"] = w
    if g.random() < 0.6:
        kw["stubbornness"] = g.uniform(0.0, 1.0) if g.random() < 0.5 else g.uniform(0.0, 1.0, n)
        if g.random() < 0.5:
            kw["anchors"] = g.uniform(size=n)
    if g.random() < 0.5:
        edges = np.array([(a, b) for a in range(n) for b in range(a + 1, n) if g.random() < 0.3])
        kw["edges"] = edges if len(edges) else np.array([[0, 1]])
    return x, kw


def _plain_deffuant(*args, **kwargs) -> np.ndarray:
    """:func:`deffuant` with its encounters run by the numpy version."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deliberation_module, "_encounters", _plain_encounters)
        return deffuant(*args, **kwargs)


def _same_deffuant(x: np.ndarray, kw: dict, seed: int = 1) -> None:
    rng_fast, rng_plain = np.random.default_rng(seed), np.random.default_rng(seed)
    fast = deffuant(x, rng=rng_fast, **kw)
    plain = _plain_deffuant(x, rng=rng_plain, **kw)
    assert fast.dtype == plain.dtype == np.float64
    assert np.array_equal(fast, plain)
    assert rng_fast.bit_generator.state == rng_plain.bit_generator.state


@pytest.mark.parametrize("seed", range(120))
def test_deffuant_agrees_with_plain_on_random_inputs(seed: int) -> None:
    x, kw = _random_case(seed)
    _same_deffuant(x, kw, seed)


@pytest.mark.parametrize(
    ("opinions", "kw"),
    [
        ([], {"threshold": 0.3, "convergence": 0.3, "interactions": 0}),
        ([0.4], {"threshold": 0.3, "convergence": 0.3, "interactions": 0}),
        ([0.4], {"threshold": 0.3, "convergence": 0.3, "interactions": 0, "stubbornness": 0.5}),
        ([0.2, 0.6], {"threshold": 0.5, "convergence": 0.25, "interactions": 1}),
        ([0.0, 0.25], {"threshold": 0.25, "convergence": 0.5, "interactions": 10}),  # exactly d apart
        ([0.0, 1.0], {"threshold": 2.0, "convergence": 0.1, "interactions": 17, "weights": [0.0, 0.0]}),
        ([0.0, 1.0, 0.5], {"threshold": 2.0, "convergence": 0.5, "interactions": 9, "weights": [1, 0, 2]}),
        ([0.0, 1.0, 0.5], {"threshold": 2.0, "convergence": 0.3, "interactions": 7, "stubbornness": 1.0}),
        ([0.0, 1.0, 0.5, 0.2], {"threshold": 2.0, "convergence": 0.3, "interactions": 5, "edges": [[1, 2]]}),
        (
            [0.0, 1.0, 0.0, 1.0, 0.5],
            {"threshold": 2, "convergence": 0.1, "interactions": 5, "edges": [[0, 1], [2, 3]]},
        ),
    ],
)
def test_deffuant_agrees_with_plain_at_the_edges(opinions: list, kw: dict) -> None:
    _same_deffuant(np.asarray(opinions, dtype=np.float64), kw)


@pytest.mark.parametrize("n", [2, 3, 11])
def test_deffuant_agrees_with_plain_over_many_rounds(n: int) -> None:
    """Full rounds and a last round cut short, with stubbornness pulling back after each."""
    x = np.random.default_rng(4).uniform(size=n)
    for interactions in (1, n // 2, n // 2 + 1, 5 * n, 333):
        kw = {"threshold": 0.4, "convergence": 0.3, "interactions": interactions, "stubbornness": 0.1}
        _same_deffuant(x, kw)


def test_deffuant_edges_agree_with_plain_on_a_model_network() -> None:
    m = _model("participatory_budgeting", residents=500)
    dl = m.settings.deliberation
    x = m.people.view.copy()
    kw = {"threshold": dl.confidence, "convergence": dl.convergence, "edges": m.edges}
    for interactions in (1, 100, m.people.n // 4, 3 * m.people.n):
        _same_deffuant(x, {**kw, "interactions": interactions})


def test_deffuant_leaves_its_inputs_alone() -> None:
    x = np.linspace(0.0, 1.0, 9)
    anchors = x[::-1].copy()
    edges = np.array([[0, 1], [1, 2], [3, 4]])
    before = (x.copy(), anchors.copy(), edges.copy())
    deffuant(
        x,
        threshold=1.0,
        convergence=0.5,
        interactions=20,
        rng=np.random.default_rng(1),
        stubbornness=0.2,
        anchors=anchors,
    )
    deffuant(x, threshold=1.0, convergence=0.5, interactions=20, rng=np.random.default_rng(1), edges=edges)
    for a, b in zip(before, (x, anchors, edges), strict=True):
        assert np.array_equal(a, b)


# --------------------------------------------------------------------------------------------------------
# knowledge: speak, share_knowledge, publish
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_knowledge_agrees_with_plain_month_after_month(name: str) -> None:
    m = _model(name)
    for _ in range(8):
        m.step()
        idx = m.flows.meeting
        weights = voice_weights(m, idx)
        fast, plain = _both(m, speak, _plain_speak, idx, weights, m.rng)
        _assert_same_speech(fast, plain)
        fast, plain = _both(m, share_knowledge, _plain_share_knowledge, idx, weights)
        _assert_same_speech(fast, plain)
        _both(m, publish, _plain_publish, fast.believed)
        _both(m, publish, _plain_publish, np.ones_like(fast.believed))


@pytest.mark.parametrize("room", ["empty", "one", "silenced", "ignorant", "everyone"])
def test_knowledge_agrees_with_plain_in_odd_rooms(room: str) -> None:
    m = _model("participatory_budgeting", residents=200)
    m.step()
    idx = m.flows.meeting
    if room == "empty":
        idx = idx[:0]
    elif room == "one":
        idx = idx[:1]
    elif room == "everyone":
        idx = np.arange(m.people.n)
    weights = voice_weights(m, idx)
    if room == "silenced":
        weights = np.zeros_like(weights)
    if room == "ignorant":
        m.people.knows[idx] = False
    fast, plain = _both(m, speak, _plain_speak, idx, weights, m.rng)
    _assert_same_speech(fast, plain)
    fast, plain = _both(m, share_knowledge, _plain_share_knowledge, idx, weights)
    _assert_same_speech(fast, plain)
    _both(m, publish, _plain_publish, np.zeros_like(fast.believed))


# --------------------------------------------------------------------------------------------------------
# meeting: weigh_evidence, speak_for_members, and a whole meeting
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_meeting_steps_agree_with_plain(name: str) -> None:
    m = _model(name)
    for _ in range(6):
        m.step()
        idx = m.flows.meeting
        believed = m.people.in_evidence
        if len(idx) and believed.any():
            _both(m, weigh_evidence, _plain_weigh_evidence, idx, believed)
            _both(m, weigh_evidence, _plain_weigh_evidence, idx[:1], believed)
        _both(m, speak_for_members, _plain_speak_for_members)


def test_speak_for_members_without_members_changes_nothing() -> None:
    m = _model("participatory_budgeting", residents=200)
    m.people.group_of[:] = -1
    _both(m, speak_for_members, _plain_speak_for_members)


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_meeting_of_plain_versions_is_the_same_month_after_month(name: str, monkeypatch) -> None:
    """Two models from one seed, one with every plain version swapped into the meeting, stay identical."""
    fast, plain = _model(name), _model(name)
    plain_versions = {
        "share_knowledge": _plain_share_knowledge,
        "weigh_evidence": _plain_weigh_evidence,
        "speak_for_members": _plain_speak_for_members,
    }
    for _ in range(12):
        fast.step()
        with monkeypatch.context() as patch:
            for attr, fn in plain_versions.items():
                patch.setattr(meeting_module, attr, fn)
            patch.setattr(governance_module, "publish", _plain_publish)
            patch.setattr(deliberation_module, "_encounters", _plain_encounters)
            plain.step()
        _assert_same_state(_state(fast), _state(plain))
