"""Known-answer tests for the deliberation sub-steps, knowledge, trust and accountability mechanisms.

Each test builds a tiny world (``tiny`` from test_mechanisms), sets the state it needs by hand and compares
with a value worked out from the formula in docs/ODD.md section 7. Where a mechanism draws random numbers,
the test replays the model's generator (a deep copy taken just before the call) to know every draw.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from coprod.model.convening import voice_weights
from coprod.model.decisions import Decision
from coprod.model.kinds import ACADEMIC, GROUP, OFFICIAL, RESIDENT
from coprod.model.knowledge import Speech, publish, renew_knowledge, share_knowledge
from coprod.model.learning import respond, update_trust
from coprod.model.meeting import frame, speak_for_members, weigh_evidence

from tests.test_mechanisms import tiny

# -- deliberate (d): the pull of evidence --------------------------------------------------------------


@pytest.mark.parametrize(
    ("attraction", "stages", "pull"),
    [(0.3, ("design",), 0.3), (0.3, ("design", "analysis"), 0.6), (0.8, ("analysis",), 1.0)],
)
@pytest.mark.parametrize(
    ("evidence_trust", "trust", "belief"), [(1.0, 1.0, 1.0), (1.0, 0.5, 0.5), (0.0, 0.5, 1.0)]
)
def test_evidence_pulls_participants_by_attraction_resisted_by_stubbornness(
    attraction, stages, pull, evidence_trust, trust, belief
):
    # ODD 7.2 (d): x <- x + min(1, evidence_attraction (1 + [analysis])) b (1 - s_i) (e - x), e the mean
    # value of the items believed, b = clip(1 - evidence_trust (1 - trust in academics), 0, 1)
    m = tiny(
        theory__evidence_attraction=attraction,
        deliberation__stubbornness=0.2,
        design__official_stubbornness=0.5,
        design__stages=stages,
        behaviour__evidence_trust=evidence_trust,
    )
    p = m.people
    official = np.flatnonzero(p.kind == OFFICIAL)[0]
    idx = np.array([0, 1, official])
    p.view[:] = 0.9
    p.trust[:, ACADEMIC] = trust
    p.trust[official, RESIDENT] = 0.0  # official's s = 0.5 + (1 - 0.5) 0.5 (1 - 0) = 0.75
    p.item_value[:] = 0.0
    believed = np.zeros(len(p.item_value), dtype=bool)
    believed[[2, 5]] = True
    p.item_value[[2, 5]] = [0.2, 0.6]  # e = 0.4
    weigh_evidence(m, idx, believed)
    assert p.view[[0, 1]] == pytest.approx(0.9 + pull * belief * (1 - 0.2) * (0.4 - 0.9))
    assert p.view[official] == pytest.approx(0.9 + pull * belief * (1 - 0.75) * (0.4 - 0.9))
    others = np.setdiff1d(np.arange(p.n), idx)
    assert (p.view[others] == 0.9).all()


# -- deliberate (e): framing ----------------------------------------------------------------------------


def _speech(n_items: int, n_lay: int, *, lay_held=(), believed=()) -> Speech:
    """A meeting's record set by hand: the lay items (of ``n_lay``) someone present held, and the items
    believed; nobody's speaking counts (not read by framing or publication)."""
    nobody = np.zeros(0, dtype=np.int64)
    speech = Speech(nobody, nobody, nobody, np.zeros(n_lay, dtype=bool), np.zeros(n_items, dtype=bool))
    speech.lay_held[list(lay_held)] = True
    speech.believed[list(believed)] = True
    return speech


@pytest.mark.parametrize(
    ("lay_held", "lay_believed", "goal"),
    [([0, 1, 2, 3], [0, 1], 0.8), ([0, 1, 2, 3], [0, 1, 2, 3], 1.0), ([0, 1], [0, 1], 1.0), ([], [], 0.55)],
)
def test_framing_moves_salience_towards_the_weighted_mean_raised_by_lay_knowledge_heard(
    lay_held, lay_believed, goal
):
    # ODD 7.2 (e): σ <- σ + μ (clip(Σ w σ / Σ w + lay_framing L, 0, 1) - σ); weights [1, 1, 2] on
    # [0.2, 0.4, 0.8] give a weighted mean 0.55; L is the share of the lay items someone present held that
    # were believed (2 of 4 -> 0.8; 4 of 4 -> 1.05 clipped to 1; 2 of 2 -> 1; none held -> L = 0)
    m = tiny(deliberation__convergence=0.5, deliberation__knowledge_items=8, behaviour__lay_framing=0.5)
    p = m.people
    p.item_lay[:] = np.arange(8) < 4
    p.salience[:] = 0.3
    idx = np.array([0, 1, 2])
    p.salience[idx] = [0.2, 0.4, 0.8]
    views = p.view.copy()
    # an expert item believed (6) does not count towards L
    speech = _speech(8, 4, lay_held=lay_held, believed=[*lay_believed, 6])
    frame(m, idx, np.array([1.0, 1.0, 2.0]), speech)
    assert p.salience[idx] == pytest.approx(
        np.array([0.2, 0.4, 0.8]) + 0.5 * (goal - np.array([0.2, 0.4, 0.8]))
    )
    assert (p.salience[3:] == 0.3).all() and np.array_equal(p.view, views)


# -- deliberate (g, h): everyday talk along ties and monthly anchoring ---------------------------------


@pytest.mark.parametrize("hold", [0.0, 0.5])
def test_everyday_talk_moves_only_tied_pairs_within_confidence_then_everyone_is_anchored(hold):
    # ODD 7.2 (g): classic Deffuant along ties with d = confidence (no facilitation), μ = 0.5: a tied pair
    # closer than 0.25 meets at its midpoint; a tied pair 0.3 apart does not move (facilitation 1 would
    # widen a *meeting's* bound to 0.5, not everyday talk's); untied actors do not move.
    # (h): then x <- x + s (x0 - x) and σ <- σ + s (σ0 - σ) for everyone, s = deliberation.stubbornness.
    m = tiny(
        network__talk_rate=0.5,  # floor(0.5 * 25 / 2) = 6 encounters: both ties meet in the first round
        deliberation__confidence=0.25,
        deliberation__convergence=0.5,
        deliberation__stubbornness=hold,
        deliberation__knowledge_turnover=0.0,
        design__facilitation=1.0,
    )
    p = m.people
    p.taking_part[:] = False
    m.flows.meeting = np.zeros(0, dtype=np.int64)  # no meeting: only everyday talk
    p.group_of[:] = -1  # no group speaks for members (7.2 j)
    p.view[:] = 0.5
    p.view[[0, 1, 2, 3, 4, 5]] = [0.2, 0.4, 0.6, 0.9, 0.45, 0.55]  # 4 and 5 are close but not tied
    p.view0[:] = 0.0
    p.salience[:] = 0.6
    p.salience0[:] = 0.2
    m.edges = np.array([[0, 1], [2, 3]])
    m.deliberate()
    talked = np.full(p.n, 0.5)
    talked[[0, 1, 2, 3, 4, 5]] = [0.3, 0.3, 0.6, 0.9, 0.45, 0.55]
    assert p.view == pytest.approx((1 - hold) * talked + hold * 0.0)
    assert p.salience == pytest.approx(np.full(p.n, 0.6 + hold * (0.2 - 0.6)))


# -- deliberate (j): groups speak for their members -----------------------------------------------------


def test_a_group_takes_the_mean_view_and_salience_of_its_members():
    # ODD 7.2 (j): each group's view and salience become the means over all its members
    m = tiny(population__civil_society_groups=3)
    p = m.people
    groups = p.first_group + np.arange(3)
    p.group_of[:] = -1
    p.group_of[[0, 1, 2]] = 0
    p.group_of[5] = 2  # group 1 has no member
    p.view[:] = 0.5
    p.salience[:] = 0.5
    p.view[[0, 1, 2, 5]] = [0.1, 0.2, 0.6, 0.7]
    p.salience[[0, 1, 2, 5]] = [0.3, 0.6, 0.9, 0.2]
    residents = p.view[: m.n_residents].copy()
    speak_for_members(m)
    assert p.view[groups] == pytest.approx([0.3, 0.5, 0.7])
    assert p.salience[groups] == pytest.approx([0.6, 0.5, 0.2])
    assert np.array_equal(p.view[: m.n_residents], residents)  # members are not moved


# -- knowledge: sharing, publication, renewal -----------------------------------------------------------


def _holdings(m, idx):
    """Six kinds of item, fifty copies each, held by hand among four present (idx[1] marginalised)."""
    p = m.people
    p.marginalised[:] = False
    p.marginalised[idx[1]] = True
    p.knows[:] = False
    kinds = np.arange(300) % 6
    p.knows[idx[0], kinds == 0] = True  # one other holder of four
    p.knows[np.ix_(idx, np.flatnonzero(kinds == 1))] = True  # all four hold it
    p.knows[10, kinds == 2] = True  # held only by someone absent
    p.knows[idx[1], kinds == 3] = True  # one marginalised holder
    p.knows[np.ix_(idx[[2, 3]], np.flatnonzero(kinds == 4))] = True  # two other holders
    return kinds  # kind 5: nobody holds it


def test_full_facilitation_brings_up_every_item_anyone_present_holds():
    # facilitation 1: β = bias (1 - 1) = 0, c = (1 - 0.5 inequality)^0 = 1 and every voice weight 1 (full
    # airtime), so with mention probability 1 every holder present says every item they hold and is
    # believed: exactly the items held by someone present are believed, and they join the evidence base
    m = tiny(
        design__facilitation=1.0,
        deliberation__mention_probability=1.0,
        deliberation__hidden_profile_bias=1.0,
        deliberation__knowledge_items=300,
        context__inequality=1.0,
    )
    p = m.people
    idx = np.array([0, 1, 2, 3])
    kinds = _holdings(m, idx)
    evidence = p.in_evidence.copy()
    weights = voice_weights(m, idx)
    assert weights == pytest.approx(1.0)
    speech = share_knowledge(m, idx, weights)
    assert np.array_equal(speech.believed, np.isin(kinds, [0, 1, 3, 4]))
    # each of the four holds two kinds of fifty items, says all of them and is believed in all
    assert speech.held.tolist() == speech.said.tolist() == speech.believed_said.tolist() == [100] * 4
    assert np.array_equal(speech.lay_held, np.isin(kinds, [0, 1, 3, 4])[p.item_lay])
    assert p.knows[np.ix_(idx, np.flatnonzero(speech.believed))].all()  # everyone present learns them
    assert not p.knows[idx][:, ~speech.believed].any()
    outside = np.setdiff1d(np.arange(p.n), np.r_[idx, 10])
    assert not p.knows[outside].any() and np.array_equal(p.knows[10], kinds == 2)
    assert np.array_equal(p.in_evidence, evidence | speech.believed)


def test_unfacilitated_meeting_hides_the_unshared_and_discounts_the_marginalised():
    # facilitation 0, hidden_profile_bias 1, inequality 1, mention 1, four present (ODD 7.2 c): each holder
    # says an item with q = discount x airtime, discount = 1 - (1 - h / 4) (one holder 0.25, two 0.5, all
    # four 1); airtime = weight / loudest: the marginalised idx[1] has weight c = 1 - 0.5 = 0.5, others 1.
    # What the marginalised holder says is believed with chance c = 0.5, what others say always.
    m = tiny(
        design__facilitation=0.0,
        deliberation__mention_probability=1.0,
        deliberation__hidden_profile_bias=1.0,
        deliberation__knowledge_items=300,
        deliberation__credibility_deficit=0.5,
        context__inequality=1.0,
    )
    p = m.people
    idx = np.array([0, 1, 2, 3])
    kinds = _holdings(m, idx)
    weights = voice_weights(m, idx)
    assert weights == pytest.approx([1.0, 0.5, 1.0, 1.0])
    discount = np.array([0.25, 1.0, 0.0, 0.25, 0.5, 0.0])  # by item kind
    airtime = np.array([1.0, 0.5, 1.0, 1.0])
    believe = np.array([1.0, 0.5, 1.0, 1.0])
    rows, items = np.nonzero(p.knows[idx])  # holder-item pairs, in the order speak draws them
    rng = copy.deepcopy(m.rng)
    said = rng.random(len(rows)) < discount[kinds[items]] * airtime[rows]
    believed = said & (rng.random(len(rows)) < believe[rows])
    speech = share_knowledge(m, idx, weights)
    assert speech.said.tolist() == np.bincount(rows, weights=said, minlength=4).astype(int).tolist()
    assert (
        speech.believed_said.tolist() == np.bincount(rows, weights=believed, minlength=4).astype(int).tolist()
    )
    assert np.array_equal(speech.believed, np.isin(np.arange(300), items[believed]))
    # the replay is not trivially all or nothing for the pairs left to chance
    for row, kind in ((0, 0), (1, 1), (1, 3), (2, 4)):
        pair = (rows == row) & (kinds[items] == kind)
        assert 0 < said[pair].sum() < pair.sum()
    assert said[(rows != 1) & (kinds[items] == 1)].all()  # shared by all: said by every full-airtime holder
    assert not speech.believed[np.isin(kinds, [2, 5])].any()  # nobody present holds them
    assert p.knows[np.ix_(idx, np.flatnonzero(speech.believed))].all()


@pytest.mark.parametrize(("stages", "chance"), [(("design",), 0.02), (("design", "sharing"), 0.1)])
def test_a_published_decision_teaches_residents_the_evidence_believed(stages, chance):
    # ODD 7.3 Publication: each resident learns each believed item with probability publish_reach 0.02, or
    # sharing_boost 5 times that with `sharing`; other items, and everyone who is not a resident, are
    # untouched; nothing is forgotten
    m = tiny(
        deliberation__knowledge_items=50,
        design__stages=stages,
        behaviour__publish_reach=0.02,
        behaviour__sharing_boost=5.0,
    )
    p, r = m.people, m.n_residents
    before = p.knows.copy()
    believed = np.arange(50) < 25
    u = copy.deepcopy(m.rng).random((r, 25))
    publish(m, believed)
    expected = before.copy()
    expected[:r, :25] |= u < chance
    assert np.array_equal(p.knows, expected)
    assert (p.knows & ~before).sum() > 0


@pytest.mark.parametrize("transparency", [0.0, 1.0])
def test_decide_publishes_the_evidence_exactly_when_the_decision_is_published(transparency, monkeypatch):
    # ODD 7.3: published with probability `transparency`; a published decision calls publish(believed)
    calls = []
    monkeypatch.setattr("coprod.model.governance.publish", lambda m, believed: calls.append(believed))
    m = tiny()
    p = m.people
    p.taking_part[:] = False
    p.taking_part[:6] = True
    p.taking_part[p.kind == OFFICIAL] = True
    m.flows.meeting = np.flatnonzero(p.taking_part)
    m.flows.weights = voice_weights(m, m.flows.meeting)
    m.structure["transparency"] = transparency
    n_items = len(p.item_lay)
    m.flows.speech = _speech(
        n_items, int(p.item_lay.sum()), believed=np.flatnonzero(np.arange(n_items) % 3 == 0)
    )
    m.decide()
    assert m.flows.decision.published is bool(transparency)
    assert len(calls) == int(transparency) and all(c is m.flows.speech.believed for c in calls)


@pytest.mark.parametrize("turnover", [0.0, 0.5, 1.0])
def test_renewal_redraws_holders_and_values_of_the_renewed_items_only(turnover):
    # ODD 7.2 (i) with 5 (Initialization): each item renewed with probability turnover; its holders
    # redrawn with the initial probabilities and its value clip(needed_change - bias + noise N(0, 1), 0, 1),
    # bias 0 and noise 0.2 for lay items, bias 0.15 and noise 0.5 x 0.2 = 0.1 for expert items; a renewed
    # item leaves the evidence base until it is believed in a meeting
    m = tiny(
        deliberation__knowledge_turnover=turnover,
        deliberation__knowledge_items=40,
        deliberation__evidence_noise=0.2,
        deliberation__expert_bias=0.15,
        deliberation__expert_precision=0.5,
        context__needed_change=0.8,
    )
    p = m.people
    p.knows[:] = True
    p.in_evidence[:] = True
    p.item_value[:] = 0.5
    lay = p.item_lay.copy()
    rng = copy.deepcopy(m.rng)
    renew = np.flatnonzero(rng.random(40) < turnover)
    res = p.kind == RESIDENT
    lay_chance = np.where(res & p.marginalised, 0.08, np.where(res, 0.03, 0.01))
    expert_chance = np.where(np.isin(p.kind, [OFFICIAL, ACADEMIC]), 0.6, 0.02)
    chance = np.where(lay[renew][None, :], lay_chance[:, None], expert_chance[:, None])
    held = rng.random((p.n, len(renew))) < chance
    z = rng.standard_normal(len(renew))
    value = np.clip(0.8 - np.where(lay[renew], 0.0, 0.15) + np.where(lay[renew], 0.2, 0.1) * z, 0, 1)
    renew_knowledge(m)
    kept = np.setdiff1d(np.arange(40), renew)
    assert np.array_equal(p.knows[:, renew], held) and p.knows[:, kept].all()
    assert p.item_value[renew] == pytest.approx(value) and (p.item_value[kept] == 0.5).all()
    assert not p.in_evidence[renew].any() and p.in_evidence[kept].all()
    assert len(renew) == {0.0: 0, 0.5: len(renew), 1.0: 40}[turnover] and (
        turnover != 0.5 or 0 < len(renew) < 40
    )
    if turnover == 1.0:  # the redraw follows the kinds: officials hold expert items far more than lay ones
        officials = p.kind == OFFICIAL
        assert p.knows[np.ix_(officials, ~lay)].mean() > p.knows[np.ix_(officials, lay)].mean()


# -- learn: trust and downward accountability -----------------------------------------------------------


@pytest.mark.parametrize("dropped", [(), (1, 4)])
@pytest.mark.parametrize("feedback", [0.0, 1.0])
def test_trust_follows_feedback_on_the_decision_and_whether_spending_met_need(feedback, dropped):
    # ODD 7.5 Trust: a participant a forced consensus dropped first loses dropped_trust_loss 0.1 of trust_off
    # (0.5 -> 0.45); a participant told the outcome (probability feedback) moves trust_off by
    # trust_learning 0.2 (1 - |position - x| - trust_off); then every resident by trust_drift 0.02
    # (clip(met, 0, 2) / 2 - trust_off), met = this month's benefits / the district's fair share per head
    m = tiny(
        design__feedback=feedback,
        behaviour__trust_learning=0.2,
        behaviour__trust_drift=0.02,
        behaviour__dropped_trust_loss=0.1,
    )
    p, r = m.people, m.n_residents
    p.trust[:] = 0.5
    p.view[:r] = 0.4
    p.taking_part[:] = False
    p.taking_part[:6] = True
    p.taking_part[p.kind == OFFICIAL] = True
    # this month's benefits against the district's fair share per head: met 0 and 4 (clipped to 2)
    p.benefits[:r] = (np.array([0.0, 4.0]) * m.fair_per_head)[p.district[:r]]
    officials = np.flatnonzero(p.kind == OFFICIAL)
    decision = Decision(
        0.6, officials, np.full(2, 0.5), np.full(2, 0.5), dropped=np.array(dropped, dtype=np.int64)
    )
    update_trust(m, decision)
    start = np.where(np.isin(np.arange(r), dropped), 0.5 * (1 - 0.1), 0.5)
    heard = (np.arange(r) < 6) & (feedback == 1.0)
    after_feedback = np.where(heard, start + 0.2 * (1 - 0.2 - start), start)  # 0.56 / 0.52 when heard
    goal = np.where(p.district[:r] == 0, 0.0, 1.0)
    assert p.trust[:r, OFFICIAL] == pytest.approx(after_feedback + 0.02 * (goal - after_feedback))
    assert (p.trust[:, [RESIDENT, ACADEMIC, GROUP]] == 0.5).all() and (p.trust[r:] == 0.5).all()
    assert set(p.district[:6].tolist()) == {0, 1}  # both districts among participants: every case is hit


@pytest.mark.parametrize("lever", [0.0, 0.5, 1.0])
def test_officials_who_deferred_move_towards_the_recommendation_and_orientation_follows_the_rules(lever):
    # ODD 7.5: an official who deferred this month moves x_o <- x_o + convergence (r - x_o); the others keep
    # their view; every official's accountability a <- a + accountability_learning (downward_accountability
    # - a), present or not, deferring or not
    m = tiny(deliberation__convergence=0.4, population__officials=2, behaviour__accountability_learning=0.1)
    p = m.people
    officials = np.flatnonzero(p.kind == OFFICIAL)
    p.view[:] = 0.3
    p.view[officials] = [0.1, 0.6]
    p.accountability[officials] = [0.2, 0.8]
    m.structure["downward_accountability"] = lever
    decision = Decision(
        0.5,
        officials,
        np.full(2, 0.5),
        np.full(2, 0.5),
        recommendation=0.8,
        deferring=np.array([True, False]),
    )
    respond(m, decision)
    assert p.view[officials] == pytest.approx([0.1 + 0.4 * 0.7, 0.6])
    assert p.accountability[officials] == pytest.approx(
        [0.2 + 0.1 * (lever - 0.2), 0.8 + 0.1 * (lever - 0.8)]
    )
    assert (p.view[p.kind != OFFICIAL] == 0.3).all() and (p.accountability[p.kind != OFFICIAL] == 0).all()


def test_without_a_recommendation_no_official_moves_but_orientation_still_follows_the_rules():
    m = tiny(behaviour__accountability_learning=0.5)
    p = m.people
    officials = np.flatnonzero(p.kind == OFFICIAL)
    p.accountability[officials] = 0.0
    m.structure["downward_accountability"] = 1.0
    views = p.view.copy()
    respond(m, Decision(0.5, officials, np.full(len(officials), 1 / len(officials)), np.full(2, 0.5)))
    assert np.array_equal(p.view, views)
    assert p.accountability[officials] == pytest.approx(0.5)
