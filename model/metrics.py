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
from coprod.model.inequality import gini, jackknife_gini, total_variation
from coprod.model.jit import kernel
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
from coprod.model.network import ei_index, pivot_dependencies, within_two_steps
from coprod.model.restructuring import LEVERS

# pivot groups of the jackknife that corrects the sampled betweenness Gini (leadership_concentration).
# Assumption: the grouped jackknife's correction barely depends on it: on the default city at 1,000
# residents, 4, 8, 16 and 64 groups of the 64 pivots left biases within 0.002 of each other (ODD 7.9)
JACKKNIFE_GROUPS = 8

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
    """Fold this month's meeting, decision and spending into the memory (:func:`_plain_remember` spells
    out each reading; :func:`_readings` takes them all in one pass, rounding every sum as numpy does)."""
    mem, p, s, flows = m.memory, m.people, m.settings, m.flows
    idx, decision, outcome, speech = flows.meeting, flows.decision, flows.outcome, flows.speech
    weight = s.run.smoothing
    d = s.design

    def _ewma(old, new):
        return (1 - weight) * old + weight * new

    meeting = len(idx) > 0
    (
        mem.spend,
        marg_power,
        citizen_power,
        marg_share,
        represented,
        voice,
        taken_up,
        parity,
        burden,
        d0,
        d1,
        mean0,
        mean1,
    ) = _readings(
        p.district,
        p.marginalised,
        p.kind,
        p.benefits,
        p.fatigue,
        p.capacity,
        p.item_lay,
        m.n_residents,
        m.district_population,
        mem.spend,
        float(weight),
        decision.power,
        decision.power_idx,
        idx,
        speech.held if meeting else _NO_INTS,
        speech.said if meeting else _NO_INTS,
        speech.believed_said if meeting else _NO_INTS,
        speech.lay_held if meeting else _NO_BOOLS,
        speech.believed if meeting else _NO_BOOLS,
        float(d.participation_cost * (1.0 - d.stipend)),  # participation_cost's two values
        float(d.participation_cost),
        flows.views_before if meeting else _NO_FLOATS,
        flows.views_after if meeting else _NO_FLOATS,
    )
    mem.position = _ewma(mem.position, decision.position)
    mem.need_orientation = _ewma(mem.need_orientation, need_orientation(decision.allocation, m))
    mem.influence = _ewma(mem.influence, marg_power / marg_share)
    mem.power = _ewma(mem.power, citizen_power)
    if meeting:
        mem.representativeness = _ewma(mem.representativeness, represented)
        if voice == voice:  # NaN: nobody held anything
            mem.voice_equality = _ewma(mem.voice_equality, voice)
        if taken_up == taken_up:
            mem.uptake = _ewma(mem.uptake, taken_up)
        if parity == parity:
            mem.credibility = _ewma(mem.credibility, parity)
        if burden == burden:
            mem.time_burden = _ewma(mem.time_burden, burden)
        mem.unwarranted = _ewma(mem.unwarranted, _unwarranted(d0, d1, mean0, mean1, s.context.needed_change))
    mem.published = _ewma(mem.published, float(decision.published))
    process = outcome.process_spend / max(outcome.decided_budget, 1.0)
    mem.money_burden = _ewma(mem.money_burden, min(1.0, process))
    mem.programme_effort += float(flows.theory_effort[THEORY_INDEX[s.theory.kind.value]])
    mem.total_effort += float(flows.theory_effort.sum())


def _plain_remember(m) -> None:
    """:func:`remember` in numpy, reading by reading: the reference its kernel is tested against."""
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
    change_r = _share(p.view[res] > line)
    change_o = _share(p.view[officials] > line)
    out["radical_change"] = 2 * change_r * change_o / (change_r + change_o) if change_r + change_o else 0.0

    fairness = 1 - gini((mem.spend / m.need)[p.district[:r]])
    out["distribution"] = composite(fairness, mem.need_orientation)

    out["discourse"] = composite(float(p.salience[officials].mean()), float(p.salience[res].mean()))

    out["coordination"] = cross_sector_linked(m)

    experts = (p.kind == OFFICIAL) | (p.kind == ACADEMIC)
    reach_mask = within_two_steps(m.adjacency, experts)
    marg = p.marginalised[:r]
    ei = ei_index(m.edges, p.kind)
    reach = _share(reach_mask[:r][marg]) if marg.any() else _share(reach_mask[:r])
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
    out["knowledge"] = _share(p.item_lay[base]) if base.any() else 0.0

    # -- consensus bias and its components ---------------------------------------------------------
    gap = mem.o0 - mem.m0
    displacement = (mem.position - mem.m0) / gap if gap != 0 else 0.5
    out["consensus_displacement"] = min(max(displacement, 0.0), 1.0)
    out["marginalised_influence"] = mem.influence
    took_part = people & (p.last_turn >= 0) & (m.steps - p.last_turn < s.run.active_months)
    held_now = entropy(p.toc[took_part]) if took_part.any() else mem.entropy0
    lost = (mem.entropy0 - held_now) / mem.entropy0 if mem.entropy0 > 0 else 0.0
    out["toc_attrition"] = min(max(lost, 0.0), 1.0)
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
    if len(parts) >= _UNROLL:  # numpy sums eight terms or more pairwise
        return float(np.mean(parts))
    total = 0.0  # fewer one by one from zero, as np.mean does (Python's sum compensates its rounding)
    for part in parts:
        total += part
    return float(total / len(parts))


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
    initiatives visible to and linked with other sectors (strategic alliances, networks, platforms).
    One pass over the active actors' ties (:func:`_plain_cross_sector_linked`: a sparse product)."""
    p, adj = m.people, m.adjacency
    linked, active = _cross_linked(adj.indptr, adj.indices, adj.data, p.kind, _active(m), N_KINDS)
    return linked / active if active else np.nan


def _plain_cross_sector_linked(m) -> float:
    """:func:`cross_sector_linked` in numpy: each actor's active contacts of each kind, a sparse product."""
    p = m.people
    active = _active(m)
    kinds = (p.kind[:, None] == np.arange(N_KINDS)[None, :]) & active[:, None]
    contacts = m.adjacency @ kinds.astype(float)  # active contacts of each kind
    other = contacts.sum(axis=1) - contacts[np.arange(p.n), p.kind]
    return _share(other[active] > 0)


def _share(mask: np.ndarray) -> float:
    """``float(np.mean(mask))`` of a boolean mask, counted (its sum of ones is exact either way)."""
    return np.count_nonzero(mask) / mask.size if mask.size else np.nan


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
    return _unwarranted(d0, float(after.var()), float(before.mean()), float(after.mean()), truth)


def _unwarranted(d0: float, d1: float, mean0: float, mean1: float, truth: float) -> float:
    """:func:`unwarranted_convergence` from the views' variances and means before (0) and after (1)."""
    if d0 <= 0:  # one view, or all the same
        return 0.0
    lost = max(0.0, d0 - d1)
    gained = max(0.0, (mean0 - truth) ** 2 - (mean1 - truth) ** 2)  # ** as numpy's scalars: libm's pow
    return min(max((lost - gained) / d0, 0.0), 1.0)


def leadership_concentration(m) -> float:
    """Gini of betweenness (Freeman 1977; Brandes-Pich sampled estimate) over the governance network:
    officials, academics, groups and the residents who took part in the last ``run.active_months``.
    Exact when the sample covers every node; otherwise the jackknife over pivot groups corrects the
    sampling's upward bias (:func:`model.inequality.jackknife_gini`, :data:`JACKKNIFE_GROUPS`)."""
    nodes = np.flatnonzero(_active(m))
    if len(nodes) < 3:
        return 0.0
    per_pivot = pivot_dependencies(m.edges, nodes, m.settings.run.betweenness_samples, m.measure_rng)
    if per_pivot.shape[1] >= len(nodes):  # every node a pivot: the exact betweenness
        return gini(per_pivot.sum(axis=1, dtype=np.float64))
    return jackknife_gini(per_pivot, min(JACKKNIFE_GROUPS, per_pivot.shape[1]))


# -- the month's readings in one pass (issue 18) ----------------------------------------------------------
_OFFICIAL, _RESIDENT, _GROUP = int(OFFICIAL), int(RESIDENT), int(GROUP)  # for the kernels
_NO_INTS = np.zeros(0, dtype=np.int64)
_NO_BOOLS = np.zeros(0, dtype=bool)
_NO_FLOATS = np.zeros(0)


# numpy sums floats pairwise (numpy/_core/src/umath/loops_utils.h.src): under a block of eight terms one by
# one, up to 128 terms in eight running sums added as a tree, above that two halves (cut at a multiple of
# eight) summed apart. The kernels here sum so (copied from :mod:`model.initiatives`:
# numba's cache does not follow a kernel into another module), so that every output stays the same.
_UNROLL = 8
_BLOCK = 128


@kernel
def _pairwise_block(a, lo, n):
    """numpy's sum of at most a block of terms ``a[lo:lo + n]``."""
    if n < _UNROLL:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r = a[lo : lo + _UNROLL].copy()
    i = _UNROLL
    while i < n - n % _UNROLL:
        for j in range(_UNROLL):
            r[j] += a[lo + i + j]
        i += _UNROLL
    step = 1  # the running sums added as a tree: ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while step < _UNROLL:
        for j in range(0, _UNROLL, 2 * step):
            r[j] += r[j + step]
        step *= 2
    res = r[0]
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@kernel
def _numpy_sum(a, lo, n):
    """``a[lo:lo + n].sum()`` rounded as numpy rounds it (float64, contiguous): numpy's recursion into
    halves, walked with a stack (a recursive kernel cannot be cached)."""
    if n <= _BLOCK:
        return _pairwise_block(a, lo, n)
    depth = 1  # frames on the stack: neither half holds more than size // 2 + _UNROLL terms
    size = n
    while size > _BLOCK:
        size = size // 2 + _UNROLL
        depth += 1
    starts = np.empty(depth, dtype=np.int64)
    sizes = np.empty(depth, dtype=np.int64)
    stage = np.zeros(depth, dtype=np.int64)  # 0: left half next, 1: right half next, 2: both summed
    left = np.empty(depth)
    starts[0], sizes[0], top, ret = lo, n, 0, 0.0
    while top >= 0:
        if sizes[top] <= _BLOCK:
            ret = _pairwise_block(a, starts[top], sizes[top])
            top -= 1
            continue
        half = sizes[top] // 2
        half -= half % _UNROLL
        if stage[top] == 2:
            ret = left[top] + ret
            top -= 1
            continue
        if stage[top] == 1:
            left[top] = ret
        stage[top] += 1
        # the next half: the left one first, then the right one
        child_start = starts[top] if stage[top] == 1 else starts[top] + half
        child_size = half if stage[top] == 1 else sizes[top] - half
        top += 1
        starts[top], sizes[top], stage[top] = child_start, child_size, 0
    return ret


@kernel
def _readings(
    district,
    marginalised,
    kind,
    benefits,
    fatigue,
    capacity,
    item_lay,
    r,
    district_population,
    spend,
    weight,
    power,
    power_idx,
    idx,
    held,
    said,
    believed_said,
    lay_held,
    believed,
    resident_cost,
    other_cost,
    views_before,
    views_after,
):
    """What :func:`_plain_remember` reads from a month, each as numpy rounds it: the smoothed spending per
    head, the marginalised and the citizens' say, the marginalised share of actors, and, for a meeting,
    representativeness, voice equality, uptake, believed parity, time burden (NaN where there is no
    reading) and the views' variances and means before and after."""
    nan = np.nan
    n_d = len(district_population)
    # spending per head by district (np.bincount adds in order), smoothed
    per_district = np.zeros(n_d)
    for i in range(r):
        per_district[district[i]] += benefits[i]
    smoothed = np.empty(n_d)
    for k in range(n_d):
        fresh = per_district[k] / max(district_population[k], 1)
        smoothed[k] = (1 - weight) * spend[k] + weight * fresh
    # the say in the decision
    buffer = np.empty(max(len(power_idx), len(idx)))
    n = 0
    for a in range(len(power_idx)):
        if marginalised[power_idx[a]]:
            buffer[n] = power[a]
            n += 1
    marg_power = _numpy_sum(buffer, 0, n)
    n = 0
    for a in range(len(power_idx)):
        if kind[power_idx[a]] != _OFFICIAL:
            buffer[n] = power[a]
            n += 1
    citizen_power = _numpy_sum(buffer, 0, n)
    actors = 0
    marg_actors = 0
    for i in range(len(kind)):
        if kind[i] != _GROUP:
            actors += 1
            marg_actors += marginalised[i]
    marg_share = marg_actors / actors
    if marg_share <= 0:
        marg_share = 1.0
    represented = voice = taken_up = parity = burden = nan
    d0 = d1 = mean0 = mean1 = 0.0
    if len(idx) == 0:
        return (
            smoothed,
            marg_power,
            citizen_power,
            marg_share,
            represented,
            voice,
            taken_up,
            parity,
            burden,
            d0,
            d1,
            mean0,
            mean1,
        )
    # representativeness: 1 - total variation over district x deprivation strata
    present = np.zeros(2 * n_d)
    everyone = np.zeros(2 * n_d)
    for i in range(r):
        everyone[district[i] * 2 + marginalised[i]] += 1
    for a in range(len(idx)):
        i = idx[a]
        if kind[i] == _RESIDENT:
            present[district[i] * 2 + marginalised[i]] += 1
    n_present = _numpy_sum(present, 0, len(present))
    n_everyone = _numpy_sum(everyone, 0, len(everyone))
    if n_present <= 0 or n_everyone <= 0:
        represented = 0.0
    else:
        gaps = np.empty(2 * n_d)
        for k in range(2 * n_d):
            gaps[k] = abs(present[k] / n_present - everyone[k] / n_everyone)
        represented = 1 - _numpy_sum(gaps, 0, len(gaps)) / 2  # total variation: half the sum
    # voice equality: 1 - Gini of speaking rates over those who held anything
    n = 0
    for a in range(len(idx)):
        if held[a] > 0:
            buffer[n] = said[a] / held[a]
            n += 1
    if n:
        voice = 1 - _gini(np.sort(buffer[:n]))
    # uptake: share of the lay items held in the room that were believed
    lay = 0
    present_lay = 0
    believed_lay = 0
    for k in range(len(item_lay)):
        if item_lay[k]:
            if lay_held[lay]:
                present_lay += 1
                believed_lay += believed[k]
            lay += 1
    if present_lay:
        taken_up = believed_lay / present_lay
    # believed parity: marginalised speakers' rate of belief against the others'
    said_m = said_o = believed_m = believed_o = 0
    for a in range(len(idx)):
        if marginalised[idx[a]]:
            said_m += said[a]
            believed_m += believed_said[a]
        else:
            said_o += said[a]
            believed_o += believed_said[a]
    if said_m != 0 and said_o != 0:
        rate_m = believed_m / said_m
        rate_o = believed_o / said_o
        parity = min(1.0, rate_m / rate_o) if rate_o > 0 else 1.0
    # time burden of those who came in person (groups excluded)
    n = 0
    for a in range(len(idx)):
        i = idx[a]
        if kind[i] != _GROUP:
            cost = resident_cost if kind[i] == _RESIDENT else other_cost
            load = (cost + fatigue[i]) / capacity[i]
            buffer[n] = load if not load > 1.0 else 1.0  # np.minimum: NaN stays NaN
            n += 1
    if n:
        burden = _numpy_sum(buffer, 0, n) / n
    # the views' variances and means (np.var: the mean, then the mean squared deviation)
    d0, mean0 = _variance(views_before)
    d1, mean1 = _variance(views_after)
    return (
        smoothed,
        marg_power,
        citizen_power,
        marg_share,
        represented,
        voice,
        taken_up,
        parity,
        burden,
        d0,
        d1,
        mean0,
        mean1,
    )


@kernel
def _variance(x):
    """``(x.var(), x.mean())`` rounded as numpy rounds them (x contiguous, at least one value)."""
    n = len(x)
    mean = _numpy_sum(x, 0, n) / n
    squares = np.empty(n)
    for i in range(n):
        squares[i] = (x[i] - mean) * (x[i] - mean)
    return _numpy_sum(squares, 0, n) / n, mean


@kernel
def _gini(x):
    """:func:`model.inequality.gini` of values already sorted, rounded as numpy rounds it."""
    n = len(x)
    total = _numpy_sum(x, 0, n)
    if n == 0 or total <= 0:
        return 0.0
    terms = np.empty(n)
    for i in range(n):
        terms[i] = (2 * (i + 1) - n - 1) * x[i]
    g = _numpy_sum(terms, 0, n) / (n * total)
    return min(max(g, 0.0), 1.0)


@kernel
def _cross_linked(indptr, indices, data, kind, active, n_kinds):
    """How many active actors have active contacts of another kind (weights added in the CSR order, then
    over kinds, as the sparse product and ``sum(axis=1)`` add them), and how many are active."""
    contacts = np.zeros(n_kinds)
    linked = 0
    n_active = 0
    for i in range(len(kind)):
        if not active[i]:
            continue
        n_active += 1
        contacts[:] = 0.0
        for a in range(indptr[i], indptr[i + 1]):
            j = indices[a]
            if active[j]:
                contacts[kind[j]] += data[a]
        total = 0.0
        for k in range(n_kinds):
            total += contacts[k]
        if total - contacts[kind[i]] > 0:
            linked += 1
    return linked, n_active
