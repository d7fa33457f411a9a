"""Known answers for the outputs measured from realised behaviour (ODD 7.9).

Each test builds a tiny world (``tiny`` from test_mechanisms), sets the state or the meeting's record by
hand and compares an output with a value worked out from its definition in :mod:`model.metrics`.
"""

from __future__ import annotations

import numpy as np
import pytest
from coprod.model import DESIGN_PRESETS, GovernanceModel, Scenario
from coprod.model.convening import voice_weights
from coprod.model.credibility import credibility
from coprod.model.decisions import Decision, decide
from coprod.model.initiatives import Outcome, deliver
from coprod.model.kinds import ACADEMIC, GROUP, N_THEORIES, OFFICIAL, RESIDENT
from coprod.model.knowledge import Speech, mention_probabilities, speak
from coprod.model.metrics import (
    believed_parity,
    cross_sector_linked,
    entropy,
    lock_in,
    uptake,
    voice_equality,
)
from coprod.model.network import adjacency, unique_edges

from tests.test_mechanisms import tiny


def _speech(held, said, believed_said=None, *, n_items=8, n_lay=4, lay_held=(), believed=()) -> Speech:
    """A meeting's record by hand: per participant, items held, said and believed; per item, which lay
    items someone present held and which items were believed."""
    said = np.asarray(said, dtype=np.int64)
    speech = Speech(
        held=np.asarray(held, dtype=np.int64),
        said=said,
        believed_said=said.copy() if believed_said is None else np.asarray(believed_said, dtype=np.int64),
        lay_held=np.zeros(n_lay, dtype=bool),
        believed=np.zeros(n_items, dtype=bool),
    )
    speech.lay_held[list(lay_held)] = True
    speech.believed[list(believed)] = True
    return speech


# -- structure: citizens' realised share of the say -------------------------------------------------------


def _structure_world(**overrides) -> GovernanceModel:
    # everyone able and willing to come, so every month's meeting has citizens; the theory does not move
    # the structure; officials' orientation does not drift
    return tiny(
        design__kind="citizens_assembly",
        behaviour__willingness_floor=1.0,
        behaviour__accountability_learning=0.0,
        theory__rate=0.0,
        run__smoothing=0.5,
        **overrides,
    )


def test_when_every_official_defers_citizens_hold_the_whole_say_and_structure_rises_towards_one():
    # every official defers (accountability x trust in residents = 1): the citizen side holds the whole say
    # each month, so the smoothed power p_k = 1 - (1 - p_0) (1 - w)^k with w = run.smoothing 0.5, and
    # structure = (1 + 7 p_k) / 8 rises towards 1 (Arnstein's top rung)
    m = _structure_world()
    p = m.people
    officials = p.kind == OFFICIAL
    p.accountability[officials] = 1.0
    p.trust[officials, RESIDENT] = 1.0
    power0 = m.memory.power
    assert m.outputs["structure"] == pytest.approx((1 + 7 * power0) / 8)
    assert power0 < 0.9
    for k in range(1, 9):
        m.step()
        decision = m.flows.decision
        assert decision.deferring.all() and decision.deferred == pytest.approx(1.0)
        assert decision.power[p.kind[decision.power_idx] != OFFICIAL].sum() == pytest.approx(1.0)
        power = 1 - (1 - power0) * 0.5**k
        assert m.outputs["structure"] == pytest.approx((1 + 7 * power) / 8, abs=1e-12)
    assert m.outputs["structure"] > 0.99


def test_when_no_official_defers_and_citizens_have_no_weight_structure_is_the_bottom_rung():
    # citizen_weight 0 and no official answering downward (accountability 0): citizens hold none of the
    # say, at month 0's pilot meeting and every month after: structure = (1 + 7 x 0) / 8 = 1 / 8
    m = _structure_world(structure__citizen_weight=0.0, structure__downward_accountability=0.0)
    p = m.people
    assert (p.accountability[p.kind == OFFICIAL] == 0).all()
    assert m.outputs["structure"] == pytest.approx(1 / 8, abs=1e-12)
    for _ in range(4):
        m.step()
        assert not m.flows.decision.deferring.any()
        assert m.outputs["structure"] == pytest.approx(1 / 8, abs=1e-12)


def test_month_zero_structure_is_the_expected_say_at_the_pilot_meeting():
    # month 0: say = citizen_weight + (1 - citizen_weight) x mean over officials of accountability x trust
    # in residents (the chance each defers); structure = (1 + 7 say) / 8
    m = tiny(design__kind="citizens_assembly", structure__citizen_weight=0.3)
    p = m.people
    officials = p.kind == OFFICIAL
    say = 0.3 + 0.7 * float(np.mean(p.accountability[officials] * p.trust[officials, RESIDENT]))
    assert 0.3 < say < 1
    assert m.outputs["structure"] == pytest.approx((1 + 7 * say) / 8)


# -- lock_in: the delivery pipeline ----------------------------------------------------------------------


def _pipeline(state_capacity: float, *, support: float = 1.0, cf: float = 0.0, months: int = 24):
    """Commit 1000 GBP a month for ``months`` months through :func:`deliver`; returns lock_in by month."""
    m = tiny(context__state_capacity=state_capacity, resources__commitment_months=months)
    p = m.people
    officials = p.kind == OFFICIAL
    p.view[officials] = 0.2
    position = 0.2 + (1 - support)  # support = 1 - |officials' mean view - position|
    decision = Decision(position, np.flatnonzero(officials), np.full(2, 0.5), np.array([0.25, 0.75]))
    m.flows.pipeline[:] = 0.0
    m.flows.partner_pipeline[:] = 0.0
    series = []
    for _ in range(300):
        m.flows.outcome = Outcome()
        deliver(m, decision, 1000.0, cf, m.flows.outcome)
        series.append(lock_in(m))
    return m, series


@pytest.mark.parametrize("s", [0.2, 0.6, 1.0])
def test_lock_in_is_the_share_of_money_in_play_bound_by_earlier_commitments(s):
    # month k commits A; the pipeline P holds what earlier months committed and delivery took s of:
    # lock_in_k = P / (P + A), P_k = (1 - s) (P_{k-1} + A): 0 in the first month, (1 - s) / (2 - s) in the
    # second, and the steady state P = A (1 - s) / s gives lock_in = 1 - s
    _, series = _pipeline(s)
    assert series[0] == 0.0
    assert series[1] == pytest.approx((1 - s) / (2 - s))
    assert series[-1] == pytest.approx(1 - s, abs=1e-9)


def test_officials_who_disagree_deliver_less_and_lock_in_more():
    # support 0.5 halves the delivery rate: the steady state is 1 - s x support = 1 - 0.6 x 0.5
    m, series = _pipeline(0.6, support=0.5)
    assert series[-1] == pytest.approx(0.7, abs=1e-9)
    # the pipeline is split as the decision allocates
    assert m.flows.pipeline / m.flows.pipeline.sum() == pytest.approx([0.25, 0.75])


def test_co_financed_commitments_are_released_over_their_term():
    # co-financing 0.5: a third of the money committed is partners', released at 1 / commitment_months;
    # with state capacity 1 / 4 and a term of 4 months both pipelines settle at lock_in 1 - 1 / 4
    m, series = _pipeline(0.25, cf=0.5, months=4)
    assert series[-1] == pytest.approx(0.75, abs=1e-9)
    total = m.flows.pipeline.sum() + m.flows.partner_pipeline.sum()
    assert m.flows.partner_pipeline.sum() / total == pytest.approx(1 / 3)


@pytest.mark.parametrize("s", [0.3, 0.6, 1.0])
def test_month_zero_lock_in_is_the_status_quo_pipeline_steady_state(s):
    # the model starts with the status quo's pipeline in its steady state: lock_in = 1 - state_capacity
    m = tiny(context__state_capacity=s)
    assert m.outputs["lock_in"] == pytest.approx(1 - s, abs=1e-12)


# -- coordination: cross-sector links of the governance network -----------------------------------------


def _network(m, edges, took_part, *, month: int = 20) -> None:
    """Hand-built ties, and the month each resident in ``took_part`` last took part (others never did)."""
    p = m.people
    m.steps = month
    m.edges = unique_edges(np.array(edges))
    m.adjacency = adjacency(m.edges, p.n)
    p.last_turn[:] = -1
    for i, when in took_part.items():
        p.last_turn[i] = when


def test_coordination_counts_active_actors_tied_to_an_active_actor_of_another_kind():
    # tiny: residents 0-19, officials 20-21, academic 22, groups 23-24. Active: every non-resident, and
    # residents 0-2 who took part this month (month 20). Ties: 0-20 (resident-official), 1-5 (to an inactive
    # resident), 2-1 (resident-resident), 20-21 (official-official), 22-23 (academic-group), 24-10 (group
    # to an inactive resident), 21-5. Linked across kinds: 0, 20, 22, 23: 4 of the 8 active
    m = tiny(run__active_months=12)
    p = m.people
    assert [int(k) for k in p.kind[19:25]] == [RESIDENT, OFFICIAL, OFFICIAL, ACADEMIC, GROUP, GROUP]
    edges = [[0, 20], [1, 5], [2, 1], [20, 21], [22, 23], [24, 10], [21, 5]]
    _network(m, edges, {0: 20, 1: 20, 2: 20})
    assert cross_sector_linked(m) == pytest.approx(4 / 8)
    # resident 5 took part 12 months ago: out of the network (active_months 12); 11 months ago: in, and
    # both it and official 21 are now linked across kinds: 6 of 9
    p.last_turn[5] = m.steps - 12
    assert cross_sector_linked(m) == pytest.approx(4 / 8)
    p.last_turn[5] = m.steps - 11
    assert cross_sector_linked(m) == pytest.approx(6 / 9)
    m._collect()
    assert m.outputs["coordination"] == pytest.approx(6 / 9)


def test_a_network_with_no_tie_across_kinds_has_no_coordination():
    m = tiny()
    _network(m, [[0, 1], [20, 21], [23, 24]], {0: 20, 1: 20})
    assert cross_sector_linked(m) == 0.0
    _network(m, [[0, 20], [1, 21], [22, 23], [24, 0]], {0: 20, 1: 20})
    assert cross_sector_linked(m) == 1.0  # all seven active actors linked across kinds


def test_month_zero_coordination_counts_the_pilot_meetings_residents_as_active():
    # at month 0 nobody has taken part yet; the governance network is the non-residents and the residents
    # of the pilot meeting. Pilot residents 0 and 1: 0-20 links both; 1 has only a resident tie (1-2); the
    # tie 3-21 does not count (3 was not in the pilot room), so 21 is linked only through 0-21:
    # linked 0, 20, 21, 22 (22-23), 23 of the 7 active
    m = tiny()
    edges = [[0, 20], [0, 21], [1, 2], [3, 21], [22, 23]]
    _network(m, edges, {}, month=0)
    m.memory.pilot = np.array([0, 1, 20, 22])
    assert cross_sector_linked(m) == pytest.approx(5 / 7)
    m.memory.pilot = np.array([0, 1, 3, 20, 22])  # with resident 3 in the room too: 6 of 8
    assert cross_sector_linked(m) == pytest.approx(6 / 8)


# -- procedural and epistemic justice from the meeting's record -----------------------------------------


def test_voice_equality_is_one_minus_the_gini_of_speaking_rates():
    # rates said / held over those who held anything: [2/4, 1/2, 0/5] = [0.5, 0.5, 0]; Gini of that:
    # sum |x_i - x_j| / (2 n^2 mean) = 2 / (2 x 9 x 1/3) = 1/3; the participant who held nothing is left out
    assert voice_equality(_speech([4, 2, 0, 5], [2, 1, 0, 0])) == pytest.approx(2 / 3)
    assert voice_equality(_speech([4, 2, 6], [2, 1, 3])) == pytest.approx(1.0)  # equal rates
    assert voice_equality(_speech([0, 0], [0, 0])) == 1.0  # nobody held anything: nobody was unheard
    assert voice_equality(_speech([3, 3, 3, 3], [0, 0, 0, 3])) == pytest.approx(1 - 0.75)  # one spoke


def test_believed_parity_compares_how_often_marginalised_and_other_speakers_were_believed():
    m = tiny()
    p = m.people
    idx = np.array([0, 1, 2, 3])
    p.marginalised[idx] = [True, True, False, False]
    # marginalised said 3 + 1, believed 1 + 1 (rate 0.5); others said 2 + 4, all believed (rate 1)
    record = _speech([5, 5, 5, 5], [3, 1, 2, 4], [1, 1, 2, 4])
    assert believed_parity(m, idx, record) == pytest.approx(0.5)
    # others believed in half (3 of 6): parity 0.5 / 0.5 = 1; more than 1 is capped at 1
    assert believed_parity(m, idx, _speech([5] * 4, [3, 1, 2, 4], [1, 1, 1, 2])) == pytest.approx(1.0)
    assert believed_parity(m, idx, _speech([5] * 4, [3, 1, 2, 4], [3, 1, 1, 2])) == 1.0
    # either side silent: no comparison
    assert believed_parity(m, idx, _speech([5] * 4, [0, 0, 2, 4])) is None
    assert believed_parity(m, idx, _speech([5] * 4, [3, 1, 0, 0])) is None


def test_uptake_is_the_share_of_lay_items_present_that_were_believed():
    m = tiny(deliberation__knowledge_items=8)
    p = m.people
    p.item_lay[:] = np.arange(8) < 4
    # lay items 0, 1, 2 held by someone present; 0 believed (and expert item 6, which does not count)
    assert uptake(m, _speech([1], [1], lay_held=[0, 1, 2], believed=[0, 6])) == pytest.approx(1 / 3)
    assert uptake(m, _speech([1], [1], lay_held=[0, 1], believed=[0, 1, 3])) == 1.0
    assert uptake(m, _speech([1], [1], lay_held=[], believed=[6])) == 0.0


# -- toc_attrition: entropy of the theories held by recent participants ---------------------------------


def test_entropy_of_theories_is_log_four_when_equal_and_zero_when_one():
    assert N_THEORIES == 4
    assert entropy(np.arange(40) % 4) == pytest.approx(np.log(4))
    assert entropy(np.zeros(40, dtype=np.int8)) == 0.0
    assert entropy(np.arange(40) % 2) == pytest.approx(np.log(2))
    assert entropy(np.zeros(0, dtype=np.int8)) == 0.0


@pytest.mark.parametrize(
    ("held", "attrition"),
    [([0, 1, 2, 3] * 2, 0.0), ([1] * 8, 1.0), ([0, 1] * 4, 0.5), (None, 0.0)],
)
def test_toc_attrition_is_the_share_of_the_starting_entropy_lost_among_recent_participants(held, attrition):
    # toc_attrition = clip((H0 - H(recent participants)) / H0); H0 = ln 4 (four theories equally held at
    # the start). Eight residents took part this month holding `held`: four equal -> 0, one theory -> 1,
    # two equal -> 1 - ln 2 / ln 4 = 0.5; nobody took part -> nothing lost
    m = tiny()
    p = m.people
    m.memory.entropy0 = np.log(4)
    p.last_turn[:] = -1
    if held is not None:
        p.toc[:8] = held
        p.last_turn[:8] = m.steps
    m._collect()
    assert m.outputs["toc_attrition"] == pytest.approx(attrition, abs=1e-12)


# -- month 0: a pilot meeting -----------------------------------------------------------------------------


@pytest.mark.parametrize("design", sorted(DESIGN_PRESETS))
def test_month_zero_is_measured_on_a_pilot_meeting_not_on_nothing(design):
    # before anything happened the consensus outputs are those of a pilot meeting of the design's seats:
    # the decision does not sit on officials' starting view (displacement below 1) and marginalised
    # residents hold some say (influence above 0)
    for seed in range(3):
        m = GovernanceModel(
            Scenario.build({"design": {"kind": design}, "population": {"residents": 300}}), rng=seed
        )
        assert m.steps == 0
        out = m.outputs
        assert 0.0 < out["consensus_displacement"] < 1.0, (design, seed)
        assert out["marginalised_influence"] > 0.0, (design, seed)
        assert 0.0 < out["structure"] < 1.0


# -- speak: per-holder draws against the closed form -------------------------------------------------------


HOLDERS = [  # holders among the six present (0 and 1 marginalised) of each of ten items
    [],
    [0],
    [2],
    [0, 1],
    [2, 3],
    [0, 2, 4],
    [0, 1, 2, 3, 4, 5],
    [1, 3, 5],
    [0, 1, 2, 3, 4],
    [5],
]


def test_per_holder_draws_reproduce_the_closed_form_when_voices_are_equal():
    # with equal weights every holder has full airtime, so the chance an item is brought up and believed is
    # 1 - (1 - q c)^h_m (1 - q)^h_o (mention_probabilities). 20 000 meetings drawn with speak: each item's
    # believed frequency must lie within 5 binomial standard errors (at most 5 x 0.0035 = 0.018) of it
    m = tiny(
        deliberation__knowledge_items=10,
        deliberation__mention_probability=0.4,
        deliberation__hidden_profile_bias=0.6,
        deliberation__credibility_deficit=0.5,
        design__facilitation=0.3,
        context__inequality=0.8,
    )
    p = m.people
    idx = np.arange(6)
    p.marginalised[:] = False
    p.marginalised[[0, 1]] = True
    p.knows[:] = False
    for item, holders in enumerate(HOLDERS):
        p.knows[holders, item] = True
    c = credibility(m.settings)
    assert 0.6 < c < 0.8
    marg = p.marginalised[idx]
    expected = mention_probabilities(
        p.knows[idx][marg].sum(axis=0),
        p.knows[idx][~marg].sum(axis=0),
        len(idx),
        mention=0.4,
        bias=0.6 * (1 - 0.3),
        credibility=c,
    )
    rng = np.random.default_rng(2024)
    n = 20_000
    weights = np.ones(len(idx))
    counts = np.zeros(10)
    for _ in range(n):
        counts += speak(m, idx, weights, rng).believed
    freq = counts / n
    tolerance = 5 * np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(freq - expected) <= tolerance), (freq, expected)
    assert expected[0] == freq[0] == 0.0
    assert expected.max() > 0.8 and 0.05 < expected[1] < 0.2  # the cases are not trivial


# -- edge cases that once broke a step ------------------------------------------------------------------


def test_a_meeting_of_one_official_is_measured_like_any_other_month():
    # residents all decline (no trust in officials, willingness floor 0) and the design seats one official
    # and no academic (no design or analysis stage): the room is that official alone
    m = tiny(
        design__kind="top_down_consultation",
        design__participants=1,
        design__stages=["agenda"],
        behaviour__willingness_floor=0.0,
        context__baseline_trust=0.0,
        context__trust_spread=0.0,
    )
    m.step()
    assert len(m.flows.meeting) == 1 and m.people.kind[m.flows.meeting[0]] == OFFICIAL
    assert all(np.isfinite(v) for v in m.outputs.values())


def test_a_room_of_silenced_citizens_still_reaches_a_decision():
    m = tiny(
        design__kind="citizens_assembly",
        design__facilitation=0.0,
        deliberation__credibility_deficit=1.0,
        context__inequality=1.0,
    )
    p = m.people
    assert credibility(m.settings) == 0.0
    marginalised = np.flatnonzero(p.marginalised[: m.n_residents])[:2]
    idx = np.r_[marginalised, np.flatnonzero(p.kind == OFFICIAL)]
    d = decide(m, idx, voice_weights(m, idx))
    assert np.isfinite(d.position) and np.isfinite(d.power).all()
