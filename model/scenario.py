"""The scenario schema: every parameter of the model, declared once.

Each parameter is a typed field with a default, bounds, units and a one-line meaning. Sweep ranges (the
experiment samplers) and slider limits (the dashboard) are read from here through :func:`parameters`,
never typed again elsewhere.

A scenario is a TOML file with one table per section. Loading works in three layers:

1. the schema defaults,
2. the preset of the chosen institutional design (``design.kind``; it fills the ``design`` and
   ``structure`` sections, see :mod:`model.institutions`) and of the chosen theory of change
   (``theory.kind``; it fills ``theory``, see :mod:`model.theories`),
3. whatever the file (or ``--set``, or :meth:`Scenario.with_overrides`) states explicitly.

A :class:`Scenario` remembers what was stated explicitly, so that switching ``design.kind`` through an
override re-applies the new design's preset while keeping the user's own settings.

Bad input raises :class:`ScenarioError`, which carries one :class:`Problem` per fault, each naming the key,
what is wrong, the value given and what is allowed.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
from coprod.model.files import InputFileError, read_input
from coprod.model.institutions import DESIGN_PRESETS
from coprod.model.kinds import TheoryKind
from coprod.model.theories import THEORY_PRESETS
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class DesignKind(StrEnum):
    """The five institutional designs (Fung's democracy cube, mapped onto Arnstein's ladder)."""

    top_down_consultation = "top_down_consultation"
    citizens_assembly = "citizens_assembly"
    action_research_cooperative = "action_research_cooperative"
    participatory_budgeting = "participatory_budgeting"
    co_financed_partnership = "co_financed_partnership"


Selection = Literal["self_selection", "sortition", "mixed_cooperative", "open_assembly", "contribution"]
DecisionRule = Literal["advisory", "dissensus", "vote", "contribution"]
Stage = Literal["agenda", "design", "doing", "analysis", "sharing"]
STAGES: tuple[str, ...] = get_args(Stage)


ASSUMPTION = "assumption"


def param(
    default: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    units: str,
    meaning: str,
    source: str = ASSUMPTION,
):
    """Declare one parameter: default, inclusive bounds, units, a one-line meaning (listing every effect)
    and its source (a citation, or "assumption" where the value is the modellers' choice)."""
    return Field(
        default,
        ge=low,
        le=high,
        description=meaning,
        json_schema_extra={"units": units, "source": source},
        allow_inf_nan=False if isinstance(default, float) else None,
    )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)


class Population(_Section):
    """Who lives and works in the city."""

    residents: int = param(1000, 10, 200_000, units="people", meaning="number of resident agents")
    officials: int = param(40, 1, 5_000, units="people", meaning="number of local-government officials")
    academics: int = param(10, 1, 1_000, units="people", meaning="number of academics (researchers)")
    civil_society_groups: int = param(
        20, 0, 5_000, units="groups", meaning="number of civil-society groups with resident members"
    )
    marginalised_share: float = param(
        0.3,
        0.0,
        0.9,
        units="share of residents",
        meaning="share of residents who are marginalised (deprived)",
    )
    districts: int = param(8, 1, 500, units="districts", meaning="number of districts residents live in")
    capacity_mean: float = param(
        0.5,
        0.01,
        0.99,
        units="share of a month",
        meaning="mean of residents' drawn time and energy (before the floor)",
    )
    capacity_floor: float = param(
        0.2,
        0.0,
        1.0,
        units="share of a month",
        meaning="time and energy everyone has on top of the drawn part",
    )
    skill_mean: float = param(
        0.3, 0.01, 0.99, units="0-1", meaning="mean initial skill (capability) of actors"
    )
    mobilisation_mean: float = param(
        0.4, 0.01, 0.99, units="0-1", meaning="mean mobilisation capacity of civil-society groups"
    )
    trait_concentration: float = param(
        6.0,
        0.5,
        100.0,
        units="beta a+b",
        meaning="concentration of the beta draws of capacity, skill and mobilisation (higher: less spread)",
    )


class Context(_Section):
    """The city context: what differs between cities when the same design and theory are compared."""

    baseline_trust: float = param(
        0.5,
        0.0,
        1.0,
        units="0-1",
        meaning="initial trust between the four kinds of actor (in officials: accepting invitations and "
        "trust in decisions; in academics: the pull of evidence; in groups: coming through a group; "
        "officials' in residents: stubbornness and deferring)",
    )
    inequality: float = param(
        0.5,
        0.0,
        1.0,
        units="0-1",
        meaning="how much need and capacity differ between deprived and others: district needs, "
        "segregation of the deprived, their capacity loss and their credibility deficit",
    )
    civil_society_density: float = param(
        0.2,
        0.0,
        1.0,
        units="share of residents",
        meaning="share of residents who belong to a civil-society group",
    )
    state_capacity: float = param(
        0.6,
        0.0,
        1.0,
        units="0-1",
        meaning="officials' capacity to implement what is decided: the delivery rate of decided money, the "
        "pipeline at the start, and officials' time for taking part",
    )
    academic_engagement: float = param(
        0.5, 0.0, 1.0, units="0-1", meaning="mean positionality of academics: 0 detached, 1 engaged"
    )
    elite_bias: float = param(
        0.5, 0.0, 1.0, units="0-1", meaning="how far the status-quo budget favours better-off districts"
    )
    needed_change: float = param(
        0.7,
        0.0,
        1.0,
        units="0-1 view scale",
        meaning="latent truth: how much change the city's problems need",
    )
    official_view: float = param(
        0.3,
        0.0,
        1.0,
        units="0-1 view scale",
        meaning="officials' mean initial view of how much change is needed",
    )
    resident_view: float = param(
        0.5, 0.0, 1.0, units="0-1 view scale", meaning="non-marginalised residents' mean initial view"
    )
    marginalised_view: float = param(
        0.8, 0.0, 1.0, units="0-1 view scale", meaning="marginalised residents' mean initial view"
    )
    toc_diversity: float = param(
        0.8,
        0.0,
        1.0,
        units="0-1",
        meaning="spread of theories of change held at the start (1: all four equally)",
    )
    view_spread: float = param(
        0.15, 0.0, 0.5, units="0-1 view scale", meaning="standard deviation of initial views within a group"
    )
    academic_start: float = param(
        0.5,
        0.0,
        1.0,
        units="0 officials' view - 1 truth",
        meaning="where academics' mean initial view lies between officials' mean view (0) and the latent "
        "truth (1)",
    )
    official_salience: float = param(
        0.2, 0.0, 1.0, units="0-1", meaning="officials' mean initial justice framing"
    )
    resident_salience: float = param(
        0.4, 0.0, 1.0, units="0-1", meaning="non-marginalised residents' mean initial justice framing"
    )
    marginalised_salience: float = param(
        0.7, 0.0, 1.0, units="0-1", meaning="marginalised residents' mean initial justice framing"
    )
    salience_spread: float = param(
        0.1, 0.0, 0.5, units="0-1", meaning="standard deviation of initial framing within a group"
    )
    trust_spread: float = param(
        0.1, 0.0, 0.5, units="0-1", meaning="standard deviation of initial trust around baseline_trust"
    )
    positionality_spread: float = param(
        0.15, 0.0, 0.5, units="0-1", meaning="standard deviation of academics' positionality"
    )
    segregation: float = param(
        4.0,
        0.0,
        20.0,
        units="x odds per unit inequality",
        meaning="extra odds of being marginalised in the most deprived district against the least, per unit "
        "of inequality (districts are ordered by deprivation)",
    )
    deprivation_capacity_loss: float = param(
        0.6,
        0.0,
        1.0,
        units="share per unit inequality",
        meaning="share of drawn capacity marginalised residents lose, per unit of inequality",
    )
    need_floor: float = param(
        0.1,
        0.01,  # above 0: at 0 a city without marginalised residents would need nothing (need shares are x/0)
        0.9,
        units="0-1",
        meaning="need of a district with no marginalised residents",
    )


class Network(_Section):
    """The social network: a homophilous small world with bridging ties."""

    mean_degree: int = param(8, 2, 50, units="ties", meaning="mean number of everyday ties per resident")
    homophily: float = param(
        0.85, 0.0, 1.0, units="0-1", meaning="how strongly ties form within the same district and deprivation"
    )
    bridging: float = param(
        0.05, 0.0, 1.0, units="probability", meaning="chance a tie is rewired into a random bridging tie"
    )
    cross_sector_ties: int = param(
        3, 0, 100, units="ties", meaning="initial ties from each official or academic to residents"
    )
    tie_formation: float = param(
        0.05, 0.0, 1.0, units="probability per meeting", meaning="chance two co-participants form a new tie"
    )
    talk_rate: float = param(
        0.5, 0.0, 10.0, units="encounters per resident-month", meaning="everyday conversations along ties"
    )
    professional_degree: int = param(
        4, 0, 50, units="ties", meaning="ties of each official (academic) among officials (academics)"
    )
    professional_bridging: float = param(
        0.1, 0.0, 1.0, units="probability", meaning="rewiring among officials' and academics' own ties"
    )
    local_ties: float = param(
        0.7,
        0.0,
        1.0,
        units="share",
        meaning="share of an official's or academic's ties to residents that stay in their own district",
    )


class Design(_Section):
    """The institutional design (Fung 2006: who takes part, how they talk, how much authority)."""

    kind: DesignKind = Field(
        DesignKind.citizens_assembly,
        strict=False,
        description="institutional design (its preset fills this section and `structure`)",
        json_schema_extra={"units": "name"},
    )
    selection: Selection = Field(
        "sortition", description="how participants are selected", json_schema_extra={"units": "name"}
    )
    participants: int = param(
        60, 0, 100_000, units="residents per month", meaning="residents convened per step"
    )
    participation_cost: float = param(
        0.3,
        0.0,
        1.0,
        units="share of monthly capacity",
        meaning="time and energy one month of taking part takes: who can come, their time burden, and "
        "(net of stipend) residents' cost fairness",
    )
    stipend: float = param(
        0.0,
        0.0,
        1.0,
        units="share of the cost",
        meaning="compensation paid to residents who take part, as a share of the cost: lowers their cost "
        "(who can come) and is paid out of the decided pot (resources.stipend_amount)",
    )
    facilitation: float = param(
        0.5,
        0.0,
        1.0,
        units="0-1",
        meaning="skilled facilitation: equalises voice weights and so airtime, narrows the credibility "
        "deficit, reduces hidden-profile bias, widens who listens to whom in meetings, relieves conformity "
        "pressure, and costs resources.facilitation_cost",
    )
    official_weight: float = param(
        3.0, 1.0, 20.0, units="x a resident", meaning="speaking and persuasive weight of an official"
    )
    expert_weight: float = param(
        2.0, 1.0, 20.0, units="x a resident", meaning="epistemic authority of an academic"
    )
    official_stubbornness: float = param(
        0.5, 0.0, 1.0, units="0-1", meaning="how firmly officials hold their initial view in meetings"
    )
    decision_rule: DecisionRule = Field(
        "advisory", description="how a meeting's outcome binds", json_schema_extra={"units": "name"}
    )
    feedback: float = param(
        0.5,
        0.0,
        1.0,
        units="share",
        meaning="share of participants told what became of their input: their trust in officials moves "
        "towards their agreement with the decision",
    )
    budget_share: float = param(
        0.1, 0.0, 1.0, units="share of budget", meaning="share of the monthly budget the design decides on"
    )
    need_weighting: float = param(
        0.0,
        0.0,
        1.0,
        units="0-1",
        meaning="how far allocations follow district need (participatory budgeting)",
    )
    continuity: float = param(
        0.0, 0.0, 1.0, units="share", meaning="share of last month's participants who stay on"
    )
    experiments: int = param(
        2, 0, 100, units="experiments per month", meaning="most experiments started per month"
    )
    stages: tuple[Stage, ...] = Field(
        ("design",),
        strict=False,
        description="research stages citizens take part in: agenda (allocations tilt to need), design or "
        "analysis (academics take part), doing (skills grow twice as fast), analysis (evidence pulls twice "
        "as hard), sharing (published evidence reaches behaviour.sharing_boost times more residents)",
        json_schema_extra={"units": "names"},
    )
    official_seats: float = param(
        0.1, 0.0, 1.0, units="per resident seat", meaning="officials in the room per resident participant"
    )
    academic_seats: float = param(
        0.05,
        0.0,
        1.0,
        units="per resident seat",
        meaning="academics in the room per resident participant, when citizens take part in the design or "
        "analysis stage",
    )
    group_seats: float = param(
        0.0, 0.0, 1.0, units="share of groups", meaning="share of civil-society groups with a seat"
    )
    via_groups: float = param(
        0.5,
        0.0,
        1.0,
        units="share of seats",
        meaning="share of resident seats filled through civil-society groups (mixed cooperative)",
    )
    partner_share: float = param(
        0.33,
        0.0,
        1.0,
        units="share of groups",
        meaning="share of groups that come as paying partners (contribution selection)",
    )
    inside_say: float = param(
        0.5,
        0.0,
        1.0,
        units="share",
        meaning="share of officials' say carried by the officials inside the room under the dissensus rule",
    )
    cluster_gap: float = param(
        0.05,
        0.0,
        1.0,
        units="0-1 view scale",
        meaning="smallest gap between views that splits the room into separate experiments (dissensus rule)",
    )


class Structure(_Section):
    """The governance structure at the start; the theory of change moves it over time."""

    citizen_weight: float = param(
        0.2,
        0.0,
        1.0,
        units="0-1",
        meaning="initial weight of the citizen side in decisions (the rest is officials', who may defer); "
        "the theories of change move it",
    )
    agenda_setting: float = param(
        0.1,
        0.0,
        1.0,
        units="0-1",
        meaning="initial share of the agenda set by citizens: tilts decided allocations to need (doubly "
        "with the agenda stage); the theories of change move it",
    )
    transparency: float = param(
        0.3,
        0.0,
        1.0,
        units="probability",
        meaning="initial chance a decision is published with its rationale (which teaches residents the "
        "evidence); the theories of change move it",
    )
    downward_accountability: float = param(
        0.2,
        0.0,
        1.0,
        units="0-1",
        meaning="initial rule that officials answer to citizens (1) rather than to hierarchy (0): "
        "officials' accountability orientation follows it; the theories of change move it",
    )
    co_financing: float = param(
        0.0,
        0.0,
        1.0,
        units="x decided budget",
        meaning="partners' money per unit of public money the design decides on: enlarges the pot, weights "
        "partners' say (contribution rule), ties money for commitment_months, speeds learning by doing",
    )


class Theory(_Section):
    """Theories of change: the programme's theory, and how any actor's theory acts on the structure.

    Every rate and strength here is shared by the four theories (one scale: the same effort buys the same
    movement under any theory); the theories differ only in their mechanism (:mod:`model.mobilisation`,
    :mod:`model.restructuring`)."""

    kind: TheoryKind = Field(
        TheoryKind.incremental,
        strict=False,
        description="the programme's theory of change: the one the convening organisation funds (more "
        "initial holders, programme_funding on its holders' effort)",
        json_schema_extra={"units": "name"},
    )
    rate: float = param(
        0.1,
        0.0,
        5.0,
        units="per unit effort share per month",
        meaning="how far a theory's levers move in a month, per unit of its effort share (its holders' "
        "effort over the city's capacity), when its condition holds; spread over the theory's levers",
    )
    programme_funding: float = param(
        1.0,
        0.0,
        10.0,
        units="x effort",
        meaning="extra effort the programme pays for among holders of the programme's theory (1: doubled)",
    )
    experiment_success: float = param(
        0.5, 0.0, 1.0, units="probability", meaning="base chance an experiment succeeds with an ideal mix"
    )
    grassroots: float = param(
        0.01,
        0.0,
        1.0,
        units="experiments per person-month",
        meaning="incremental: experiments incrementalists start on their own, per person-month of effort",
    )
    team_size: int = param(
        5, 1, 1000, units="people", meaning="incremental: members of a self-organised experiment team"
    )
    adoption_threshold: float = param(
        0.3,
        0.0,
        1.0,
        units="share of ties",
        meaning="incremental: share of adopting contacts that makes an official adopt (0: no contagion)",
        source="Granovetter 1978; Watts 2002 (threshold contagion); value an assumption",
    )
    institutionalise_at: float = param(
        0.5,
        0.0,
        1.0,
        units="share of officials",
        meaning="incremental: adoption share at which practice becomes rule (full push; in proportion below)",
    )
    tipping_share: float = param(
        0.25,
        0.0,
        1.0,
        units="share of actors",
        meaning="structural: committed minority (holders backing change with justice framing) that tips "
        "the rules",
        source="Centola, Becker, Brackbill & Baronchelli 2018 (tipping at about 25%)",
    )
    backlash: float = param(
        0.2,
        0.0,
        1.0,
        units="0-1",
        meaning="structural: officials' resistance when rules are pushed against them (trust and rollback)",
    )
    production: float = param(
        0.05,
        0.0,
        10.0,
        units="per person-month",
        meaning="knowledge: hazard that an item known to knowledge-led actors is documented into the "
        "evidence base, per person-month of their effort",
    )
    evidence_threshold: float = param(
        0.5,
        0.0,
        1.0,
        units="0-1",
        meaning="knowledge: evidence-base mix times the share of it officials hold at which knowledge-led "
        "change works fully (in proportion below)",
    )
    bridging: float = param(
        0.2,
        0.0,
        10.0,
        units="ties per person-month",
        meaning="coalition: cross-sector ties a coalition builder forms per person-month of effort",
    )
    evidence_attraction: float = param(
        0.05,
        0.0,
        1.0,
        units="per month",
        meaning="pull of believed evidence on participants' views (doubled with the analysis stage)",
    )
    coalition_share: float = param(
        0.15,
        0.0,
        1.0,
        units="share of each sector",
        meaning="coalition: share of residents, of officials and of academics the largest supportive "
        "connected set must hold for change",
    )
    inertia: float = param(
        0.01,
        0.0,
        0.5,
        units="per month",
        meaning="drift of every lever back to where it started",
        source="Streeck & Thelen 2005 (institutional inertia); rate an assumption",
    )
    backlash_trust: float = param(
        5.0,
        0.0,
        20.0,
        units="x backlash x push",
        meaning="structural: officials' loss of trust in residents per unit of rule push and opposition",
    )
    rollback: float = param(
        0.5,
        0.0,
        1.0,
        units="x backlash",
        meaning="structural: monthly chance per unit of backlash and opposition that officials roll "
        "the change back, in a month the rules are pushed",
    )
    rollback_size: float = param(
        2.0, 0.0, 10.0, units="x push", meaning="structural: share of a lever lost in a rollback"
    )


class Deliberation(_Section):
    """How participants talk: bounded confidence, power, stubbornness and knowledge sharing."""

    confidence: float = param(
        0.3, 0.01, 1.0, units="0-1 view scale", meaning="largest view gap across which people still listen"
    )
    convergence: float = param(
        0.3,
        0.0,
        0.5,
        units="0-0.5",
        meaning="how far a listener moves toward a speaker (Deffuant mu): meetings, everyday talk, the "
        "spread of framing, and deferring officials' move to the citizens' recommendation",
    )
    rounds: int = param(4, 1, 50, units="encounters per participant", meaning="exchanges per monthly meeting")
    stubbornness: float = param(
        0.1,
        0.0,
        1.0,
        units="0-1",
        meaning="everyone's monthly pull back to their own initial view and framing, and residents' "
        "stubbornness in meetings",
    )
    knowledge_items: int = param(
        40, 2, 500, units="items", meaning="distinct pieces of knowledge in the city"
    )
    lay_share: float = param(
        0.5,
        0.0,
        1.0,
        units="share of items",
        meaning="share of knowledge that is lay and community knowledge",
    )
    knowledge_turnover: float = param(
        0.05, 0.0, 1.0, units="share of items per month", meaning="knowledge that goes stale and is renewed"
    )
    mention_probability: float = param(
        0.3, 0.0, 1.0, units="probability", meaning="chance a holder brings up an item in a meeting"
    )
    hidden_profile_bias: float = param(
        0.6, 0.0, 1.0, units="0-1", meaning="how much less often unshared items get discussed"
    )
    evidence_noise: float = param(
        0.15, 0.0, 0.5, units="0-1 view scale", meaning="noise in what one item says about needed change"
    )
    expert_bias: float = param(
        0.15,
        -0.5,
        0.5,
        units="0-1 view scale",
        meaning="bias of expert evidence below the latent truth (positive: towards the status quo; negative: "
        "towards more change)",
    )
    expert_precision: float = param(
        0.5, 0.0, 2.0, units="x evidence_noise", meaning="noise of an expert item relative to a lay item"
    )
    credibility_deficit: float = param(
        0.5,
        0.0,
        1.0,
        units="share per unit inequality",
        meaning="credibility marginalised speakers lose per unit of inequality, before facilitation: lowers "
        "their voice weight, the chance what they say is believed, and adds to their emotional labour",
        source="Fricker 2007 (testimonial injustice); size an assumption",
    )
    lay_holding_marginalised: float = param(
        0.08, 0.0, 1.0, units="probability", meaning="chance a marginalised resident holds a lay item"
    )
    lay_holding_resident: float = param(
        0.03, 0.0, 1.0, units="probability", meaning="chance another resident holds a lay item"
    )
    lay_holding_professional: float = param(
        0.01, 0.0, 1.0, units="probability", meaning="chance an official, academic or group holds a lay item"
    )
    expert_holding_professional: float = param(
        0.6, 0.0, 1.0, units="probability", meaning="chance an official or academic holds an expert item"
    )
    expert_holding_resident: float = param(
        0.02, 0.0, 1.0, units="probability", meaning="chance a resident or group holds an expert item"
    )
    imitation: float = param(
        0.05,
        0.0,
        1.0,
        units="per month",
        meaning="chance an actor compares theories of change with a contact",
    )
    conformity: float = param(
        0.3, 0.0, 1.0, units="probability", meaning="chance a participant drops a minority theory of change"
    )


class Resources(_Section):
    """Money, time and emotional labour."""

    budget: float = param(1.0e6, 0.0, 1.0e10, units="GBP per month", meaning="public budget for the city")
    stipend_amount: float = param(
        100.0, 0.0, 1.0e5, units="GBP per participant-month", meaning="cash value of a full stipend"
    )
    facilitation_cost: float = param(
        5000.0, 0.0, 1.0e7, units="GBP per month", meaning="cost of full facilitation"
    )
    fatigue_rate: float = param(
        0.1, 0.0, 1.0, units="per month", meaning="emotional labour: fatigue gained per month taking part"
    )
    recovery: float = param(
        0.05, 0.0, 1.0, units="per month", meaning="fatigue lost per month not taking part"
    )
    dropout_fatigue: float = param(
        0.8, 0.0, 1.0, units="0-1", meaning="fatigue at which a participant drops out"
    )
    experiment_cost: float = param(
        5000.0, 0.0, 1.0e8, units="GBP", meaning="funding at which an experiment is half resourced"
    )
    commitment_months: int = param(
        24, 1, 600, units="months", meaning="how long a co-financed commitment ties its resources"
    )
    experiment_share: float = param(
        0.1,
        0.0,
        1.0,
        units="share of the pot",
        meaning="share of the decided pot that funds the month's experiments",
    )
    academic_contribution: float = param(
        0.5,
        0.0,
        10.0,
        units="x a group's mobilisation",
        meaning="money an academic partner brings, on the groups' mobilisation scale (contribution rule)",
    )


class Behaviour(_Section):
    """How actors behave: the constants of the mechanisms, each with its source or "assumption"."""

    support_line: float = param(
        0.5,
        0.0,
        1.0,
        units="0-1 view scale",
        meaning="view above which an actor backs radical change: the radical_change marker, who acts on a "
        "theory of change, the structural theory's committed minority, the coalition, which officials adopt "
        "a successful experiment's practice, and decisions that tilt spending to need",
    )
    willingness_floor: float = param(
        0.5,
        0.0,
        1.0,
        units="probability",
        meaning="chance a resident with no trust in officials still accepts an invitation (rises to 1 with "
        "full trust)",
        source="Tyler 2006 (procedural legitimacy and cooperation); value an assumption",
    )
    justice_drive: float = param(
        2.0,
        0.0,
        20.0,
        units="x",
        meaning="extra motivation to come of a resident with full justice framing (self-selection, "
        "assemblies and partners' members)",
    )
    distrust_entrenchment: float = param(
        0.5,
        0.0,
        1.0,
        units="share of the gap",
        meaning="how far an official with no trust in residents moves towards full stubbornness in meetings",
    )
    detached_stubbornness: float = param(
        0.5,
        0.0,
        1.0,
        units="0-1",
        meaning="stubbornness of a fully detached academic in meetings (engaged academics: 0)",
    )
    facilitation_relief: float = param(
        0.5,
        0.0,
        1.0,
        units="share",
        meaning="share of conformity pressure full facilitation removes",
    )
    evidence_trust: float = param(
        1.0,
        0.0,
        2.0,
        units="x",
        meaning="how far the pull of evidence on a participant scales with their trust in academics (0: not "
        "at all; 1: in proportion)",
    )
    lay_framing: float = param(
        0.5,
        0.0,
        2.0,
        units="0-1 framing",
        meaning="rise in the meeting's framing target when all lay knowledge present is heard",
    )
    experiment_floor: float = param(
        0.5,
        0.0,
        1.0,
        units="x chance",
        meaning="chance multiplier of an experiment with none of knowledge mix, capability, resources or "
        "fit between its theory and the context (each factor rises to 1 at its best)",
    )
    success_learning: float = param(
        0.05,
        0.0,
        1.0,
        units="per success",
        meaning="skill gained by a team member from a successful experiment",
    )
    learning_by_doing: float = param(
        0.03, 0.0, 1.0, units="per month", meaning="skill gained by taking part for a month"
    )
    trust_learning: float = param(
        0.2,
        0.0,
        1.0,
        units="per month",
        meaning="how far a participant who hears back moves their trust in officials towards their agreement "
        "with the decision",
        source="Tyler 2006 (procedural justice); rate an assumption",
    )
    trust_drift: float = param(
        0.02,
        0.0,
        1.0,
        units="per month",
        meaning="how far everyone's trust in officials follows whether spending met their district's need",
    )
    success_memory: float = param(
        0.2,
        0.0,
        1.0,
        units="weight",
        meaning="weight of the newest month in the success record of each theory of change",
    )
    prior_success: float = param(
        0.5, 0.0, 1.0, units="0-1", meaning="success record of a theory of change before any experiment"
    )
    accountability_learning: float = param(
        0.05,
        0.0,
        1.0,
        units="per month",
        meaning="how fast officials' accountability orientation follows the structure's "
        "downward_accountability",
    )
    publish_reach: float = param(
        0.02,
        0.0,
        1.0,
        units="probability",
        meaning="chance a resident learns an item behind a published decision",
    )
    sharing_boost: float = param(
        5.0,
        1.0,
        50.0,
        units="x publish_reach",
        meaning="publish_reach multiplier when citizens take part in the sharing stage",
    )
    activist_memory: int = param(
        12,
        1,
        600,
        units="months",
        meaning="a resident who took part this recently (or belongs to a group) is mobilised: acts on their "
        "theory of change",
    )
    dropped_trust_loss: float = param(
        0.1,
        0.0,
        1.0,
        units="share per month",
        meaning="trust in officials a participant loses when a forced consensus lands beyond their "
        "confidence bound (their view dropped); they are also left out of the experiment teams",
        source="Tyler 2006 (procedural justice and withdrawal); rate an assumption",
    )


class Run(_Section):
    """How long to run and from which seed."""

    steps: int = param(120, 1, 100_000, units="months", meaning="number of steps (one step is one month)")
    seed: int = param(1, 0, 2**63 - 1, units="integer", meaning="root seed of the model's generator")
    betweenness_interval: int = param(
        12, 1, 100_000, units="months", meaning="how often leadership concentration is recomputed"
    )
    betweenness_samples: int = param(
        64, 2, 10_000, units="pivot nodes", meaning="sample size of the betweenness estimate"
    )
    smoothing: float = param(
        0.2,
        0.01,
        1.0,
        units="weight",
        meaning="weight of the newest month in the smoothed meeting-level outputs (measurement only)",
    )
    active_months: int = param(
        12,
        1,
        600,
        units="months",
        meaning="residents who took part this recently belong to the governance network (measurement only)",
    )


SECTIONS: dict[str, type[_Section]] = {
    "population": Population,
    "context": Context,
    "network": Network,
    "design": Design,
    "structure": Structure,
    "theory": Theory,
    "deliberation": Deliberation,
    "resources": Resources,
    "behaviour": Behaviour,
    "run": Run,
}
TOP_LEVEL = ("name", "description")
# The longest name and description, in characters: a name labels results, run keys and plots, a
# description is a sentence or a paragraph; a 10 MB name once made a 90 MB results file (assumption).
TEXT_LIMITS = {"name": 200, "description": 2000}


# ----------------------------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    key: str
    message: str
    got: Any = None
    allowed: str | None = None

    def render(self, source: str) -> str:
        text = f"{_printable(source)}: {_printable(self.key)}: {_printable(self.message)}"
        details = []
        if self.got is not None:
            details.append(f"got {_show(self.got)}")
        if self.allowed:
            details.append(f"allowed {self.allowed}")
        return text + (f" ({', '.join(details)})" if details else "")


class ScenarioError(ValueError):
    """Raised for bad scenario input; ``problems`` lists every fault found."""

    def __init__(self, problems: list[Problem], source: str = "<scenario>"):
        self.problems = problems
        self.source = source
        super().__init__("\n".join(p.render(source) for p in problems))

    def lines(self) -> list[str]:
        return [p.render(self.source) for p in self.problems]


def _printable(text: str) -> str:
    """Text as it is if printable, else with its control characters escaped, so a message stays one line."""
    text = str(text)
    return text if text.isprintable() else repr(text)[1:-1]


def _show(value: Any) -> str:
    text = (
        repr(value)
        if isinstance(value, str)
        else str(value).replace("True", "true").replace("False", "false")
    )
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------------------------------ the schema


@dataclass(frozen=True)
class ParamSpec:
    """Everything known about one parameter, for samplers, sliders and docs."""

    key: str
    type: str
    default: Any
    low: float | None
    high: float | None
    units: str
    meaning: str
    source: str = ASSUMPTION
    choices: tuple[str, ...] | None = None

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "float")

    def allowed(self) -> str:
        if self.choices is not None:
            if self.type == "list":
                return "a list of " + ", ".join(self.choices)
            return "one of " + ", ".join(self.choices)
        kind = "an integer" if self.type == "int" else "a number"
        return f"{kind} from {_num(self.low)} to {_num(self.high)}"


def _num(x: float | None) -> str:
    if x is None:
        return "any"
    if float(x).is_integer():
        return f"{int(x):_}" if abs(x) >= 100_000 else str(int(x))
    return f"{x:g}"


def _spec(section: str, name: str, info) -> ParamSpec:
    low = high = None
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            low = m.ge
        elif isinstance(m, annotated_types.Le):
            high = m.le
    ann = info.annotation
    choices = None
    if isinstance(ann, type) and issubclass(ann, StrEnum):
        type_name, choices = "choice", tuple(m.value for m in ann)
    elif get_origin(ann) is Literal:
        type_name, choices = "choice", tuple(get_args(ann))
    elif get_origin(ann) is tuple:
        type_name, choices = "list", tuple(get_args(get_args(ann)[0]))
    else:
        type_name = ann.__name__
    default = info.default.value if isinstance(info.default, StrEnum) else info.default
    return ParamSpec(
        key=f"{section}.{name}",
        type=type_name,
        default=default,
        low=low,
        high=high,
        units=(info.json_schema_extra or {}).get("units", ""),
        meaning=info.description or "",
        source=(info.json_schema_extra or {}).get("source", "choice of set-up"),
        choices=choices,
    )


def parameters() -> list[ParamSpec]:
    """Every parameter of the model with its type, default, bounds, units and meaning."""
    return [_spec(s, n, f) for s, cls in SECTIONS.items() for n, f in cls.model_fields.items()]


PARAMETERS: dict[str, ParamSpec] = {p.key: p for p in parameters()}


def spec(key: str) -> ParamSpec:
    """The declaration of one parameter, by dotted key."""
    try:
        return PARAMETERS[key]
    except KeyError:
        raise ScenarioError([_unknown_key(key)]) from None


# ---------------------------------------------------------------------------------------- the scenario


class Scenario(BaseModel):
    """A validated, frozen scenario. Build it with :func:`load_scenario` or :meth:`Scenario.build`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = "scenario"
    description: str = ""
    population: Population = Population()
    context: Context = Context()
    network: Network = Network()
    design: Design = Design()
    structure: Structure = Structure()
    theory: Theory = Theory()
    deliberation: Deliberation = Deliberation()
    resources: Resources = Resources()
    behaviour: Behaviour = Behaviour()
    run: Run = Run()

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def build(cls, explicit: dict | None = None, *, source: str = "<scenario>") -> Scenario:
        """Validate ``explicit`` settings (nested sections) on top of the defaults and presets."""
        explicit = explicit or {}
        # Unknown keys and bad values are reported together: the known part is still validated.
        problems = _structure_problems(explicit)
        try:
            scenario = cls.model_validate(_apply_presets(_known_part(explicit)))
        except ValidationError as err:
            problems += _translate(err)
        if problems:
            raise ScenarioError(problems, source)
        problems = consistency_problems(scenario)
        if problems:
            raise ScenarioError(problems, source)
        object.__setattr__(scenario, "_explicit", _deep_copy(explicit))
        return scenario

    def with_overrides(self, overrides: dict[str, Any], *, source: str = "<overrides>") -> Scenario:
        """A new scenario with dotted-key overrides (``{"population.residents": 500}``) applied."""
        problems: list[Problem] = []
        explicit = self.explicit
        for key, value in overrides.items():
            section, _, name = key.partition(".")
            if key in TOP_LEVEL:
                explicit[key] = value
            elif key in SECTIONS:
                problems.append(
                    Problem(key, "is a section, not a setting", allowed=f"one of its keys, {key}.<key>")
                )
            elif (
                section not in SECTIONS
                or not name
                or "." in name
                or name not in SECTIONS[section].model_fields
            ):
                problems.append(_unknown_key(key))
            else:
                explicit.setdefault(section, {})[name] = value
        if problems:
            try:  # the known overrides are still checked, so every problem shows at once
                Scenario.build(explicit, source=source)
            except ScenarioError as err:
                problems += err.problems
            raise ScenarioError(problems, source)
        return Scenario.build(explicit, source=source)

    # -- views ----------------------------------------------------------------------------------

    @property
    def explicit(self) -> dict:
        """A copy of the settings that were stated (file, overrides), before defaults and presets."""
        return _deep_copy(getattr(self, "_explicit", {}))

    def get(self, key: str) -> Any:
        """A parameter's value by dotted key, e.g. ``scenario.get("design.kind")``."""
        spec(key)
        section, name = key.split(".")
        value = getattr(getattr(self, section), name)
        return value.value if isinstance(value, StrEnum) else value

    def flat(self) -> dict[str, Any]:
        """All parameters as ``{dotted key: value}`` (JSON-friendly)."""
        return {key: _plain(self.get(key)) for key in PARAMETERS}

    def to_toml(self) -> str:
        """A TOML text that :func:`load_scenario` turns back into this exact scenario."""
        lines = [f"name = {toml_value(self.name)}", f"description = {toml_value(self.description)}"]
        for section in SECTIONS:
            lines.append(f"\n[{section}]")
            for name in SECTIONS[section].model_fields:
                lines.append(f"{name} = {toml_value(self.get(f'{section}.{name}'))}")
        return "\n".join(lines) + "\n"


def consistency_problems(s: Scenario) -> list[Problem]:
    """Combinations that are each in bounds but impossible together."""
    out = []
    pop = s.population
    if s.design.participants > pop.residents:
        out.append(
            Problem(
                "design.participants",
                "more participants than residents",
                s.design.participants,
                f"at most population.residents = {pop.residents}",
            )
        )
    if pop.districts > pop.residents:
        out.append(
            Problem(
                "population.districts",
                "more districts than residents",
                pop.districts,
                f"at most population.residents = {pop.residents}",
            )
        )
    if pop.civil_society_groups > pop.residents:
        out.append(
            Problem(
                "population.civil_society_groups",
                "more groups than residents",
                pop.civil_society_groups,
                f"at most population.residents = {pop.residents}",
            )
        )
    if pop.civil_society_groups > 0 and s.context.civil_society_density == 0:
        out.append(
            Problem(
                "context.civil_society_density",
                "groups exist but no resident can belong to one",
                0.0,
                "above 0 when population.civil_society_groups > 0",
            )
        )
    if s.network.mean_degree >= pop.residents:
        out.append(
            Problem(
                "network.mean_degree",
                "more ties per resident than other residents",
                s.network.mean_degree,
                f"below population.residents = {pop.residents}",
            )
        )
    if s.design.decision_rule == "contribution" and s.structure.co_financing == 0:
        out.append(
            Problem(
                "structure.co_financing",
                "a contribution-weighted rule needs co-financing partners",
                0.0,
                "above 0 when design.decision_rule = 'contribution'",
            )
        )
    if len(set(s.design.stages)) != len(s.design.stages):
        out.append(
            Problem(
                "design.stages",
                "a stage is listed twice",
                list(s.design.stages),
                "each of " + ", ".join(STAGES) + " at most once",
            )
        )
    return out


# ------------------------------------------------------------------------------------------- loading


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, layer and validate a scenario file; raise :class:`ScenarioError` on any bad input."""
    source = str(path)
    data = read_toml(path)
    scenario = Scenario.build(data, source=source)
    if overrides:
        scenario = scenario.with_overrides(overrides, source=source)
    return scenario


def read_toml(path: str | Path) -> dict:
    """Parse a TOML file as data (never evaluated); unreadable or malformed files raise ScenarioError.

    The file must be a regular file of sane size (:func:`model.files.read_input`). A UTF-8 byte-order
    mark (as Windows Notepad writes) is accepted; other encodings, values nested too deeply, integers of
    more digits than Python converts and numbers beyond a float's range are refused, each named.
    """
    source = str(path)
    try:
        raw = read_input(path)
    except InputFileError as err:
        raise ScenarioError([Problem("file", str(err))], source) from None
    return parse_toml(raw, source)


def parse_toml(raw: bytes, source: str) -> dict:
    """Parse TOML bytes from ``source``; any fault in them is one :class:`ScenarioError` line."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(
            [Problem("file", "is UTF-16 text; save it as UTF-8 (a TOML file is UTF-8)")], source
        )
    try:
        text = raw.decode("utf-8-sig")  # a leading byte-order mark is dropped
    except UnicodeDecodeError:
        raise ScenarioError(
            [Problem("file", "is not UTF-8 text (a TOML file is expected)")], source
        ) from None
    try:
        return tomllib.loads(text, parse_float=_finite_float)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError([Problem("file", f"is not valid TOML: {err}")], source) from None
    except _FloatOverflow as err:
        line = text.count("\n", 0, max(text.find(err.text), 0)) + 1
        raise ScenarioError(
            [
                Problem(
                    "file", f"line {line}: a number beyond a float's range", err.text, "at most about 1.8e308"
                )
            ],
            source,
        ) from None
    except RecursionError:
        raise ScenarioError(
            [Problem("file", "nests arrays or tables too deeply to read (a scenario needs two levels)")],
            source,
        ) from None
    except ValueError as err:  # an integer of more than 4300 digits (Python's conversion limit)
        raise ScenarioError(
            [Problem("file", f"holds a number that cannot be read ({_first_clause(err)})")], source
        ) from None


def _first_clause(err: Exception) -> str:
    """``Exceeds the limit (4300 digits) for integer string conversion``, without Python's advice."""
    return str(err).split(":")[0]


class _FloatOverflow(ValueError):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _finite_float(text: str) -> float:
    """TOML's float, refusing a literal that only overflows to infinity (``1e400``); ``inf`` stays inf."""
    value = float(text)
    if math.isinf(value) and "inf" not in text:
        raise _FloatOverflow(text)
    return value


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse one ``--set key=value``; the value is read as a TOML value, else as a bare string."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key:
        raise ScenarioError(
            [Problem("--set", "expected key=value", text, "e.g. population.residents=500")], "command line"
        )
    try:
        parsed = tomllib.loads(f"v = {value}", parse_float=_finite_float)["v"]
    except tomllib.TOMLDecodeError:  # a ValueError too: caught before the clause below
        parsed = value
    except _FloatOverflow:
        raise ScenarioError(
            [Problem(key, "a number beyond a float's range", value, "at most about 1.8e308")], "command line"
        ) from None
    except RecursionError:
        raise ScenarioError(
            [Problem(key, "nests arrays or tables too deeply to read")], "command line"
        ) from None
    except ValueError as err:  # an integer of more than 4300 digits (Python's conversion limit)
        raise ScenarioError(
            [Problem(key, f"cannot be read as a number ({_first_clause(err)})")], "command line"
        ) from None
    return key, parsed


# --------------------------------------------------------------------------------------- internals


def _unknown_key(key: str) -> Problem:
    name = key.rsplit(".", 1)[-1]
    # a right name in the wrong section first, then the closest spelling
    guess = [k for k in PARAMETERS if k.endswith("." + name)][:1] if "." in key else []
    names = [k for k in (*PARAMETERS, *SECTIONS, *TOP_LEVEL) if k != key]
    guess = guess or difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if not guess and "." in key:
        near = difflib.get_close_matches(name, [k.split(".")[1] for k in PARAMETERS], n=1)
        guess = [k for k in PARAMETERS if near and k.endswith("." + near[0])][:1]
    hint = f"; did you mean {guess[0]}?" if guess else ""
    return Problem(key, "unknown key" + hint)


def text_problems(key: str, value: Any) -> list[Problem]:
    """A top-level text (``name``, ``description``) must be text within :data:`TEXT_LIMITS`."""
    if not isinstance(value, str):
        return [Problem(key, "must be text", value, "a string")]
    if len(value) > TEXT_LIMITS[key]:
        return [Problem(key, f"is {len(value):_} characters long", value, f"at most {TEXT_LIMITS[key]:_}")]
    return []


def _structure_problems(data: dict) -> list[Problem]:
    problems = []
    for key, value in data.items():
        if key in TOP_LEVEL:
            problems.extend(text_problems(key, value))
        elif key not in SECTIONS:
            problems.append(_unknown_key(key))
        elif not isinstance(value, dict):
            problems.append(Problem(key, "must be a table of settings", value, f"a [{key}] table"))
        else:
            for name in value:
                if name not in SECTIONS[key].model_fields:
                    problems.append(_unknown_key(f"{key}.{name}"))
    return problems


def _known_part(data: dict) -> dict:
    """``data`` without the entries :func:`_structure_problems` reports (so the rest can be checked)."""
    known = {}
    for key, value in data.items():
        if key in TOP_LEVEL and isinstance(value, str):
            known[key] = value
        elif key in SECTIONS and isinstance(value, dict):
            known[key] = {n: v for n, v in value.items() if n in SECTIONS[key].model_fields}
    return known


def _apply_presets(explicit: dict) -> dict:
    layered = {k: dict(v) if isinstance(v, dict) else v for k, v in explicit.items()}
    design = explicit.get("design", {}).get("kind", Design.model_fields["kind"].default.value)
    theory = explicit.get("theory", {}).get("kind", Theory.model_fields["kind"].default.value)
    presets = {}
    if isinstance(design, str) and design in DESIGN_PRESETS:
        for section, values in DESIGN_PRESETS[design]["values"].items():
            presets.setdefault(section, {}).update(values)
    if isinstance(theory, str) and theory in THEORY_PRESETS:
        presets.setdefault("theory", {}).update(THEORY_PRESETS[theory]["values"])
    for section, values in presets.items():
        layered[section] = {**values, **layered.get(section, {})}
    return layered


def _translate(err: ValidationError) -> list[Problem]:
    problems, seen = [], set()
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        key = f"{loc[0]}.{loc[1]}" if len(loc) >= 2 and loc[0] in SECTIONS else ".".join(loc) or "scenario"
        if key in seen:
            continue
        seen.add(key)
        got = e.get("input")
        allowed = PARAMETERS[key].allowed() if key in PARAMETERS else None
        problems.append(Problem(key, _message(e, got), got, allowed))
    return problems


def _message(e: dict, got: Any) -> str:
    kind = e["type"]
    if isinstance(got, float) and (math.isnan(got) or math.isinf(got)):
        return "must be a finite number"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "out of bounds"
    if kind in ("enum", "literal_error"):
        return "unknown choice"
    if kind.startswith("int") or kind.startswith("float") or kind in ("bool_type", "string_type"):
        return "wrong type"
    if kind in ("tuple_type", "list_type"):
        return "must be a list"
    if kind == "finite_number":
        return "must be a finite number"
    return e["msg"].lower()


def _deep_copy(d: dict) -> dict:
    return {
        k: _deep_copy(v) if isinstance(v, dict) else (list(v) if isinstance(v, list) else v)
        for k, v in d.items()
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# TOML's basic strings: these escapes, and \uXXXX for every other control character (TOML 1.0, "String")
_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string that reads back as exactly ``text``."""
    out = []
    for ch in text:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """A setting's value as TOML (a boolean, a number, text or a list of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


__all__ = [
    "PARAMETERS",
    "SECTIONS",
    "STAGES",
    "TEXT_LIMITS",
    "DesignKind",
    "ParamSpec",
    "Problem",
    "Scenario",
    "ScenarioError",
    "TheoryKind",
    "load_scenario",
    "parameters",
    "parse_assignment",
    "read_toml",
    "spec",
    "text_problems",
]
