"""Known-answer tests for the theories of change: who acts, how much, what each theory's effort does, when
each theory's condition holds, and how the structure moves (model.mobilisation, model.conditions,
model.restructuring, the fit of experiments in model.initiatives, and the dropped of a forced consensus).

Each test builds a tiny world (``tiny`` from test_mechanisms), sets every parameter it depends on and the
state it needs by hand, and compares with a value worked out from the documented formula. Where a mechanism
draws random numbers, the test replays the model's generator (a deep copy taken just before the call).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from coprod.model.conditions import readiness
from coprod.model.decisions import decide
from coprod.model.initiatives import Outcome, _experiment, grassroots
from coprod.model.kinds import (
    ACADEMIC,
    COALITION,
    GROUP,
    INCREMENTAL,
    KNOWLEDGE,
    N_THEORIES,
    OFFICIAL,
    RESIDENT,
    STRUCTURAL,
    THEORIES,
    THEORY_INDEX,
)
from coprod.model.learning import update_trust
from coprod.model.mobilisation import actor_effort, bridge, document, theory_effort
from coprod.model.network import adjacency, unique_edges
from coprod.model.restructuring import LEVERS
from coprod.model.theories import THEORY_LEVERS

from tests.test_mechanisms import PUSHED, _evidence, tiny

# every parameter the mechanisms read, set here so the schema's defaults never matter; a test overrides
# what it varies
BASE = {
    "theory__rate": 0.1,
    "theory__programme_funding": 0.0,
    "theory__inertia": 0.0,
    "theory__institutionalise_at": 0.0,
    "theory__tipping_share": 0.0,
    "theory__evidence_threshold": 0.0,
    "theory__coalition_share": 0.0,
    "theory__adoption_threshold": 0.0,
    "theory__backlash": 0.0,
    "theory__backlash_trust": 5.0,
    "theory__rollback": 0.0,
    "theory__rollback_size": 2.0,
    "theory__production": 0.0,
    "theory__bridging": 0.0,
    "theory__grassroots": 0.0,
    "theory__team_size": 3,
    "theory__experiment_success": 1.0,
    "behaviour__support_line": 0.5,
    "behaviour__activist_memory": 12,
    "behaviour__experiment_floor": 0.0,
    "behaviour__success_learning": 0.0,
}


def world(**overrides):
    return tiny(**{**BASE, **overrides})


def everyone_acts(m, theory: int | None = None, view: float = 0.9) -> None:
    """Every actor backs change (view and salience ``view``), is rested and mobilised (residents took part
    this month); with ``theory``, every actor holds it."""
    p = m.people
    if theory is not None:
        p.toc[:] = theory
    p.view[:] = view
    p.salience[:] = view
    p.fatigue[:] = 0.0
    p.last_turn[:] = m.steps


def _effort_on(**shares: float) -> np.ndarray:
    out = np.zeros(N_THEORIES)
    for name, share in shares.items():
        out[THEORY_INDEX[name]] = share
    return out


def test_the_levers_table_is_the_one_the_tests_state_and_every_lever_is_worked_by_two_theories():
    assert THEORY_LEVERS == PUSHED
    for lever in LEVERS:
        assert sum(lever in levers for levers in THEORY_LEVERS.values()) == 2
    assert all(2 <= len(levers) <= 3 for levers in THEORY_LEVERS.values())


# -- who acts, and how much ----------------------------------------------------------------------------


def test_actor_effort_is_spare_capacity_of_the_mobilised_who_back_change_raised_by_programme_funding():
    # effort_i = capacity (1 - fatigue) (1 + programme_funding [toc_i = theory.kind]) if i is mobilised (not a
    # resident, in a group, or took part within activist_memory months) and backs change (view > support_line)
    m = world(theory__kind="knowledge", theory__programme_funding=1.5, behaviour__activist_memory=6)
    m.steps = 20
    p, r = m.people, m.n_residents
    p.capacity[:] = np.linspace(0.2, 0.9, p.n)
    p.fatigue[:] = np.linspace(0.0, 0.5, p.n)
    p.toc[:] = np.arange(p.n) % N_THEORIES
    p.view[:] = 0.9
    p.group_of[:r] = -1
    p.last_turn[:] = -1
    p.last_turn[1] = 20  # took part this month
    p.last_turn[2] = 15  # 5 months ago, within 6: mobilised
    p.last_turn[3] = 14  # 6 months ago: no longer mobilised
    p.group_of[5] = 1  # a group member, but at the support line: does not back change
    p.view[5] = 0.5
    official = np.flatnonzero(p.kind == OFFICIAL)[0]
    p.view[official] = 0.2  # an official who opposes change
    # hand-checked cases: resident 1, knowledge-led (funded), 0.8 x (1 - 0.25) x 2.5 = 1.5; resident 2,
    # structural, 0.4 x (1 - 0.5) = 0.2
    p.capacity[[1, 2]] = [0.8, 0.4]
    p.fatigue[[1, 2]] = [0.25, 0.5]
    p.toc[[1, 2]] = [KNOWLEDGE, STRUCTURAL]
    p.group_of[0] = 0  # resident 0, never took part, acts as a group member
    effort = actor_effort(m)
    assert effort[[1, 2]] == pytest.approx([1.5, 0.2])
    assert effort[[3, 4, 5, official]].tolist() == [0.0, 0.0, 0.0, 0.0]
    expected = np.zeros(p.n)
    for i in range(p.n):
        mobilised = (
            p.kind[i] != RESIDENT or p.group_of[i] >= 0 or (p.last_turn[i] >= 0 and 20 - p.last_turn[i] < 6)
        )
        if mobilised and p.view[i] > 0.5:
            expected[i] = p.capacity[i] * (1 - p.fatigue[i]) * (1 + 1.5 * (p.toc[i] == KNOWLEDGE))
    assert effort == pytest.approx(expected)
    assert (effort[:r][[0, 1, 2]] > 0).all() and (effort[r:] > 0).sum() == p.n - r - 1
    # each theory's effort share: its holders' effort over every actor's capacity
    shares = [
        sum(expected[i] for i in range(p.n) if p.toc[i] == t) / p.capacity.sum() for t in range(N_THEORIES)
    ]
    assert theory_effort(m, effort) == pytest.approx(shares)


# -- the structure moves only through the effort of the theories held ----------------------------------


@pytest.mark.parametrize("inertia", [0.0, 0.3])
@pytest.mark.parametrize("theory", THEORIES)
def test_a_theory_nobody_holds_moves_no_lever(theory, inertia):
    # every condition holds (thresholds 0) and everyone acts on `theory` with effort share 1: its push is
    # rate 0.2 over its levers; nobody acts on the other theories, so their effort and push are exactly 0 and
    # the levers only they work move by inertia alone: v + inertia (v0 - v), from 0.5 where every lever is put
    m = world(theory__rate=0.2, theory__inertia=inertia)
    everyone_acts(m, THEORY_INDEX[theory])
    for lever in LEVERS:
        m.structure[lever] = 0.5
    m.mobilise()
    held = THEORY_INDEX[theory]
    assert m.flows.theory_effort[held] == pytest.approx(1.0)
    assert (np.delete(m.flows.theory_effort, held) == 0).all()
    m.restructure()
    assert (np.delete(m.flows.push, held) == 0).all()
    for lever in LEVERS:
        v = 0.5 + 0.2 / len(PUSHED[theory]) * 0.5 if lever in PUSHED[theory] else 0.5
        assert m.structure[lever] == pytest.approx(v + inertia * (m.structure0[lever] - v)), lever


@pytest.mark.parametrize("view", [0.5, 0.2])
def test_nothing_moves_when_nobody_backs_change(view):
    # every condition holds and everyone is mobilised, but nobody backs change (view at or below the support
    # line): no effort, no push, no backlash (officials keep their trust), no lever moves
    m = world(theory__backlash=1.0, theory__rollback=1.0, theory__rate=5.0)
    everyone_acts(m, view=view)
    m.people.toc[:] = np.arange(m.people.n) % N_THEORIES
    trust = m.people.trust.copy()
    before = dict(m.structure)
    m.mobilise()
    assert (m.flows.effort == 0).all() and (m.flows.theory_effort == 0).all()
    m.restructure()
    assert (m.flows.push == 0).all()
    assert m.structure == before
    assert np.array_equal(m.people.trust, trust)


def test_two_theories_pushing_one_lever_compound():
    # incremental (effort 0.3) and knowledge-led (effort 0.5) change both work agenda_setting; rate 0.4:
    # incremental pushes 0.12 / 3 = 0.04 on each of its levers, knowledge 0.2 / 2 = 0.1 on each of its own;
    # the shared lever keeps (1 - 0.04)(1 - 0.1) of its distance to 1, whichever goes first
    m = world(theory__rate=0.4)
    m.flows.theory_effort = _effort_on(incremental=0.3, knowledge=0.5)
    before = dict(m.structure)
    m.restructure()
    v = before
    assert m.structure["agenda_setting"] == pytest.approx(1 - (1 - v["agenda_setting"]) * 0.96 * 0.9)
    assert m.structure["transparency"] == pytest.approx(v["transparency"] + 0.1 * (1 - v["transparency"]))
    for lever in ("downward_accountability", "co_financing"):
        assert m.structure[lever] == pytest.approx(v[lever] + 0.04 * (1 - v[lever]))
    assert m.structure["citizen_weight"] == v["citizen_weight"]


def test_a_push_beyond_the_whole_way_takes_the_levers_to_one():
    # rate 5 x effort share 1 = 5 over two levers: min(1, 2.5) of the way, all of it
    m = world(theory__rate=5.0)
    m.flows.theory_effort = _effort_on(structural=1.0)
    m.restructure()
    assert m.structure["citizen_weight"] == 1.0 and m.structure["transparency"] == 1.0


# -- conditions: graded and tipping ----------------------------------------------------------------------


def test_zero_thresholds_are_always_met_and_none_holds_at_the_start_otherwise():
    m = world()
    m.people.view[:] = 0.3  # nobody committed, no supportive coalition
    assert readiness(m).tolist() == [1.0, 1.0, 1.0, 1.0]
    m = world(
        theory__institutionalise_at=0.5,
        theory__tipping_share=0.25,
        theory__evidence_threshold=0.5,
        theory__coalition_share=0.15,
    )
    m.people.view[:] = 0.3
    assert not m.people.adopted.any() and not m.people.in_evidence[m.people.item_lay].any()
    assert readiness(m).tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("lay", "expert", "second_knows", "threshold", "ready"),
    [
        (1, 3, 2, 1.0, 0.75 * 0.75),  # quality 4 (1/4)(3/4) = 0.75, heard (4 + 2) / 8 = 0.75
        (2, 2, 1, 0.8, 1.0 * (5 / 8) / 0.8),  # quality 1, heard 5 / 8
        (1, 1, 0, 0.25, 1.0),  # quality 1 x heard 0.5 over 0.25: capped at 1
        (0, 4, 4, 0.5, 0.0),  # expert items only: quality 0
    ],
)
def test_knowledge_led_change_pushes_in_proportion_to_evidence_produced_and_heard(
    lay, expert, second_knows, threshold, ready
):
    # readiness = min(1, 4 l (1 - l) x heard / evidence_threshold); heard = officials' mean share of the
    # evidence base they hold (official 0 holds all of it, official 1 `second_knows` items); push = rate 0.3 x
    # effort share 0.4 x readiness, a share push / 2 on transparency and agenda_setting
    m = world(theory__rate=0.3, theory__evidence_threshold=threshold)
    p = m.people
    _evidence(m, lay=lay, expert=expert)
    base = np.flatnonzero(p.in_evidence)
    o = np.flatnonzero(p.kind == OFFICIAL)
    p.knows[o] = False
    p.knows[o[0], base] = True
    p.knows[o[1], base[:second_knows]] = True
    m.flows.theory_effort = _effort_on(knowledge=0.4)
    before = dict(m.structure)
    m.restructure()
    assert m.flows.readiness[KNOWLEDGE] == pytest.approx(ready)
    push = 0.3 * 0.4 * ready
    assert m.flows.push == pytest.approx(_effort_on(knowledge=push))
    for lever in LEVERS:
        moved = push / 2 * (1 - before[lever]) if lever in ("transparency", "agenda_setting") else 0.0
        assert m.structure[lever] == pytest.approx(before[lever] + moved), lever


@pytest.mark.parametrize(("committed", "ready"), [(4, 0.8), (5, 1.0), (6, 1.0)])
def test_structural_change_tips_only_when_the_committed_minority_reaches_its_share(committed, ready):
    # tipping_share 5 / 23 of the 23 actors who are not groups; committed = holders of the structural theory
    # with view and salience above the support line. 4 committed: readiness 0.8, floored to 0: no push
    # whatever the effort; 5 (at the share) or 6: readiness 1, push rate 0.5 x effort 0.4 = 0.2, a share 0.1
    # on citizen_weight and transparency. Not committed: a structural holder who does not frame change as
    # justice, and a committed group (groups do not count)
    m = world(theory__rate=0.5, theory__tipping_share=5 / 23)
    p = m.people
    assert int((p.kind != GROUP).sum()) == 23
    p.toc[:] = INCREMENTAL
    p.view[:] = 0.3
    p.salience[:] = 0.3
    who = np.arange(committed)
    p.toc[who] = STRUCTURAL
    p.view[who] = 0.9
    p.salience[who] = 0.9
    p.toc[10], p.view[10], p.salience[10] = STRUCTURAL, 0.9, 0.4
    g = p.first_group
    p.toc[g], p.view[g], p.salience[g] = STRUCTURAL, 0.9, 0.9
    m.flows.theory_effort = _effort_on(structural=0.4)
    before = dict(m.structure)
    m.restructure()
    assert m.flows.readiness[STRUCTURAL] == pytest.approx(ready)
    step = 0.1 if ready == 1.0 else 0.0
    assert m.flows.push[STRUCTURAL] == pytest.approx(2 * step)
    for lever in LEVERS:
        moved = step * (1 - before[lever]) if lever in ("citizen_weight", "transparency") else 0.0
        assert m.structure[lever] == pytest.approx(before[lever] + moved), lever


@pytest.mark.parametrize(
    ("share", "academic_tied", "ready"), [(0.2, True, 1.0), (0.25, True, 0.8), (0.2, False, 0.0)]
)
def test_coalition_change_tips_only_when_the_largest_supportive_set_holds_every_sector(
    share, academic_tied, ready
):
    # backing actors: residents 0-3 (4 of 20), official 0 (1 of 2), the academic (1 of 1), and resident 10
    # alone; ties r0-r1-r2-r3-o0(-a). Strength = min over sectors of the share in the largest connected
    # backing set = min(0.2, 0.5, 1) = 0.2, or 0 without the academic's tie. Readiness 0.2 / coalition_share;
    # below 1 it pushes nothing; at 1 push = rate 0.6 x effort 0.5 = 0.3, a share 0.1 on each of its levers
    m = world(theory__rate=0.6, theory__coalition_share=share)
    p = m.people
    o, a = np.flatnonzero(p.kind == OFFICIAL)[0], np.flatnonzero(p.kind == ACADEMIC)[0]
    p.view[:] = 0.3
    p.view[[0, 1, 2, 3, 10, o, a]] = 0.9
    edges = [[0, 1], [1, 2], [2, 3], [3, o]] + ([[o, a]] if academic_tied else [])
    m.edges = unique_edges(np.array(edges))
    m.adjacency = adjacency(m.edges, p.n)
    m.flows.theory_effort = _effort_on(coalition=0.5)
    before = dict(m.structure)
    m.restructure()
    assert m.flows.readiness[COALITION] == pytest.approx(ready)
    step = 0.1 if ready == 1.0 else 0.0
    for lever in LEVERS:
        moved = step * (1 - before[lever]) if lever in PUSHED["coalition"] else 0.0
        assert m.structure[lever] == pytest.approx(before[lever] + moved), lever


# -- backlash ------------------------------------------------------------------------------------------


def test_structural_push_costs_opposed_officials_trust_in_residents():
    # push per lever = rate 0.5 x effort 0.4 / 2 = 0.1; one of the two officials opposes (opposed 0.5):
    # trust in residents is multiplied by 1 - min(1, backlash 0.5 x backlash_trust 4 x 0.1 x 0.5) = 0.9;
    # rollback 0: the rules stay pushed
    m = world(theory__rate=0.5, theory__backlash=0.5, theory__backlash_trust=4.0, theory__rollback=0.0)
    p = m.people
    o = np.flatnonzero(p.kind == OFFICIAL)
    p.view[o] = [0.2, 0.8]
    p.trust[:] = 0.6
    m.flows.theory_effort = _effort_on(structural=0.4)
    before = dict(m.structure)
    m.restructure()
    assert p.trust[o[0], RESIDENT] == pytest.approx(0.6 * 0.9)
    others = np.ones(p.trust.shape, dtype=bool)
    others[o, RESIDENT] = False
    assert (p.trust[others] == 0.6).all()  # nobody else's trust, and no other trust of officials
    for lever in ("citizen_weight", "transparency"):
        assert m.structure[lever] == pytest.approx(before[lever] + 0.1 * (1 - before[lever]))


def test_no_structural_push_no_backlash():
    # the committed minority has not tipped (tipping_share 1): effort on structural change pushes nothing
    # and costs no trust, however opposed the officials
    m = world(theory__rate=0.5, theory__backlash=1.0, theory__rollback=1.0, theory__tipping_share=1.0)
    p = m.people
    p.view[:] = 0.2
    trust = p.trust.copy()
    m.flows.theory_effort = _effort_on(structural=0.4)
    before = dict(m.structure)
    m.restructure()
    assert np.array_equal(p.trust, trust) and m.structure == before


def test_certain_rollback_takes_back_a_share_of_the_structural_levers():
    # every official opposed, backlash 1, rollback 1: rollback chance 1 x 1 x 1, certain. Push per lever 0.1:
    # each structural lever goes to v1 = v + 0.1 (1 - v), then loses min(1, 0.1 x rollback_size 2) of itself;
    # trust in residents x (1 - min(1, 1 x 2 x 0.1 x 1)) = 0.8
    m = world(
        theory__rate=0.5,
        theory__backlash=1.0,
        theory__backlash_trust=2.0,
        theory__rollback=1.0,
        theory__rollback_size=2.0,
    )
    p = m.people
    o = p.kind == OFFICIAL
    p.view[o] = 0.2
    p.trust[:] = 0.5
    m.flows.theory_effort = _effort_on(structural=0.4)
    before = dict(m.structure)
    m.restructure()
    for lever in LEVERS:
        v = before[lever]
        expected = 0.8 * (v + 0.1 * (1 - v)) if lever in ("citizen_weight", "transparency") else v
        assert m.structure[lever] == pytest.approx(expected), lever
    assert p.trust[o, RESIDENT] == pytest.approx(0.4)


# -- knowledge-led actors document, coalition builders bridge --------------------------------------------


def test_knowledge_led_actors_document_what_they_know_and_nobody_else_does():
    # production 10 and effort 11 (capacity 1, programme funding 10) behind each item a knowledge-led actor
    # knows: hazard 1 - exp(-110) = 1, certain. Items known only to actors of other theories, or only to a
    # knowledge-led actor who does not back change (no effort), have hazard 0; nothing leaves the base
    m = world(
        theory__kind="knowledge",
        theory__programme_funding=10.0,
        theory__production=10.0,
        deliberation__knowledge_items=40,
    )
    p = m.people
    everyone_acts(m, INCREMENTAL)
    p.capacity[:] = 1.0
    a = np.flatnonzero(p.kind == ACADEMIC)[0]
    official = np.flatnonzero(p.kind == OFFICIAL)[0]
    p.toc[[0, 1, 2, a]] = KNOWLEDGE
    p.view[2] = 0.2  # knowledge-led, but does not back change
    p.knows[:] = False
    p.knows[0, 0:5] = True
    p.knows[3, 0:3] = True  # also known to an incrementalist: still documented
    p.knows[a, 5] = True
    p.knows[[3, official], 6:8] = True  # incrementalists only
    p.knows[2, 8] = True  # the idle knowledge-led actor only
    p.in_evidence[:] = False
    p.in_evidence[20] = True  # already in the base, known to nobody: stays
    m.mobilise()
    assert np.flatnonzero(p.in_evidence).tolist() == [0, 1, 2, 3, 4, 5, 20]


def test_documenting_follows_the_hazard_of_the_effort_behind_each_item():
    # each item enters with chance 1 - exp(-production x sum of the efforts of knowledge-led actors who know
    # it), drawn once per item (replayed)
    m = world(theory__kind="knowledge", theory__programme_funding=1.0, theory__production=0.3)
    p = m.people
    everyone_acts(m)
    p.toc[:] = np.arange(p.n) % N_THEORIES
    p.in_evidence[:] = False
    p.in_evidence[:3] = True  # a few items already in: they stay whatever the draw
    effort = actor_effort(m)
    knowledge_led = p.toc == KNOWLEDGE
    behind = np.array([effort[knowledge_led & p.knows[:, k]].sum() for k in range(p.knows.shape[1])])
    before = p.in_evidence.copy()
    u = copy.deepcopy(m.rng).random(len(behind))
    document(m, effort)
    entered = u < 1 - np.exp(-0.3 * behind)
    assert np.array_equal(p.in_evidence, before | entered)
    fresh = entered & ~before
    assert 0 < fresh.sum() < ((behind > 0) & ~before).sum()  # chance, not certainty, decided some


def _bridging_world(bridging: float):
    # builders: residents 0-4 and official 0 hold the coalition theory and back change; resident 5 holds it
    # but does not; residents 10-19 are not mobilised (no group, never took part)
    m = world(theory__kind="coalition", theory__programme_funding=1.0, theory__bridging=bridging)
    p, r = m.people, m.n_residents
    everyone_acts(m, INCREMENTAL)
    p.capacity[:] = 1.0
    official = np.flatnonzero(p.kind == OFFICIAL)[0]
    builders = np.r_[0:5, official]
    p.toc[builders] = COALITION
    p.toc[5] = COALITION
    p.view[5] = 0.2
    p.group_of[:r] = -1
    p.last_turn[10:r] = -1
    return m, builders


def test_coalition_builders_bridge_to_mobilised_actors_of_another_kind():
    # each builder forms Poisson(bridging 5 x effort 2) draws from the mobilised non-group actors; a draw of
    # its own kind forms no tie (replayed: the new edges are exactly the kept draws not yet tied)
    m, builders = _bridging_world(5.0)
    p = m.people
    before = m.edges.copy()
    effort = actor_effort(m)
    assert effort[builders] == pytest.approx(2.0) and effort[5] == 0.0
    rng = copy.deepcopy(m.rng)
    ties = rng.poisson(5.0 * effort[builders])
    src = np.repeat(builders, ties)
    pool = np.flatnonzero((p.kind != GROUP) & ~((p.kind == RESIDENT) & (np.arange(p.n) >= 10)))
    dst = pool[rng.integers(0, len(pool), len(src))]
    keep = p.kind[src] != p.kind[dst]
    bridge(m, effort)
    assert np.array_equal(m.edges, unique_edges(np.concatenate([before, np.column_stack([src, dst])[keep]])))
    old = {tuple(e) for e in before.tolist()}
    fresh = np.array([e for e in m.edges.tolist() if tuple(e) not in old])
    assert len(fresh) > 5
    assert (p.kind[fresh[:, 0]] != p.kind[fresh[:, 1]]).all()  # every new tie joins two kinds
    assert np.isin(fresh, builders).any(axis=1).all()  # every new tie has a builder at one end
    assert not np.isin(
        fresh, np.r_[10 : m.n_residents, p.first_group : p.n]
    ).any()  # not the unmobilised, no group
    assert (m.adjacency != adjacency(m.edges, p.n)).nnz == 0


def test_no_bridging_no_new_ties():
    m, _ = _bridging_world(0.0)
    edges, adj = m.edges.copy(), m.adjacency.copy()
    m.mobilise()
    assert np.array_equal(m.edges, edges) and (m.adjacency != adj).nnz == 0


# -- a forced consensus drops the views it lands beyond ---------------------------------------------------


def _room(m, views):
    p = m.people
    o = np.flatnonzero(p.kind == OFFICIAL)
    p.accountability[:] = 0.0  # nobody defers: the say is citizen_weight vs the officials
    p.taking_part[:] = False
    p.taking_part[: len(views)] = True
    p.taking_part[o] = True
    p.view[: len(views)] = views
    p.view[o] = 0.2
    return np.flatnonzero(p.taking_part)


def test_a_forced_consensus_drops_participants_beyond_their_confidence_from_teams_and_trust():
    # advisory rule, citizen_weight 0.25, equal voice: recommendation mean(0.5 x 4, 1.0, 0.9) = 0.65, position
    # 0.25 x 0.65 + 0.75 x 0.2 = 0.3125. Confidence 0.3: residents 4 (0.6875 away) and 5 (0.5875) are dropped;
    # the others (0.1875) and the officials (0.1125) are not. The teams are drawn from the others only, and
    # the dropped lose dropped_trust_loss 0.25 of their trust in officials (no feedback, no drift)
    m = world(
        design__kind="citizens_assembly",
        design__decision_rule="advisory",
        design__experiments=2,
        design__feedback=0.0,
        structure__citizen_weight=0.25,
        deliberation__confidence=0.3,
        deliberation__conformity=0.0,
        behaviour__dropped_trust_loss=0.25,
        behaviour__trust_drift=0.0,
    )
    p = m.people
    idx = _room(m, [0.5, 0.5, 0.5, 0.5, 1.0, 0.9])
    d = decide(m, idx, np.ones(len(idx)))
    assert d.consensus and d.position == pytest.approx(0.3125)
    assert d.dropped.tolist() == [4, 5]
    assert len(d.teams) == 2
    assert sorted(np.concatenate(d.teams).tolist()) == np.setdiff1d(idx, [4, 5]).tolist()
    p.trust[:] = 0.6
    update_trust(m, d)
    expected = np.full(p.n, 0.6)
    expected[[4, 5]] = 0.6 * 0.75
    assert p.trust[:, OFFICIAL] == pytest.approx(expected)
    assert (p.trust[:, [RESIDENT, ACADEMIC, GROUP]] == 0.6).all()


def test_dissensus_drops_nobody():
    m = world(
        design__kind="action_research_cooperative",
        design__decision_rule="dissensus",
        design__experiments=3,
        deliberation__confidence=0.3,
    )
    idx = _room(m, [0.5, 0.5, 0.5, 0.5, 1.0, 0.9])
    d = decide(m, idx, np.ones(len(idx)))
    assert not d.consensus and len(d.dropped) == 0
    assert sorted(np.concatenate(d.teams).tolist()) == idx.tolist()


# -- experiments fit their theory to the context ----------------------------------------------------------


@pytest.mark.parametrize(
    ("theory", "skill", "ready", "floor", "chance"),
    [
        (STRUCTURAL, 1.0, 0.0, 0.0, 0.0),  # fit = readiness 0: never
        (STRUCTURAL, 1.0, 0.5, 0.0, 0.25),  # 1 x mix 1 x capability 1 x resourcing 0.5 x fit 0.5
        (STRUCTURAL, 1.0, 1.0, 0.0, 0.5),
        (STRUCTURAL, 1.0, 0.0, 0.5, 0.375),  # factors 0.5 + 0.5 [1, 1, 0.5, 0] = [1, 1, 0.75, 0.5]
        (KNOWLEDGE, 1.0, 1.0, 0.0, 0.5),
        (INCREMENTAL, 1.0, 0.0, 0.0, 0.25),  # fit = capability x resourcing = 0.5, not readiness
        (INCREMENTAL, 0.5, 0.0, 0.0, 0.0625),  # capability 0.5, fit 0.25: 0.5 x 0.5 x 0.25
    ],
)
def test_an_experiment_succeeds_by_the_fit_of_its_teams_theory(theory, skill, ready, floor, chance):
    # success chance = experiment_success 1 x prod(floor + (1 - floor) [mix, capability, resourcing, fit]);
    # the team (five residents, skill `skill`, no fatigue) holds one lay and one expert item (mix 1) and gets
    # funds equal to experiment_cost (resourcing 0.5); fit = readiness of its theory (incremental:
    # capability x resourcing). Each draw is replayed; the theory's trials and successes are counted
    m = world(behaviour__experiment_floor=floor, resources__experiment_cost=100.0)
    p = m.people
    team = np.arange(5)
    p.toc[team] = theory
    p.skill[team] = skill
    p.fatigue[team] = 0.0
    p.knows[team] = False
    p.knows[team, np.flatnonzero(p.item_lay)[0]] = True
    p.knows[team, np.flatnonzero(~p.item_lay)[0]] = True
    m.flows.readiness = np.zeros(N_THEORIES)
    m.flows.readiness[theory] = ready
    out = Outcome(toc_trials=np.zeros(N_THEORIES), toc_successes=np.zeros(N_THEORIES))
    expected = 0
    for _ in range(400):
        rng = copy.deepcopy(m.rng)
        rng.random(N_THEORIES)  # the tie-break among the team's theories
        expected += rng.random() < chance
        _experiment(m, team, 100.0, out)
    assert out.experiments == 400 and out.toc_trials[theory] == 400
    assert out.successes == out.toc_successes[theory] == expected
    assert (expected == 0) if chance == 0 else abs(expected / 400 - chance) < 0.1


def test_grassroots_experiments_are_drawn_from_the_incrementalists_acting():
    # Poisson(grassroots 1 x their effort) teams of team_size 3, each drawn without replacement from the
    # incrementalists who act (replayed); incrementalists who do not back change are never drawn
    m = world(theory__grassroots=1.0, theory__team_size=3)
    p = m.people
    everyone_acts(m, STRUCTURAL)
    p.toc[:8] = INCREMENTAL
    p.view[7] = 0.2
    acting = np.arange(7)
    effort = actor_effort(m)
    rng = copy.deepcopy(m.rng)
    n = rng.poisson(1.0 * effort[acting].sum())
    expected = [rng.choice(acting, size=3, replace=False) for _ in range(n)]
    teams = grassroots(m, effort)
    assert n > 0 and len(teams) == n
    assert all(np.array_equal(t, e) for t, e in zip(teams, expected, strict=True))
    assert all(len(set(t.tolist())) == 3 and set(t.tolist()) <= set(acting.tolist()) for t in teams)
    p.view[:8] = 0.2  # no incrementalist backs change: no grassroots experiment
    assert grassroots(m, actor_effort(m)) == []
