"""One test per mechanism, on tiny hand-built worlds with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from coprod.model import GovernanceModel, Scenario
from coprod.model.conditions import adoption, spread_adoption
from coprod.model.convening import stratified, top_k, voice_weights
from coprod.model.decisions import Decision, _clusters, decide
from coprod.model.initiatives import Outcome, status_quo_allocation
from coprod.model.kinds import ACADEMIC, GROUP, N_THEORIES, OFFICIAL, RESIDENT, THEORY_INDEX
from coprod.model.knowledge import mention_probabilities
from coprod.model.network import add_edges, adjacency, homophilous_small_world, unique_edges

TINY = {
    "population": {
        "residents": 20,
        "officials": 2,
        "academics": 1,
        "civil_society_groups": 2,
        "districts": 2,
    },
    "design": {"participants": 8},
    "network": {"mean_degree": 4},
}


def tiny(**overrides) -> GovernanceModel:
    dotted = {k.replace("__", "."): v for k, v in overrides.items()}
    scenario = Scenario.build(TINY).with_overrides(dotted) if dotted else Scenario.build(TINY)
    return GovernanceModel(scenario, rng=7)


# -- convene -------------------------------------------------------------------------------------------


def test_top_k_picks_k_distinct_and_never_zero_weight():
    rng = np.random.default_rng(0)
    cand = np.arange(10)
    w = np.r_[np.zeros(5), np.ones(5)]
    for _ in range(50):
        pick = top_k(cand, w, 3, rng)
        assert len(set(pick)) == 3 and (pick >= 5).all()


def test_stratified_sortition_fills_quotas_in_proportion():
    rng = np.random.default_rng(1)
    population = np.repeat([0, 1, 2, 3], [400, 300, 200, 100])
    pick = stratified(np.arange(1000), population, population, 20, rng)
    assert np.bincount(population[pick], minlength=4).tolist() == [8, 6, 4, 2]


def test_cost_keeps_out_those_who_cannot_afford_it_and_a_stipend_lets_them_in():
    m = tiny(
        design__kind="top_down_consultation",
        design__participation_cost=0.5,
        design__stipend=0.0,
        design__participants=20,
    )
    p = m.people
    marg = p.marginalised[: m.n_residents]
    assert 0 < marg.sum() < m.n_residents
    p.capacity[: m.n_residents] = np.where(marg, 0.2, 0.9)
    p.trust[:, OFFICIAL] = 1.0  # everyone willing: only cost keeps people out
    m.convene()
    assert not (p.taking_part & p.marginalised).any()
    assert p.taking_part[: m.n_residents][~marg].all()
    m2 = tiny(
        design__kind="top_down_consultation",
        design__participation_cost=0.5,
        design__stipend=1.0,
        design__participants=20,
    )
    m2.people.capacity[: m2.n_residents] = np.where(m2.people.marginalised[: m2.n_residents], 0.2, 0.9)
    m2.convene()
    assert (m2.people.taking_part & m2.people.marginalised).any()


def test_facilitation_equalises_voice():
    m = tiny(design__official_weight=9.0, design__facilitation=0.0)
    idx = np.flatnonzero(m.people.kind == OFFICIAL)
    assert voice_weights(m, idx) == pytest.approx(9.0)
    m = tiny(design__official_weight=9.0, design__facilitation=0.5)
    assert voice_weights(m, idx) == pytest.approx(3.0)
    m = tiny(design__official_weight=9.0, design__facilitation=1.0)
    assert voice_weights(m, idx) == pytest.approx(1.0)


# -- deliberate ------------------------------------------------------------------------------------------


def test_powerful_stubborn_officials_pull_residents_and_do_not_move():
    m = tiny(
        design__official_weight=20.0,
        design__facilitation=0.0,
        design__official_stubbornness=1.0,
        deliberation__confidence=1.0,
        deliberation__rounds=20,
        network__talk_rate=0.0,
        deliberation__stubbornness=0.0,
    )
    p = m.people
    p.view[:] = np.where(p.kind == OFFICIAL, 0.1, 0.9)
    p.view0[:] = p.view
    p.taking_part[:] = False
    p.taking_part[np.r_[np.arange(6), np.flatnonzero(p.kind == OFFICIAL)]] = True
    m.flows.meeting = np.flatnonzero(p.taking_part)
    m.deliberate()
    officials = p.kind == OFFICIAL
    assert p.view[officials] == pytest.approx(0.1)
    assert p.view[:6].mean() < 0.5  # residents in the room moved most of the way
    assert p.view[6 : m.n_residents].mean() == pytest.approx(0.9)  # those outside did not


def test_hidden_profile_bias_and_facilitation():
    shared, unshared = np.array([0, 0]), np.array([10, 1])
    biased = mention_probabilities(shared, unshared, 10, mention=0.3, bias=0.8, credibility=1.0)
    fair = mention_probabilities(shared, unshared, 10, mention=0.3, bias=0.0, credibility=1.0)
    assert biased[0] > biased[1] and fair[1] > biased[1]
    assert fair[1] == pytest.approx(0.3)
    assert mention_probabilities(np.array([0]), np.array([0]), 10, mention=1.0, bias=0, credibility=1)[0] == 0
    marg = mention_probabilities(np.array([1]), np.array([0]), 10, mention=0.3, bias=0.0, credibility=0.5)
    assert marg[0] == pytest.approx(0.15)


# -- decide --------------------------------------------------------------------------------------------


def _meeting(m, residents: int):
    p = m.people
    p.taking_part[:] = False
    p.taking_part[:residents] = True
    p.taking_part[p.kind == OFFICIAL] = True
    m.flows.meeting = np.flatnonzero(p.taking_part)
    return m.flows.meeting, voice_weights(m, m.flows.meeting)


def test_advisory_rule_blends_citizens_and_officials_by_citizen_weight():
    # no official answers downward (accountability 0): nobody defers, the say is citizen_weight vs the rest
    m = tiny(design__kind="citizens_assembly", structure__citizen_weight=0.25, design__facilitation=1.0)
    p = m.people
    p.view[:] = np.where(p.kind == OFFICIAL, 0.2, 0.6)
    p.accountability[:] = 0.0
    idx, w = _meeting(m, 6)
    d = decide(m, idx, w)
    assert d.position == pytest.approx(0.25 * 0.6 + 0.75 * 0.2)
    assert d.power.sum() == pytest.approx(1.0)
    assert d.deferred == 0.0 and not d.deferring.any()
    assert d.power[p.kind[d.power_idx] != OFFICIAL].sum() == pytest.approx(0.25)


def test_officials_who_defer_pass_their_say_to_the_citizens():
    # ODD 7.3: an official defers with probability accountability x trust in residents; both 1 -> every
    # official defers, the citizens hold the whole say and the position is their recommendation
    m = tiny(design__kind="citizens_assembly", structure__citizen_weight=0.25, design__facilitation=1.0)
    p = m.people
    officials = p.kind == OFFICIAL
    p.view[:] = np.where(officials, 0.2, 0.6)
    p.accountability[officials] = 1.0
    p.trust[officials, RESIDENT] = 1.0
    idx, w = _meeting(m, 6)
    d = decide(m, idx, w)
    assert d.deferring.all() and d.deferred == pytest.approx(1.0)
    assert d.position == pytest.approx(0.6) and d.recommendation == pytest.approx(0.6)
    assert d.power[officials[d.power_idx]] == pytest.approx(0.0)
    assert d.power[~officials[d.power_idx]].sum() == pytest.approx(1.0)


def test_one_of_two_officials_deferring_passes_half_their_say():
    # official o defers when its draw u_o < accountability_o x trust_o = [1, 0]: o0 always, o1 never
    m = tiny(design__kind="citizens_assembly", structure__citizen_weight=0.2, design__facilitation=1.0)
    p = m.people
    o = np.flatnonzero(p.kind == OFFICIAL)
    p.view[:] = 0.6
    p.view[o] = [0.0, 0.2]
    p.accountability[o] = [1.0, 1.0]
    p.trust[o, RESIDENT] = [1.0, 0.0]
    idx, w = _meeting(m, 6)
    d = decide(m, idx, w)
    assert d.deferring.tolist() == [True, False] and d.deferred == pytest.approx(0.5)
    # citizens 0.2 + 0.8 / 2 = 0.6 of the say at 0.6; the other official 0.4 at 0.2
    assert d.position == pytest.approx(0.6 * 0.6 + 0.4 * 0.2)


def test_vote_allocates_by_votes_weighted_by_need():
    m = tiny(design__kind="participatory_budgeting", design__need_weighting=0.5)
    idx, w = _meeting(m, 10)
    d = decide(m, idx, w)
    residents = idx[m.people.kind[idx] == RESIDENT]
    votes = np.bincount(m.people.district[residents], minlength=2)
    expected = votes * m.need**1.0
    assert d.allocation == pytest.approx(expected / expected.sum())


def test_dissensus_keeps_separate_experiments_per_cluster():
    idx = np.arange(6)
    teams = _clusters(idx, np.array([0.1, 0.12, 0.5, 0.52, 0.9, 0.91]), 5, 0.05)
    assert [t.tolist() for t in teams] == [[0, 1], [2, 3], [4, 5]]
    # no gap wider than cluster_gap: one team
    assert [t.tolist() for t in _clusters(idx, np.linspace(0.1, 0.2, 6), 5, 0.05)] == [idx.tolist()]


def test_dissensus_lets_a_minority_keep_its_theory_in_a_team_of_its_own():
    # two clusters of views, far apart: residents 0-1 and the two officials near 0.1 hold theory 2 (4 of the
    # 10 present); residents 2-7 near 0.9 hold theory 0 but for resident 7 (theory 1). The room's majority
    # is theory 0 (5 of 10), yet with conformity 1 and no facilitation each team conforms to its own
    # majority only: the low team keeps theory 2, and resident 7 joins theory 0, its team's (ODD 7.3)
    m = tiny(
        design__kind="action_research_cooperative",
        deliberation__conformity=1.0,
        design__facilitation=0.0,
        design__experiments=2,
        design__official_weight=1.0,
        design__expert_weight=1.0,
    )
    p = m.people
    idx, _ = _meeting(m, 8)
    officials = np.flatnonzero(p.kind == OFFICIAL)
    low = np.r_[0, 1, officials]
    p.view[idx] = 0.9
    p.view[low] = 0.1
    p.toc[:] = 0
    p.toc[low] = 2
    p.toc[7] = 1
    p.marginalised[:] = False  # equal voice: the tallies are head counts
    d = decide(m, idx, voice_weights(m, idx))
    assert not d.consensus
    assert sorted(sorted(t.tolist()) for t in d.teams) == sorted([sorted(low.tolist()), [2, 3, 4, 5, 6, 7]])
    assert (p.toc[low] == 2).all()
    assert (p.toc[2:8] == 0).all()


def test_forced_consensus_makes_minorities_conform():
    m = tiny(design__kind="citizens_assembly", deliberation__conformity=1.0, design__facilitation=0.0)
    m.people.toc[:] = 0
    m.people.toc[:3] = 2
    idx, w = _meeting(m, 8)
    decide(m, idx, w)
    assert (m.people.toc[idx] == 0).all()


def test_contribution_rule_gives_say_by_money():
    m = tiny(design__kind="co_financed_partnership", structure__co_financing=0.4)
    p = m.people
    p.accountability[:] = 0.0  # nobody defers: partners hold exactly the co-financed share
    p.taking_part[:] = False
    groups = np.flatnonzero(p.kind == GROUP)
    p.taking_part[np.r_[groups, np.flatnonzero(p.kind == OFFICIAL)]] = True
    m.flows.meeting = np.flatnonzero(p.taking_part)
    d = decide(m, m.flows.meeting, voice_weights(m, m.flows.meeting))
    partner_say = d.power[np.isin(d.power_idx, groups)].sum()
    assert partner_say == pytest.approx(0.4)
    # every official deferring passes the officials' 0.6 to the partners
    p.accountability[:] = 1.0
    p.trust[:, RESIDENT] = 1.0
    d = decide(m, m.flows.meeting, voice_weights(m, m.flows.meeting))
    assert d.power[np.isin(d.power_idx, groups)].sum() == pytest.approx(1.0)
    assert d.deferred == pytest.approx(1.0)


# -- act -----------------------------------------------------------------------------------------------


def test_status_quo_budget_favours_the_better_off_with_elite_bias():
    pop = np.array([100.0, 100.0])
    need = np.array([0.2, 0.9])
    assert status_quo_allocation(pop, need, 0.0) == pytest.approx([0.5, 0.5])
    biased = status_quo_allocation(pop, need, 0.8)
    assert biased[0] > biased[1]


def test_experiments_succeed_more_with_mixed_knowledge():
    wins = {}
    for mix in ("lay only", "mixed"):
        total = 0
        for seed in range(30):
            m = GovernanceModel(Scenario.build(TINY), rng=seed)
            p = m.people
            team = np.arange(6)
            p.knows[team] = False
            p.knows[team[:, None], np.flatnonzero(p.item_lay)] = True
            if mix == "mixed":
                p.knows[team[:, None], np.flatnonzero(~p.item_lay)] = True
            m.flows.decision = Decision(0.5, team, np.full(6, 1 / 6), np.full(2, 0.5), teams=[team] * 10)
            m.act()
            total += m.flows.outcome.successes
        wins[mix] = total
    assert wins["mixed"] > wins["lay only"] * 1.3


# -- learn ---------------------------------------------------------------------------------------------


def test_taking_part_tires_and_rest_restores():
    m = tiny(resources__fatigue_rate=0.2, resources__recovery=0.5)
    p = m.people
    p.fatigue[:] = 0.4
    p.taking_part[:] = False
    p.taking_part[:5] = True
    from coprod.model.learning import bear_costs

    bear_costs(m)
    assert (p.fatigue[:5] > 0.4).all()
    assert p.fatigue[5 : m.n_residents] == pytest.approx(0.2)
    assert (p.turns[:5] == 1).all()


def test_theories_of_change_spread_towards_success():
    m = tiny(deliberation__imitation=1.0)
    p = m.people
    p.toc[:] = np.where(np.arange(p.n) % 2 == 0, 0, 1)
    m.flows.toc_score[:] = [0.0, 1.0, 0.0, 0.0]
    from coprod.model.learning import spread_theories

    before = p.toc.copy()
    spread_theories(m, Outcome(toc_trials=np.zeros(4), toc_successes=np.zeros(4)))
    assert np.mean(p.toc == 1) > np.mean(before == 1)
    assert (p.toc[before == 1] == 1).all()  # nobody leaves the successful theory for a failing one


# -- rewire --------------------------------------------------------------------------------------------


def test_new_ties_form_only_among_co_participants():
    m = tiny(network__tie_formation=1.0)
    before = {tuple(e) for e in m.edges.tolist()}
    m.people.taking_part[:] = False
    m.people.taking_part[:6] = True
    m.flows.meeting = np.arange(6)
    for _ in range(10):  # the same six meet again: later pairings repeat ties that already exist
        m.rewire()
    new = {tuple(e) for e in m.edges.tolist()} - before
    assert new and all(i < 6 and j < 6 for i, j in new)
    assert m.adjacency.sum() == 2 * len(m.edges)
    rebuilt = adjacency(m.edges, m.people.n)  # the grown CSR is the one a rebuild gives, entry for entry
    assert (m.adjacency != rebuilt).nnz == 0 and m.adjacency.has_canonical_format


def test_network_helpers():
    e = unique_edges(np.array([[1, 0], [0, 1], [2, 2], [3, 1]]))
    assert e.tolist() == [[0, 1], [1, 3]]
    merged, fresh = add_edges(e, np.array([[1, 0], [2, 3]]))
    assert merged.tolist() == [[0, 1], [1, 3], [2, 3]] and fresh.tolist() == [[2, 3]]
    rng = np.random.default_rng(0)
    strata = np.repeat(np.arange(4), 50)
    ring = homophilous_small_world(strata, 4, 1.0, 0.0, rng)
    same = strata[ring[:, 0]] == strata[ring[:, 1]]
    assert same.mean() > 0.9  # homophily: ring neighbours share a stratum
    mixed = homophilous_small_world(strata, 4, 0.0, 0.5, rng)
    assert (strata[mixed[:, 0]] == strata[mixed[:, 1]]).mean() < 0.6


# -- restructure ---------------------------------------------------------------------------------------


def _evidence(m, *, lay: int, expert: int) -> None:
    """An evidence base of ``lay`` lay and ``expert`` expert items, set by hand."""
    p = m.people
    p.in_evidence[:] = False
    p.in_evidence[np.flatnonzero(p.item_lay)[:lay]] = True
    p.in_evidence[np.flatnonzero(~p.item_lay)[:expert]] = True
    assert p.in_evidence.sum() == lay + expert


PUSHED = {  # model.theories.THEORY_LEVERS: the levers each theory's holders push when its condition holds
    "incremental": ("agenda_setting", "downward_accountability", "co_financing"),
    "structural": ("citizen_weight", "transparency"),
    "knowledge": ("transparency", "agenda_setting"),
    "coalition": ("citizen_weight", "downward_accountability", "co_financing"),
}


@pytest.mark.parametrize("theory", ["incremental", "structural", "knowledge", "coalition"])
def test_each_theory_moves_structure_when_its_condition_holds(theory):
    # every condition holds (every threshold 0: readiness 1) and every actor holds `theory`, backs change
    # and is mobilised (residents took part this month), with no fatigue and no programme funding: each
    # actor's effort is its capacity, so the theory's effort share is sum(capacity) / sum(capacity) = 1
    # and its push is rate x 1 x 1 = 0.1, spread over its levers: each moves lever + 0.1 / len(levers)
    # (1 - lever), the others stay put (inertia 0; nobody acts on another theory)
    m = tiny(
        theory__kind=theory,
        theory__rate=0.1,
        theory__programme_funding=0.0,
        theory__inertia=0.0,
        theory__institutionalise_at=0.0,
        theory__tipping_share=0.0,
        theory__evidence_threshold=0.0,
        theory__coalition_share=0.0,
        theory__backlash=0.0,
        theory__production=0.0,
        theory__bridging=0.0,
        behaviour__support_line=0.5,
        behaviour__activist_memory=12,
    )
    p = m.people
    p.toc[:] = THEORY_INDEX[theory]
    p.view[:] = 0.9
    p.salience[:] = 0.9
    p.fatigue[:] = 0.0
    p.last_turn[:] = m.steps
    before = dict(m.structure)
    m.mobilise()
    assert m.flows.theory_effort == pytest.approx(np.eye(N_THEORIES)[THEORY_INDEX[theory]] * 1.0)
    m.restructure()
    assert m.flows.readiness == pytest.approx(np.ones(N_THEORIES))
    assert m.flows.push == pytest.approx(np.eye(N_THEORIES)[THEORY_INDEX[theory]] * 0.1)
    step = 0.1 / len(PUSHED[theory])
    expected = {k: v + step * (1 - v) if k in PUSHED[theory] else v for k, v in before.items()}
    assert m.structure == pytest.approx(expected)


@pytest.mark.parametrize(("theory", "ready"), [("knowledge", 0.75), ("incremental", 0.625)])
def test_a_partial_condition_pushes_levers_by_the_stated_fraction(theory, ready):
    # knowledge: lay share l = 1 / 4 of the evidence, quality 4 l (1 - l) = 0.75; two of the four officials
    # hold every item of it, two none: heard 0.5; readiness 0.75 x 0.5 / evidence_threshold 0.5 = 0.75.
    # incremental: half the officials adopted (no ties, so no contagion), readiness 0.5 / 0.8 = 0.625.
    # With effort share 0.3 the push is rate 0.2 x 0.3 x readiness, a share push / len(levers) on each lever.
    m = tiny(
        theory__kind=theory,
        theory__rate=0.2,
        theory__inertia=0.0,
        theory__institutionalise_at=0.8,
        theory__evidence_threshold=0.5,
        theory__adoption_threshold=0.3,
        population__officials=4,
    )
    p = m.people
    _evidence(m, lay=1, expert=3)
    officials = np.flatnonzero(p.kind == OFFICIAL)
    p.knows[officials] = False
    p.knows[np.ix_(officials[:2], np.flatnonzero(p.in_evidence))] = True
    p.adopted[:] = False
    p.adopted[officials[:2]] = True
    m.adjacency = adjacency(np.zeros((0, 2), dtype=np.int64), p.n)
    m.flows.theory_effort = np.eye(N_THEORIES)[THEORY_INDEX[theory]] * 0.3
    before = dict(m.structure)
    m.restructure()
    i = THEORY_INDEX[theory]
    assert m.flows.readiness[i] == pytest.approx(ready)
    push = 0.2 * 0.3 * ready
    assert m.flows.push == pytest.approx(np.eye(N_THEORIES)[THEORY_INDEX[theory]] * push)
    step = push / len(PUSHED[theory])
    expected = {k: v + step * (1 - v) if k in PUSHED[theory] else v for k, v in before.items()}
    assert m.structure == pytest.approx(expected)


def test_inertia_pulls_structure_back_to_where_it_started():
    # knowledge-led effort with expert evidence only (quality 0, readiness 0) pushes nothing; inertia 0.5
    # takes transparency half the way back to where it started, and the levers still there stay there
    m = tiny(theory__kind="knowledge", theory__inertia=0.5, theory__rate=0.5, theory__evidence_threshold=0.5)
    _evidence(m, lay=0, expert=3)
    start = m.structure0["transparency"]
    assert start < 0.9
    m.structure["transparency"] = 0.9
    m.flows.theory_effort = np.eye(N_THEORIES)[THEORY_INDEX["knowledge"]] * 0.5
    m.restructure()
    assert m.flows.readiness[THEORY_INDEX["knowledge"]] == 0.0
    assert m.structure["transparency"] == pytest.approx(0.9 + 0.5 * (start - 0.9))
    assert {k: v for k, v in m.structure.items() if k != "transparency"} == {
        k: v for k, v in m.structure0.items() if k != "transparency"
    }


@pytest.mark.parametrize(("threshold", "share"), [(0.5, 2 / 6), (0.6, 1 / 6), (0.0, 1 / 6)])
def test_incremental_adoption_spreads_by_threshold_contagion(threshold, share):
    # hand-built ties among six officials: o0-o1, o1-o2, o3-o4, o5 alone; o1 also knows five residents.
    # o0 has adopted. One synchronous round: o1 sees 1 of 2 official contacts adopting (0.5; residents do
    # not count), o2 sees 0 of 1, o3 and o4 0 of 1, o5 has no official contact: at threshold 0.5 o1 adopts
    # (2 / 6), at 0.6 nobody new (1 / 6); a threshold of 0 switches contagion off (ODD 7.7: "> 0")
    m = tiny(population__officials=6, theory__adoption_threshold=threshold)
    p = m.people
    o = np.flatnonzero(p.kind == OFFICIAL)
    edges = np.array([[o[0], o[1]], [o[1], o[2]], [o[3], o[4]], *[[o[1], i] for i in range(5)], [o[5], 0]])
    m.edges = unique_edges(edges)
    m.adjacency = adjacency(m.edges, p.n)
    p.adopted[:] = False
    p.adopted[o[0]] = True
    assert spread_adoption(m) is None
    assert adoption(m) == pytest.approx(share)
    assert np.flatnonzero(p.adopted).tolist() == ([o[0], o[1]] if threshold == 0.5 else [o[0]])


def test_kinds_and_agents_agree():
    m = tiny()
    from coprod.model import Academic, CivilSocietyGroup, Official, Resident

    counts = {cls: len(m.agents_by_type[cls]) for cls in (Resident, Official, Academic, CivilSocietyGroup)}
    assert counts == {Resident: 20, Official: 2, Academic: 1, CivilSocietyGroup: 2}
    r = m.agents_by_type[Resident][0]
    assert r.view == m.people.view[r.index] and r.theory_of_change in {
        "incremental",
        "structural",
        "knowledge",
        "coalition",
    }
    g = m.agents_by_type[CivilSocietyGroup][0]
    assert (m.people.group_of[g.members] == g.index - m.people.first_group).all()
    assert {int(m.people.kind[a.index]) for a in m.agents_by_type[Academic]} == {ACADEMIC}
