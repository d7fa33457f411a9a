"""The outputs: eight progress markers, consensus bias and its components, three qualities, three risks.

All are computed from array state in one pass per step (:func:`measure`), each a float named exactly as
in DESIGN.md. Markers, qualities, risks and ``consensus_bias`` lie in [0, 1], higher meaning more of the
named thing. Formulas and sources are in docs/ODD.md ("Submodels: outputs"); each function below names
its source. Decision-level measures are smoothed over recent decisions with an exponentially weighted
mean (weight ``SMOOTHING`` on the newest month) so one small meeting does not swing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.convening import participation_cost
from model.inequality import gini, total_variation
from model.network import betweenness, ei_index, within_two_steps
from model.world import ACADEMIC, GROUP, N_THEORIES, OFFICIAL, RESIDENT

MARKERS = (
    "radical_change",
    "distribution",
    "discourse",
    "coordination",
    "capacity_networks",
    "transparency",
    "structure",
    "knowledge",
)
CONSENSUS = (
    "consensus_bias",
    "consensus_displacement",
    "marginalised_influence",
    "toc_attrition",
    "unwarranted_convergence",
)
QUALITIES = ("procedural_justice", "epistemic_justice", "distributive_justice")
RISKS = ("transaction_costs", "leadership_concentration", "lock_in")
OUTPUTS = MARKERS + CONSENSUS + QUALITIES + RISKS
SMOOTHING = 0.2
ACTIVE_MONTHS = 12  # residents who took part this recently belong to the governance network

# Plain-language meaning of each output, for the dashboard's info tips and the CLI (docs/ODD.md has formulas).
DESCRIPTIONS: dict[str, str] = {
    "radical_change": "How far residents and officials share a sense that radical change is needed: the "
    "harmonic mean of the shares of each who think more than half-way change is needed.",
    "distribution": "Fairness of who gets public spending once need is taken into account, and whether "
    "the money decided together goes where need is greatest.",
    "discourse": "How strongly officials and residents frame the city's problems as questions of justice "
    "and fairness.",
    "coordination": "How visible and linked initiatives are: groups within two steps of officials or "
    "academics, "
    "and experiments that cross sectors.",
    "capacity_networks": "Ties across sectors, the share of marginalised residents now within two steps of "
    "an official or academic (reach today, not the change since the start), and residents' skill, which "
    "grows by taking part.",
    "transparency": "Decisions published with their reasons, and how much of what officials know residents "
    "know too.",
    "structure": "Citizen power in the rules: citizens' weight in decisions, agenda setting and downward "
    "accountability, as a rung on Arnstein's ladder (1 to 8) divided by 8.",
    "knowledge": "Share of lay and community knowledge in the evidence heard before decisions.",
    "consensus_bias": "How far agreement came from dropping the views of the less powerful rather than from "
    "evidence: the mean of the four parts below (influence counted as the shortfall below a fair share).",
    "consensus_displacement": "Where decisions landed between marginalised residents' starting view (0) and "
    "officials' starting view (1).",
    "marginalised_influence": "Marginalised residents' share of the say in decisions divided by their share "
    "of all residents, officials and academics: 1 is a fair share, below 1 is less.",
    "toc_attrition": "Share of the theories of change held by at least 5% of people at the start that have "
    "fallen below 5%: different ideas of how change happens being lost.",
    "unwarranted_convergence": "Disagreement that meetings removed without bringing the group closer to what "
    "the city really needs.",
    "procedural_justice": "Whether those taking part mirror the city and have equal voice.",
    "epistemic_justice": "Whether lay knowledge is taken up and marginalised residents are believed.",
    "distributive_justice": "Whether benefits follow need and the costs of taking part fall fairly on "
    "deprived and other residents.",
    "transaction_costs": "Time, energy and emotional labour spent relative to people's capacity, and the "
    "money spent on the process itself.",
    "leadership_concentration": "How concentrated brokerage is in the governance network (Gini of "
    "betweenness): a few go-betweens holding everything together.",
    "lock_in": "Share of resources tied up in co-financed commitments that cannot easily be redirected.",
}
ATTRITION_LINE = 0.05


@dataclass
class Memory:
    """What the outputs remember between steps (baselines and smoothed decision-level measures)."""

    m0: float  # marginalised residents' mean initial view
    o0: float  # officials' mean initial view
    toc0: np.ndarray  # initial share of each theory of change
    position: float  # smoothed decided position
    meetings: int = 0  # meetings held so far (for the smoothing's warm-up)
    unwarranted: float = 0.0  # smoothed unwarranted convergence of meetings
    influence: float = 0.0  # smoothed marginalised influence ratio
    lay_evidence: float = 0.0  # smoothed count of lay items behind decisions
    all_evidence: float = 1.0  # smoothed count of all items behind decisions
    published: float = 0.0  # smoothed share of decisions published with rationale
    need_orientation: float = 0.5  # smoothed need orientation of decided allocations (0.5 per head)
    uptake: float = 0.0  # smoothed uptake of participants' lay knowledge
    credibility: float = 0.0  # smoothed credibility of marginalised participants
    representativeness: float = 0.0
    voice_equality: float = 0.0
    time_burden: float = 0.0
    money_burden: float = 0.0
    initiatives: list = field(default_factory=list)  # (experiments, cross-sector) for the last 12 months
    leadership: float = 0.0


def baseline(m) -> Memory:
    p = m.people
    actors = p.kind != GROUP
    res = p.kind == RESIDENT
    marg = p.marginalised
    officials = p.kind == OFFICIAL
    expert_items = float((~p.item_lay).sum())
    return Memory(
        m0=float(p.view0[marg].mean()) if marg.any() else float(p.view0[res].mean()),
        o0=float(p.view0[officials].mean()),
        toc0=np.bincount(p.toc[actors], minlength=N_THEORIES) / actors.sum(),
        position=float(p.view0[officials].mean()),
        all_evidence=max(expert_items, 1.0),
    )


def remember(m, decision, mentioned: np.ndarray, weights: np.ndarray, outcome) -> None:
    """Fold this month's meeting, decision and outcome into the memory."""
    mem, p = m.memory, m.people
    idx = m.meeting
    if len(idx):
        mem.meetings += 1
    # exponentially weighted, with the first meetings weighted fully (no drag from an arbitrary start)
    weight = max(SMOOTHING, 1.0 / max(mem.meetings, 1))

    def _ewma(old: float, new: float) -> float:
        return (1 - weight) * old + weight * new

    mem.position = _ewma(mem.position, decision.position)
    mem.need_orientation = _ewma(mem.need_orientation, need_orientation(decision.allocation, m))
    # Friedkin-Johnsen-style social power of the marginalised in the decision, per head of population
    marg_power = float(decision.power[p.marginalised[decision.power_idx]].sum())
    actors = p.kind != GROUP
    marg_share = p.marginalised[actors].mean()
    mem.influence = _ewma(mem.influence, marg_power / marg_share if marg_share > 0 else 1.0)
    if len(idx):
        mem.lay_evidence = _ewma(mem.lay_evidence, float(mentioned[p.item_lay].sum()))
        mem.all_evidence = _ewma(mem.all_evidence, float(mentioned.sum()))
        held_lay = p.knows[idx][:, p.item_lay].any(axis=0)
        if held_lay.any():
            mem.uptake = _ewma(mem.uptake, float(mentioned[p.item_lay][held_lay].mean()))
        marg = p.marginalised[idx]
        cred = float(weights[marg].mean() / weights.mean()) if marg.any() else 0.0
        mem.credibility = _ewma(mem.credibility, min(1.0, cred))
        residents = idx[p.kind[idx] == RESIDENT]
        strata = p.district * 2 + p.marginalised
        n_strata = 2 * m.n_districts
        r = m.n_residents
        rep = 1 - total_variation(
            np.bincount(strata[residents], minlength=n_strata), np.bincount(strata[:r], minlength=n_strata)
        )
        mem.representativeness = _ewma(mem.representativeness, rep)
        mem.voice_equality = _ewma(mem.voice_equality, 1 - gini(weights))
        s = m.scenario
        people = idx[p.kind[idx] != GROUP]
        cost = participation_cost(m)[people]
        burden = np.minimum(1.0, (cost + p.fatigue[people]) / p.capacity[people])
        mem.time_burden = _ewma(mem.time_burden, float(burden.mean()))
        mem.unwarranted = _ewma(
            mem.unwarranted, unwarranted_convergence(*m.meeting_views, s.context.needed_change)
        )
    mem.published = _ewma(mem.published, float(decision.published))
    spend = outcome.process_spend / max(outcome.decided_budget, 1.0)
    mem.money_burden = _ewma(mem.money_burden, min(1.0, spend))
    mem.initiatives = [*mem.initiatives[-11:], (outcome.experiments, outcome.cross_sector)]


def measure(m) -> dict[str, float]:
    """Every output, from the model's arrays and memory."""
    p, mem, s = m.people, m.memory, m.scenario
    res = p.kind == RESIDENT
    officials = p.kind == OFFICIAL
    actors = p.kind != GROUP
    r = m.n_residents
    out: dict[str, float] = {}

    # -- progress markers (Perry et al.'s eight markers of "more" just cities) ------------------------
    change_r = float(np.mean(p.view[res] > 0.5))
    change_o = float(np.mean(p.view[officials] > 0.5))
    out["radical_change"] = 2 * change_r * change_o / (change_r + change_o) if change_r + change_o else 0.0

    need_weighted = p.benefits[:r] / m.need[p.district[:r]]
    fairness = 1 - gini(need_weighted)
    marg = p.marginalised[:r]
    out["distribution"] = 0.5 * fairness + 0.5 * mem.need_orientation

    out["discourse"] = 0.5 * float(p.salience[officials].mean()) + 0.5 * float(p.salience[res].mean())

    # a group is visible when officials or academics are within two steps of it (through its members)
    experts = np.isin(p.kind, [OFFICIAL, ACADEMIC])
    reach_mask = within_two_steps(m.adjacency, experts)
    groups = p.kind == GROUP
    visible = float(reach_mask[groups].mean()) if groups.any() else 0.0
    tried = sum(e for e, _ in mem.initiatives)
    crossing = sum(c for _, c in mem.initiatives) / tried if tried else 0.0
    out["coordination"] = 0.5 * visible + 0.5 * crossing

    ei = ei_index(m.edges, p.kind)
    reach = float(reach_mask[:r][marg].mean()) if marg.any() else float(reach_mask[:r].mean())
    capability = float(p.skill[res].mean())
    out["capacity_networks"] = ((ei + 1) / 2 + reach + capability) / 3

    # share of items held, per head: residents are rows [0, r), officials the next n_officials rows
    items = p.knows.shape[1]
    known_r = np.count_nonzero(p.knows[:r]) / max(r * items, 1)
    known_o = np.count_nonzero(p.knows[r : r + m.n_officials]) / max(m.n_officials * items, 1)
    symmetry = min(1.0, known_r / max(known_o, 1e-9))
    out["transparency"] = 0.5 * mem.published + 0.5 * symmetry

    st = m.structure
    rung = 1 + 7 * (
        0.5 * st["citizen_weight"] + 0.25 * st["agenda_setting"] + 0.25 * st["downward_accountability"]
    )
    out["structure"] = rung / 8  # Arnstein (1969) rung 1-8, scaled

    out["knowledge"] = mem.lay_evidence / mem.all_evidence if mem.all_evidence > 0 else 0.0

    # -- consensus bias and its components ---------------------------------------------------------
    gap = mem.o0 - mem.m0
    displacement = (mem.position - mem.m0) / gap if abs(gap) > 1e-9 else 0.5
    out["consensus_displacement"] = float(np.clip(displacement, 0.0, 1.0))
    out["marginalised_influence"] = mem.influence
    toc_now = np.bincount(p.toc[actors], minlength=N_THEORIES) / actors.sum()
    held = mem.toc0 >= ATTRITION_LINE
    out["toc_attrition"] = float(np.mean(toc_now[held] < ATTRITION_LINE)) if held.any() else 0.0
    out["unwarranted_convergence"] = mem.unwarranted
    out["consensus_bias"] = float(
        np.mean(
            [
                out["consensus_displacement"],
                1 - min(1.0, out["marginalised_influence"]),
                out["toc_attrition"],
                out["unwarranted_convergence"],
            ]
        )
    )

    # -- qualities of just coproduction (procedural, epistemic, distributive) ----------------------
    out["procedural_justice"] = 0.5 * mem.representativeness + 0.5 * mem.voice_equality
    out["epistemic_justice"] = 0.5 * mem.uptake + 0.5 * mem.credibility
    taken = p.turns[:r] > 0
    load_m = p.burden[:r][marg & taken].sum() / max(p.turns[:r][marg & taken].sum(), 1)
    load_o = p.burden[:r][~marg & taken].sum() / max(p.turns[:r][~marg & taken].sum(), 1)
    cost_fairness = 1 - abs(load_m - load_o) / (load_m + load_o) if load_m + load_o > 0 else 1.0
    out["distributive_justice"] = 0.5 * fairness + 0.5 * cost_fairness

    # -- risks -----------------------------------------------------------------------------------------
    out["transaction_costs"] = 0.5 * mem.time_burden + 0.5 * mem.money_burden
    if m.steps % s.run.betweenness_interval == 0 or m.steps == 0:
        mem.leadership = leadership_concentration(m)
    out["leadership_concentration"] = mem.leadership
    out["lock_in"] = m.lock_in
    return {k: float(out[k]) for k in OUTPUTS}


def need_orientation(allocation: np.ndarray, m) -> float:
    """How far an allocation puts distribution on the table: need reached per unit spent relative to a
    per-head allocation, ``ratio / (1 + ratio)`` (0.5 per head, towards 1 when money follows need)."""
    per_head = m.district_population / m.district_population.sum()
    ratio = float(allocation @ m.need) / float(per_head @ m.need)
    return ratio / (1 + ratio)


def unwarranted_convergence(before: np.ndarray, after: np.ndarray, truth: float) -> float:
    """Diversity a meeting lost that did not buy a smaller collective error (Lorenz et al. 2011).

    With diversity D (variance of views) and collective error E ((mean view - truth)^2), the diversity
    prediction theorem says mean individual error = E + D. Convergence is warranted when the lost
    diversity reduced the collective error; the unwarranted part is ``max(0, lost D - gained E) / D_before``.
    """
    d0 = float(before.var())
    if len(before) < 2 or d0 <= 0:
        return 0.0
    lost = max(0.0, d0 - float(after.var()))
    gained = max(0.0, (before.mean() - truth) ** 2 - (after.mean() - truth) ** 2)
    return float(np.clip((lost - gained) / d0, 0.0, 1.0))


def leadership_concentration(m) -> float:
    """Gini of betweenness (Freeman 1977; Brandes-Pich sampled estimate) over the governance network:
    officials, academics, groups and the residents who took part in the last ``ACTIVE_MONTHS``."""
    p = m.people
    active = (p.last_turn >= 0) & (m.steps - p.last_turn < ACTIVE_MONTHS)
    nodes = np.flatnonzero((p.kind != RESIDENT) | active)
    if len(nodes) < 3:
        return 0.0
    bc = betweenness(m.edges, nodes, m.scenario.run.betweenness_samples, m.measure_rng)
    return gini(bc)
