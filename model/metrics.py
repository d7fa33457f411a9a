"""The outputs: eight progress markers, consensus bias and its components, three qualities, three risks,
and the signatures of the theories of change (the five levers, who holds each theory, whether each theory's
condition holds, the programme theory's effort, theory diversity).

Every output is measured from what happened: the actors' state, the network, and the record of this
month's meeting, decision and spending (:class:`model.state.Flows`): who came, who spoke and was believed,
who held the say, where the money went. None reads back a parameter. Each is a float named exactly as in
DESIGN.md; markers, qualities, risks and ``consensus_bias`` lie in [0, 1], higher meaning more of the named
thing. Formulas and sources are in docs/ODD.md (7.9); each function below names its source.

Meeting-level measures are smoothed over recent months with an exponentially weighted mean (weight
``run.smoothing`` on the newest month) so one small meeting does not swing them. **Month 0** is the city
before the programme, measured by the same formulas on a *pilot meeting*: the design's seats filled at
random (residents, officials, academics), under the status-quo structure, its exchange of views and
knowledge drawn from the measurement generator on copies, its decision in expectation (:func:`baseline`).
So no output jumps at month 1 merely because nothing had happened yet, and the smoothing starts from there.
Measurement never writes model state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from coprod.model.convening import participation_cost, seats, stubbornness, voice_weights
from coprod.model.deliberation import deffuant
from coprod.model.inequality import gini, total_variation
from coprod.model.kinds import (
    ACADEMIC,
    GROUP,
    N_KINDS,
    N_THEORIES,
    OFFICIAL,
    RESIDENT,
    THEORIES,
    THEORY_INDEX,
)
from coprod.model.knowledge import Speech, speak
from coprod.model.mobilisation import actor_effort, theory_effort
from coprod.model.network import betweenness, ei_index, within_two_steps
from coprod.model.restructuring import LEVERS

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
LEVER_OUTPUTS = tuple(f"lever_{lever}" for lever in LEVERS)
HOLDER_OUTPUTS = tuple(f"holders_{theory}" for theory in THEORIES)
CONDITION_OUTPUTS = tuple(f"condition_{theory}" for theory in THEORIES)
SIGNATURES = LEVER_OUTPUTS + HOLDER_OUTPUTS + CONDITION_OUTPUTS + ("programme_effort", "theory_diversity")
OUTPUTS = MARKERS + CONSENSUS + QUALITIES + RISKS + SIGNATURES

# Plain-language meaning of each output, for the dashboard's info tips and the CLI (docs/ODD.md has formulas).
RUNGS = 8  # Arnstein's (1969) ladder of citizen participation has eight rungs

DESCRIPTIONS: dict[str, str] = {
    "radical_change": "How far residents and officials share a sense that radical change is needed: the "
    "harmonic mean of the shares of each who think more than half-way change is needed.",
    "distribution": "Fairness of who gets public spending once need is taken into account, and whether "
    "the money decided together goes where need is greatest.",
    "discourse": "How strongly officials and residents frame the city's problems as questions of justice "
    "and fairness.",
    "coordination": "Share of the people active in governance (officials, academics, groups and residents "
    "who took part this year) with a tie to an active person of another sector: efforts linked across "
    "sectors rather than scattered.",
    "capacity_networks": "Ties across sectors, the share of marginalised residents now within two steps of "
    "an official or academic (reach today, not the change since the start), and residents' skill, which "
    "grows by taking part.",
    "transparency": "Decisions published with their reasons, and how much of what officials know residents "
    "know too.",
    "structure": "Citizens' realised power over decisions: the share of the say citizens actually held, "
    "including officials who deferred to them, as a rung on Arnstein's ladder (1 to 8) divided by 8.",
    "knowledge": "Share of lay and community knowledge in the evidence base: what was believed in meetings "
    "and is not yet out of date.",
    "consensus_bias": "How far agreement came from dropping the views of the less powerful rather than from "
    "evidence: the mean of the four parts below (influence counted as the shortfall below a fair share).",
    "consensus_displacement": "Where decisions landed between marginalised residents' starting view (0) and "
    "officials' starting view (1).",
    "marginalised_influence": "Marginalised residents' share of the say in decisions divided by their share "
    "of all residents, officials and academics: 1 is a fair share, below 1 is less.",
    "toc_attrition": "Diversity of theories of change lost among the people taking part this year, against "
    "the city's diversity at the start (1 minus the ratio of their entropies): different ideas of how "
    "change happens being lost.",
    "unwarranted_convergence": "Disagreement that meetings removed without bringing the group closer to what "
    "the city really needs.",
    "procedural_justice": "Whether those taking part mirror the city and got an equal hearing: how evenly "
    "participants actually spoke up with what they knew.",
    "epistemic_justice": "Whether the lay knowledge in the room was taken up, and whether what marginalised "
    "residents said was believed as often as what others said.",
    "distributive_justice": "Whether benefits follow need and the costs of taking part fall fairly on "
    "deprived and other residents.",
    "transaction_costs": "Time, energy and emotional labour spent relative to people's capacity, and the "
    "money spent on the process itself.",
    "leadership_concentration": "How concentrated brokerage is in the governance network (Gini of "
    "betweenness): a few go-betweens holding everything together.",
    "lock_in": "Share of the money in play this month already bound by earlier commitments (decided but not "
    "yet delivered, or tied to partners' co-financing), which this month's decision cannot redirect.",
    "lever_citizen_weight": "Governance lever: citizens' formal share of the say in decisions (the rules). "
    "Moved only by actors acting on their theories of change; pulled back by inertia.",
    "lever_agenda_setting": "Governance lever: how far citizens set the agenda (what gets decided, and "
    "where money is tilted). Moved only by actors acting on their theories of change; pulled back by "
    "inertia.",
    "lever_transparency": "Governance lever: the chance a decision is published with its reasons (the "
    "disclosure rules). Moved only by actors acting on their theories of change; pulled back by inertia.",
    "lever_downward_accountability": "Governance lever: the rule officials' orientation follows, answering "
    "down to citizens rather than up the hierarchy. Moved only by actors acting on their theories of "
    "change; pulled back by inertia.",
    "lever_co_financing": "Governance lever: partners' money in the decided pot per pound of public money. "
    "Moved only by actors acting on their theories of change; pulled back by inertia.",
    "holders_incremental": "Share of residents, officials and academics who hold the theory of change "
    "'incremental experiments'.",
    "holders_structural": "Share of residents, officials and academics who hold the theory of change "
    "'structural change'.",
    "holders_knowledge": "Share of residents, officials and academics who hold the theory of change "
    "'knowledge-led change'.",
    "holders_coalition": "Share of residents, officials and academics who hold the theory of change "
    "'coalition building'.",
    "condition_incremental": "How far incremental change works here: officials' adoption of practices from "
    "successful experiments, against the share at which practice becomes the rule (1: it works).",
    "condition_structural": "How far structural change works here: the committed minority (holders of the "
    "structural theory who back change and frame it as justice) against the tipping share (1: tipped).",
    "condition_knowledge": "How far knowledge-led change works here: how well the evidence base mixes lay "
    "and expert knowledge, times how much of it officials hold, against the threshold (1: it works).",
    "condition_coalition": "How far coalition building works here: the cross-sector strength of the largest "
    "connected set of actors backing change, against the share needed (1: the coalition is large enough).",
    "programme_effort": "The programme's theory's share of all the effort actors have spent acting on "
    "theories of change so far (person-months, cumulative): how much of the city's work went the way the "
    "programme funds.",
    "theory_diversity": "Diversity of the theories of change held by residents, officials and academics "
    "(entropy over the four theories, 1 when all are held equally, 0 when one theory is held by all).",
}


@dataclass
class Memory:
    """What the outputs remember between steps (baselines and smoothed meeting-level measures)."""

    m0: float  # marginalised residents' mean initial view
    o0: float  # officials' mean initial view
    entropy0: float  # entropy of the theories of change held by all actors at the start
    position: float  # smoothed decided position
    influence: float  # smoothed marginalised say per head
    power: float  # smoothed citizens' share of the say
    need_orientation: float  # smoothed need orientation of decided allocations
    spend: np.ndarray  # smoothed spending per head by district (GBP per month)
    representativeness: float
    voice_equality: float
    uptake: float  # smoothed share of the lay items present that were believed
    credibility: float  # smoothed belief in marginalised speakers relative to others
    time_burden: float
    money_burden: float
    published: float
    unwarranted: float  # smoothed unwarranted convergence of meetings
    pilot: np.ndarray  # the pilot meeting's participants (month 0's room)
    programme_effort: float  # cumulative effort share on the programme's theory
    total_effort: float  # cumulative effort share on every theory
    leadership: float = 0.0


def baseline(m) -> Memory:
    """Month 0: the status quo measured on a pilot meeting (see the module docstring)."""
    p, s = m.people, m.settings
    rng = m.measure_rng
    room = pilot_room(m, rng)
    weights = voice_weights(m, room)
    speech = speak(m, room, weights, rng)
    before = p.view[room]
    after = before
    if len(room) >= 2:
        dl = s.deliberation
        after = deffuant(
            before,
            threshold=min(1.0, dl.confidence * (1 + s.design.facilitation)),
            convergence=dl.convergence,
            interactions=dl.rounds * len(room) // 2,
            rng=rng,
            weights=weights,
            stubbornness=1 - (1 - stubbornness(m, room)) ** (1 / dl.rounds),
            anchors=p.view0[room],
        )
    officials = p.kind == OFFICIAL
    on_citizen_side = p.kind[room] != OFFICIAL
    citizens = room[on_citizen_side]
    c_weights = weights[on_citizen_side]
    total = c_weights.sum()
    c_share = c_weights / total if total > 0 else np.full(len(citizens), 1 / max(len(citizens), 1))
    cw = s.structure.citizen_weight
    say = cw + (1 - cw) * float(np.mean(p.accountability[officials] * p.trust[officials, RESIDENT]))
    say = say if len(citizens) else 0.0
    recommendation = float(c_share @ p.view[citizens]) if len(citizens) else 0.0
    marg_say = say * float(c_share[p.marginalised[citizens]].sum())
    people = room[p.kind[room] != GROUP]
    burden = np.minimum(1.0, (participation_cost(m)[people] + p.fatigue[people]) / p.capacity[people])
    pot = s.design.budget_share * s.resources.budget * (1 + s.structure.co_financing)
    residents = int((p.kind[room] == RESIDENT).sum())
    process = s.design.stipend * s.resources.stipend_amount * residents
    process += s.design.facilitation * s.resources.facilitation_cost * (residents > 0)
    marg = p.marginalised
    effort = theory_effort(m, actor_effort(m))  # what actors could put in before the programme
    return Memory(
        m0=float(p.view0[marg].mean()) if marg.any() else float(p.view0[p.kind == RESIDENT].mean()),
        o0=float(p.view0[officials].mean()),
        entropy0=entropy(p.toc[p.kind != GROUP]),
        position=say * recommendation + (1 - say) * float(p.view[officials].mean()),
        influence=marg_say / _marginalised_share(p),
        power=say,
        need_orientation=need_orientation(m.status_quo, m),
        spend=m.status_quo * s.resources.budget / np.maximum(m.district_population, 1),
        representativeness=representativeness(m, room),
        voice_equality=voice_equality(speech),
        uptake=uptake(m, speech),
        credibility=_or(believed_parity(m, room, speech), 1.0),
        time_burden=float(burden.mean()) if len(people) else 0.0,
        money_burden=min(1.0, process / pot) if pot > 0 else 0.0,
        published=s.structure.transparency,
        unwarranted=unwarranted_convergence(before, after, s.context.needed_change),
        pilot=room,
        programme_effort=float(effort[THEORY_INDEX[s.theory.kind.value]]),
        total_effort=float(effort.sum()),
    )


def pilot_room(m, rng: np.random.Generator) -> np.ndarray:
    """The design's seats filled at random: residents, officials, academics and groups."""
    p = m.people
    n_off, n_acad, n_groups = seats(m)
    wanted = (
        (RESIDENT, m.settings.design.participants),
        (OFFICIAL, n_off),
        (ACADEMIC, n_acad),
        (GROUP, n_groups),
    )
    parts = []
    for kind, k in wanted:
        members = np.flatnonzero(p.kind == kind)
        parts.append(rng.choice(members, size=min(k, len(members)), replace=False))
    return np.sort(np.concatenate(parts))


def representativeness(m, idx: np.ndarray) -> float:
    """1 - total variation distance between the residents present and all residents, over district and
    deprivation strata (Fung 2006: who takes part)."""
    p = m.people
    r = m.n_residents
    residents = idx[p.kind[idx] == RESIDENT]
    strata = p.district[:r] * 2 + p.marginalised[:r]
    n_strata = 2 * m.n_districts
    present = np.bincount(strata[residents], minlength=n_strata)
    return 1 - total_variation(present, np.bincount(strata, minlength=n_strata))


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def remember(m) -> None:
    """Fold this month's meeting, decision and spending into the memory."""
    mem, p, s, flows = m.memory, m.people, m.settings, m.flows
    idx, decision, outcome, speech = flows.meeting, flows.decision, flows.outcome, flows.speech
    weight = s.run.smoothing

    def _ewma(old, new):
        return (1 - weight) * old + weight * new

    mem.position = _ewma(mem.position, decision.position)
    mem.need_orientation = _ewma(mem.need_orientation, need_orientation(decision.allocation, m))
    r = m.n_residents
    spend = np.bincount(p.district[:r], weights=p.benefits[:r], minlength=m.n_districts)
    mem.spend = _ewma(mem.spend, spend / np.maximum(m.district_population, 1))
    # Friedkin-Johnsen-style social power in the decision itself
    marg_power = float(decision.power[p.marginalised[decision.power_idx]].sum())
    mem.influence = _ewma(mem.influence, marg_power / _marginalised_share(p))
    mem.power = _ewma(mem.power, float(decision.power[p.kind[decision.power_idx] != OFFICIAL].sum()))
    if len(idx):
        mem.representativeness = _ewma(mem.representativeness, representativeness(m, idx))
        if speech.held.any():
            mem.voice_equality = _ewma(mem.voice_equality, voice_equality(speech))
        if speech.lay_held.any():
            mem.uptake = _ewma(mem.uptake, uptake(m, speech))
        parity = believed_parity(m, idx, speech)
        if parity is not None:
            mem.credibility = _ewma(mem.credibility, parity)
        people = idx[p.kind[idx] != GROUP]
        cost = participation_cost(m)[people]
        if len(people):  # a room of groups alone (everyone else too tired to come) has no time burden
            burden = np.minimum(1.0, (cost + p.fatigue[people]) / p.capacity[people])
            mem.time_burden = _ewma(mem.time_burden, float(burden.mean()))
        convergence = unwarranted_convergence(flows.views_before, flows.views_after, s.context.needed_change)
        mem.unwarranted = _ewma(mem.unwarranted, convergence)
    mem.published = _ewma(mem.published, float(decision.published))
    process = outcome.process_spend / max(outcome.decided_budget, 1.0)
    mem.money_burden = _ewma(mem.money_burden, min(1.0, process))
    mem.programme_effort += float(flows.theory_effort[THEORY_INDEX[s.theory.kind.value]])
    mem.total_effort += float(flows.theory_effort.sum())


def measure(m) -> dict[str, float]:
    """Every output, from the model's arrays, flows and memory."""
    p, mem, s = m.people, m.memory, m.settings
    res = p.kind == RESIDENT
    officials = p.kind == OFFICIAL
    people = p.kind != GROUP
    line = s.behaviour.support_line
    r = m.n_residents
    out: dict[str, float] = {}

    # -- progress markers (Perry et al.'s eight markers of "more" just cities) ------------------------
    change_r = float(np.mean(p.view[res] > line))
    change_o = float(np.mean(p.view[officials] > line))
    out["radical_change"] = 2 * change_r * change_o / (change_r + change_o) if change_r + change_o else 0.0

    fairness = 1 - gini((mem.spend / m.need)[p.district[:r]])
    out["distribution"] = composite(fairness, mem.need_orientation)

    out["discourse"] = composite(float(p.salience[officials].mean()), float(p.salience[res].mean()))

    out["coordination"] = cross_sector_linked(m)

    experts = np.isin(p.kind, [OFFICIAL, ACADEMIC])
    reach_mask = within_two_steps(m.adjacency, experts)
    marg = p.marginalised[:r]
    ei = ei_index(m.edges, p.kind)
    reach = float(reach_mask[:r][marg].mean()) if marg.any() else float(reach_mask[:r].mean())
    capability = float(p.skill[res].mean())
    out["capacity_networks"] = composite((ei + 1) / 2, reach, capability)

    # share of items held, per head: residents are rows [0, r), officials the next n_officials rows
    items = p.knows.shape[1]
    known_r = np.count_nonzero(p.knows[:r]) / max(r * items, 1)
    known_o = np.count_nonzero(p.knows[r : r + m.n_officials]) / max(m.n_officials * items, 1)
    symmetry = min(1.0, known_r / known_o) if known_o > 0 else 1.0
    out["transparency"] = composite(mem.published, symmetry)

    out["structure"] = arnstein_rung(mem.power) / RUNGS

    base = p.in_evidence
    out["knowledge"] = float(p.item_lay[base].mean()) if base.any() else 0.0

    # -- consensus bias and its components ---------------------------------------------------------
    gap = mem.o0 - mem.m0
    displacement = (mem.position - mem.m0) / gap if gap != 0 else 0.5
    out["consensus_displacement"] = float(np.clip(displacement, 0.0, 1.0))
    out["marginalised_influence"] = mem.influence
    took_part = people & (p.last_turn >= 0) & (m.steps - p.last_turn < s.run.active_months)
    held_now = entropy(p.toc[took_part]) if took_part.any() else mem.entropy0
    lost = (mem.entropy0 - held_now) / mem.entropy0 if mem.entropy0 > 0 else 0.0
    out["toc_attrition"] = float(np.clip(lost, 0.0, 1.0))
    out["unwarranted_convergence"] = mem.unwarranted
    out["consensus_bias"] = composite(
        out["consensus_displacement"],
        1 - min(1.0, out["marginalised_influence"]),
        out["toc_attrition"],
        out["unwarranted_convergence"],
    )

    # -- qualities of just coproduction (procedural, epistemic, distributive) ----------------------
    out["procedural_justice"] = composite(mem.representativeness, mem.voice_equality)
    out["epistemic_justice"] = composite(mem.uptake, mem.credibility)
    taken = p.turns[:r] > 0
    load_m = p.burden[:r][marg & taken].sum() / max(p.turns[:r][marg & taken].sum(), 1)
    load_o = p.burden[:r][~marg & taken].sum() / max(p.turns[:r][~marg & taken].sum(), 1)
    cost_fairness = 1 - abs(load_m - load_o) / (load_m + load_o) if load_m + load_o > 0 else 1.0
    out["distributive_justice"] = composite(fairness, cost_fairness)

    # -- risks -----------------------------------------------------------------------------------------
    out["transaction_costs"] = composite(mem.time_burden, mem.money_burden)
    out["leadership_concentration"] = mem.leadership  # estimated every run.betweenness_interval months
    out["lock_in"] = lock_in(m)

    # -- signatures of the theories of change ---------------------------------------------------------
    for lever in LEVERS:
        out[f"lever_{lever}"] = m.structure[lever]
    held = np.bincount(p.toc[people], minlength=N_THEORIES) / max(int(people.sum()), 1)
    for theory, share in zip(THEORIES, held, strict=True):
        out[f"holders_{theory}"] = share
    for theory, ready in zip(THEORIES, m.flows.readiness, strict=True):
        out[f"condition_{theory}"] = ready
    out["programme_effort"] = mem.programme_effort / mem.total_effort if mem.total_effort > 0 else 0.0
    out["theory_diversity"] = entropy(p.toc[people]) / np.log(N_THEORIES)
    return {k: float(out[k]) for k in OUTPUTS}


def composite(*parts: float) -> float:
    """An index of equally weighted parts (equal weights: an assumption, stated in ODD 7.9)."""
    return float(np.mean(parts))


def arnstein_rung(power: float) -> float:
    """Arnstein's (1969) ladder, rung 1 (manipulation) to 8 (citizen control), read linearly off citizens'
    realised share of the say (an assumption: the ladder is ordinal)."""
    return 1 + (RUNGS - 1) * min(max(power, 0.0), 1.0)  # a share summed from floats can pass 1 by 1e-16


def lock_in(m) -> float:
    """Share of the money in play bound by earlier commitments: ``bound / (bound + committed now)``, from
    the delivery pipeline (:func:`model.initiatives.deliver`); at month 0 the status quo's own pipeline."""
    outcome = m.flows.outcome
    if outcome is None:
        bound = float(m.flows.pipeline.sum() + m.flows.partner_pipeline.sum())
        fresh = m.settings.design.budget_share * m.settings.resources.budget
    else:
        bound, fresh = outcome.bound, outcome.committed
    return bound / (bound + fresh) if bound + fresh > 0 else 0.0


def entropy(theories: np.ndarray) -> float:
    """Shannon entropy (nats) of the theories of change held (Shannon 1948)."""
    share = np.bincount(theories, minlength=N_THEORIES) / max(len(theories), 1)
    share = share[share > 0]
    return float(-(share * np.log(share)).sum())


def voice_equality(speech: Speech) -> float:
    """1 - Gini of participants' speaking rates (items brought up per item held), over those who held any:
    an equal hearing is everyone saying as much of what they know."""
    held = speech.held > 0
    if not held.any():
        return 1.0
    return 1 - gini(speech.said[held] / speech.held[held])


def uptake(m, speech: Speech) -> float:
    """Share of the lay items someone present held that the room believed."""
    lay_believed = speech.believed[m.people.item_lay]
    return float(lay_believed[speech.lay_held].mean()) if speech.lay_held.any() else 0.0


def believed_parity(m, idx: np.ndarray, speech: Speech) -> float | None:
    """How often marginalised speakers were believed relative to others: the ratio of the shares of their
    mentions believed, at most 1; ``None`` when either side said nothing."""
    marg = m.people.marginalised[idx]
    said_m, said_o = speech.said[marg].sum(), speech.said[~marg].sum()
    if said_m == 0 or said_o == 0:
        return None
    rate_m = speech.believed_said[marg].sum() / said_m
    rate_o = speech.believed_said[~marg].sum() / said_o
    return float(min(1.0, rate_m / rate_o)) if rate_o > 0 else 1.0


def cross_sector_linked(m) -> float:
    """Share of the governance network (:func:`_active`) with a tie to an active actor of another kind:
    initiatives visible to and linked with other sectors (strategic alliances, networks, platforms)."""
    p = m.people
    active = _active(m)
    kinds = (p.kind[:, None] == np.arange(N_KINDS)[None, :]) & active[:, None]
    contacts = m.adjacency @ kinds.astype(float)  # active contacts of each kind
    other = contacts.sum(axis=1) - contacts[np.arange(p.n), p.kind]
    return float(np.mean(other[active] > 0))


def _marginalised_share(p) -> float:
    actors = p.kind != GROUP
    share = float(p.marginalised[actors].mean())
    return share if share > 0 else 1.0


def _active(m) -> np.ndarray:
    """The governance network: officials, academics, groups and residents who took part recently (at
    month 0, the pilot meeting's residents)."""
    p = m.people
    recent = (p.last_turn >= 0) & (m.steps - p.last_turn < m.settings.run.active_months)
    if m.steps == 0:
        recent = np.isin(np.arange(p.n), m.memory.pilot)
    return (p.kind != RESIDENT) | recent


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
    officials, academics, groups and the residents who took part in the last ``run.active_months``."""
    nodes = np.flatnonzero(_active(m))
    if len(nodes) < 3:
        return 0.0
    bc = betweenness(m.edges, nodes, m.settings.run.betweenness_samples, m.measure_rng)
    return gini(bc)
