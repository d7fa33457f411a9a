"""People playing agents (model.choices): each choice replaces the simulated behaviour through its mechanism,
moves the outputs the way ODD 7.10 says, and leaves the model untouched when nobody chooses."""

from __future__ import annotations

import numpy as np
import pytest
from coprod.model import choices as C
from coprod.model.convening import unable
from coprod.model.governance import GovernanceModel
from coprod.model.scenario import ScenarioError
from scipy import stats


def city(seed=1, design="participatory_budgeting", residents=300):
    return GovernanceModel(rng=seed, residents=residents, design=design)


def run(seed, plan=None, months=24, design="participatory_budgeting"):
    m = city(seed, design)
    if plan is not None:
        m.choose(plan(m))
    for _ in range(months):
        m.step()
    return m


def test_no_choice_is_the_simulation_draw_for_draw():
    plain = run(4)
    for plan in ({}, lambda m: {int(C.candidates(m, "resident")[0]): {"view": None}}):
        played = run(4, (lambda m, p=plan: p) if isinstance(plan, dict) else plan)
        assert played.outputs == plain.outputs
        assert played.rng.bit_generator.state == plain.rng.bit_generator.state


def test_the_same_choices_give_the_same_run():
    def plan(m):
        return {int(a): {"attend": "come", "view": 0.9} for a in C.candidates(m, "resident")[:20]}

    assert run(5, plan).outputs == run(5, plan).outputs


def test_marginalised_residents_who_all_stay_away_raise_consensus_bias():
    """ODD 7.10: the marginalised left out of the room, decisions drift from their views (over seeds)."""

    def away(m):
        return {int(a): {"attend": "stay_away"} for a in C.candidates(m, "resident", marginalised=True)}

    diffs = [
        run(seed, away).outputs["consensus_bias"] - run(seed).outputs["consensus_bias"] for seed in range(6)
    ]
    low, high = stats.t.interval(0.95, len(diffs) - 1, loc=np.mean(diffs), scale=stats.sem(diffs))
    assert low > 0.05, (np.mean(diffs), low, high)


def test_staying_away_and_coming():
    m = city(2)
    residents = C.candidates(m, "resident")
    away, come = residents[:30], residents[30:60]
    m.choose(
        {**{int(a): {"attend": "stay_away"} for a in away}, **{int(a): {"attend": "come"} for a in come}}
    )
    seen = 0
    for _ in range(6):
        m.step()
        assert not m.people.taking_part[away].any()
        burnt_out, short = unable(m)
        # able when convened (this month's costs come after): fatigue only grows within the month
        assert (m.people.taking_part[come] | burnt_out[come] | short[come]).all()
        seen += int(m.people.taking_part[come].sum())
    assert seen > 0


def test_a_chosen_view_and_framing_enter_the_meeting():
    m = city(3)
    a = int(C.candidates(m, "resident")[0])
    m.choose({a: {"attend": "come", "view": 0.97, "salience": 0.05}})
    m.step()
    seat = int(np.searchsorted(m.flows.meeting, a))
    assert m.flows.meeting[seat] == a
    assert m.flows.views_before[seat] == 0.97


def test_sharing_knowledge_is_chosen_item_by_item():
    m = city(6, residents=200)
    players = [int(a) for a in C.candidates(m, "resident")[:40]]
    for share_all in (False, True):
        plan = {
            a: {"attend": "come", "share": np.flatnonzero(m.people.knows[a]).tolist() if share_all else []}
            for a in players
        }
        m.choose(plan)
        m.step()
        speech, room = m.flows.speech, m.flows.meeting
        seats = np.flatnonzero(np.isin(room, players))
        assert len(seats)
        if share_all:  # everything held is said by whoever had airtime (a voice weight above 0)
            heard = seats[m.flows.weights[seats] > 0]
            assert len(heard) and (speech.said[heard] == speech.held[heard]).all()
        else:
            assert (speech.said[seats] == 0).all()


@pytest.mark.parametrize("follow", [0.0, 1.0])
def test_officials_follow_the_room_as_far_as_they_choose(follow):
    m = city(7, design="top_down_consultation")
    m.choose({int(o): {"follow": follow} for o in C.candidates(m, "official")})
    for _ in range(3):
        m.step()
        assert m.flows.decision.deferring.all() if follow else not m.flows.decision.deferring.any()


@pytest.mark.parametrize("publish", [False, True])
def test_officials_decide_whether_the_reasons_are_published(publish):
    m = city(8)
    m.choose({int(o): {"publish": publish} for o in C.candidates(m, "official")})
    for _ in range(5):
        m.step()
        assert m.flows.decision.published is publish


def test_officials_who_put_need_first_tilt_the_allocation_to_need():
    def plan(agenda):
        return lambda m: {int(o): {"agenda": agenda} for o in C.candidates(m, "official")}

    # under the advisory rule the allocation follows the decision (a participatory budget's follows votes)
    usual = run(9, plan("usual"), months=1, design="top_down_consultation")
    need = run(9, plan("need"), months=1, design="top_down_consultation")
    neediest = int(np.argmax(usual.need))
    assert need.flows.decision.allocation[neediest] > usual.flows.decision.allocation[neediest]


def test_an_academic_who_facilitates_raises_the_month_s_facilitation_and_one_who_stays_out_is_absent():
    m = city(10, design="action_research_cooperative")
    designed = m.settings.design.facilitation
    academics = C.candidates(m, "academic")
    m.choose({int(academics[0]): {"act": "facilitate"}, int(academics[1]): {"act": "stay_out"}})
    m.step()
    assert m.people.taking_part[academics[0]]
    assert not m.people.taking_part[academics[1]]
    skill = m.people.skill[academics[0]]
    assert m.settings.design.facilitation > designed or skill == 0
    m.choose({})
    assert m.settings.design.facilitation == designed


def test_an_organiser_s_group_acts_on_the_theory_chosen():
    m = city(11)
    groups = C.candidates(m, "organiser")
    for act, theory in (
        ("mobilise", "structural"),
        ("experiment", "incremental"),
        ("coalition", "coalition"),
    ):
        m.choose({int(g): {"act": act} for g in groups})
        m.step()
        assert {C.THEORIES[t] for t in m.people.toc[groups]} == {theory}


def test_a_redesign_changes_the_rules_from_the_next_month():
    m = city(12, design="top_down_consultation")
    m.step()
    m.redesign(design="action_research_cooperative", theory="coalition")
    assert m.settings.design.decision_rule == "dissensus"
    assert m.settings.theory.kind == "coalition"
    m.step()
    with pytest.raises(ScenarioError):
        m.redesign(design="anarchy")


@pytest.mark.parametrize(
    "choice, words",
    [
        ({"view": 2}, "allowed: a number from 0 to 1"),
        ({"attend": "maybe"}, "allowed: come, stay_away"),
        ({"share": [10_000]}, "allowed: items it holds"),
        ({"follow": 0.5}, "has no choice 'follow'; allowed: attend, view, salience, share"),
        ({"view": True}, "allowed: a number from 0 to 1"),
    ],
)
def test_a_choice_not_allowed_is_one_line_naming_it(choice, words):
    m = city(1)
    a = int(C.candidates(m, "resident")[0])
    with pytest.raises(C.ChoiceError) as caught:
        m.choose({a: choice})
    message = str(caught.value)
    assert words in message and "\n" not in message and f"agent {a}" in message
    assert m.human is None


def test_what_an_agent_knows_is_its_own():
    m = city(13)
    m.step()
    a, b = (int(x) for x in C.candidates(m, "resident")[:2])
    seen = C.what_agent_knows(m, a)
    assert seen["agent"] == a and seen["district"] == int(m.people.district[a])
    assert [k["item"] for k in seen["knowledge"]] == np.flatnonzero(m.people.knows[a]).tolist()
    assert "last_decision" in seen and "you_were_there" in seen["last_decision"]
    # its own state only: nothing about another resident (b's view, its items) is in it
    assert seen["view"] == float(m.people.view[a]) != float(m.people.view[b])
    assert set(seen) == {
        "agent",
        "role",
        "month",
        "view",
        "salience",
        "theory",
        "capacity",
        "fatigue",
        "dropout_fatigue",
        "trust",
        "knowledge",
        "took_part",
        "district",
        "marginalised",
        "district_need",
        "benefits",
        "fair_share",
        "group",
        "last_decision",
    }
