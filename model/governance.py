"""GovernanceModel: the world, and the monthly schedule of coproduction."""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
from coprod.model.agents import KINDS
from coprod.model.choices import Plan, plan
from coprod.model.conditions import readiness
from coprod.model.convening import convene
from coprod.model.decisions import decide
from coprod.model.initiatives import act, status_quo_allocation
from coprod.model.kinds import N_THEORIES
from coprod.model.knowledge import publish
from coprod.model.learning import bear_costs, respond, spread_theories, update_trust
from coprod.model.meeting import deliberate
from coprod.model.metrics import OUTPUTS, baseline, leadership_concentration, measure, remember
from coprod.model.mobilisation import mobilise
from coprod.model.network import adjacency
from coprod.model.restructuring import LEVERS, restructure
from coprod.model.rewiring import rewire
from coprod.model.scenario import PARAMETERS, Problem, Scenario, ScenarioError
from coprod.model.state import Flows
from coprod.model.world import build_people, build_ties, district_needs


class GovernanceModel(mesa.Model):
    """An agent-based model of just coproduction in urban governance; one step is one month.

    Each step runs the process in this order (the ODD "process overview"):

    1. **convene**: the design selects participants; cost against capacity decides who can come;
    2. **deliberate**: power-weighted, facilitated bounded-confidence exchange with stubbornness,
       hidden-profile knowledge sharing, the pull of believed evidence, and everyday talk along ties;
    3. **decide**: the design's decision rule; accountable officials defer to the citizens;
    4. **act**: spending through the delivery pipeline, and experiments, with outcomes from capacity,
       resources and the knowledge mix;
    5. **learn**: costs and fatigue, skills, trust, officials' response and accountability, success-biased
       spread of theories of change;
    6. **mobilise**: actors act on the theory of change they hold: effort, documenting evidence, bridging;
    7. **rewire**: co-participants form ties;
    8. **restructure**: actors' effort moves the levers of the structure, where each theory's condition
       holds; inertia and backlash push back;
    9. **collect**: what the outputs remember from month to month, and the leadership estimate on its
       interval; the outputs themselves (see :mod:`model.metrics`) are measured from the state when they
       are read (``model.outputs``), at most once a month.

    ``GovernanceModel(scenario=None, *, rng=None, **overrides)``: ``overrides`` are parameter names, either
    dotted keys passed as ``section__name`` (``population__residents=500``) or bare names that are unique
    across sections (``residents=500``); ``design=`` and ``theory=`` set the kinds. ``rng`` (a seed or a
    Generator) overrides ``run.seed``. The validated scenario is ``model.settings`` (Mesa's own
    ``model.scenario`` is left to Mesa). With ``record=True`` (the default) Mesa's ``model.datacollector``
    holds every output of every month; :func:`model.simulate.simulate` passes ``record=False`` and reads
    ``model.outputs`` only at the months it keeps, which skips measuring the others (the outputs do not
    feed back into the run, so what is kept is the same either way).
    """

    def __init__(
        self, scenario: Scenario | None = None, *, rng: Any = None, record: bool = True, **overrides: Any
    ):
        scenario = scenario or Scenario.build({})
        if overrides:
            scenario = scenario.with_overrides(_keywords(overrides))
        super().__init__(rng=scenario.run.seed if rng is None else rng)
        self.settings = scenario
        s = scenario
        self.n_residents = s.population.residents
        self.n_officials = s.population.officials
        self.n_groups = s.population.civil_society_groups
        self.n_districts = s.population.districts

        self.people = build_people(s, self.rng)
        # measurement draws (the betweenness sample, month 0's pilot meeting) come from a child of the
        # model's generator, so how often and how finely we measure never changes the run itself
        self.measure_rng = self.rng.spawn(1)[0]
        p = self.people
        r = self.n_residents
        self.district_population = np.bincount(p.district[:r], minlength=self.n_districts)
        marginalised = np.bincount(p.district[:r], weights=p.marginalised[:r], minlength=self.n_districts)
        self.need = district_needs(
            s, marginalised / np.maximum(self.district_population, 1), float(p.marginalised[:r].mean())
        )
        self.status_quo = status_quo_allocation(
            self.district_population.astype(float), self.need, s.context.elite_bias
        )
        fair = self.need * self.district_population
        self.fair_per_head = fair / fair.sum() * s.resources.budget / np.maximum(self.district_population, 1)
        self.edges = build_ties(s, p, self.rng)
        self.adjacency = adjacency(self.edges, p.n)

        self.structure = {lever: float(getattr(s.structure, lever)) for lever in LEVERS}
        self.structure0 = dict(self.structure)
        self.flows = Flows(
            toc_score=np.full(N_THEORIES, s.behaviour.prior_success),
            pipeline=np.zeros(self.n_districts),
            partner_pipeline=np.zeros(self.n_districts),
        )
        # before the programme the decided pot was committed under the status quo: its delivery pipeline
        # starts at that rule's steady state, new * (1 - rate) / rate with officials implementing their own
        # decisions at rate state_capacity
        rate = s.context.state_capacity
        if rate > 0:
            pot = s.design.budget_share * s.resources.budget
            self.flows.pipeline = pot * self.status_quo * (1 - rate) / rate
        # residents start with a month of status-quo spending behind them
        p.benefits[:r] = (self.status_quo * s.resources.budget / np.maximum(self.district_population, 1))[
            p.district[:r]
        ]

        self.flows.readiness = readiness(self)  # the context the first month's experiments meet

        for code, agent_class in enumerate(KINDS):
            for index in np.flatnonzero(p.kind == code).tolist():
                agent_class(self, index)

        self.human: Plan | None = None  # the choices of the agents people play (:meth:`choose`)
        self._designed: Scenario | None = None  # the settings before a month's played facilitation

        self.memory = baseline(self)
        self.recording = record  # Mesa's DataCollector reads every month
        self._outputs: dict[str, float] = {}
        self._measured_at = -1  # the month self._outputs were measured at
        self.datacollector = mesa.DataCollector(model_reporters={name: _reporter(name) for name in OUTPUTS})
        self._collect()

    # ------------------------------------------------------------------------------ the schedule

    def step(self) -> None:
        self.convene()
        self.deliberate()
        self.decide()
        self.act()
        self.learn()
        self.mobilise()
        self.rewire()
        self.restructure()
        self.collect()

    # ----------------------------------------------------------------------------- the mechanisms

    def convene(self) -> None:
        """The design selects who takes part this month (:mod:`model.convening`); agents people play come,
        stay away and facilitate as they chose (:mod:`model.choices`)."""
        if self.human:
            self._as_designed()
            self.human.start_month(self)
        convene(self)
        if self.human:
            self.human.attend(self)
            self._designed = self.settings
            self.human.facilitate(self, self._designed)
        self.flows.meeting = np.flatnonzero(self.people.taking_part)

    def deliberate(self) -> None:
        """The meeting's exchange of views and knowledge, then everyday talk (:mod:`model.meeting`)."""
        deliberate(self)

    def decide(self) -> None:
        """The design's decision rule (:mod:`model.decisions`); a published decision carries its evidence."""
        flows = self.flows
        flows.decision = decide(self, flows.meeting, flows.weights)
        if flows.decision.published:
            publish(self, flows.speech.believed)

    def act(self) -> None:
        """Spending and experiments (:mod:`model.initiatives`)."""
        self.flows.outcome = act(self, self.flows.decision)

    def learn(self) -> None:
        """Costs, skills, trust, officials' response and the spread of theories (:mod:`model.learning`)."""
        bear_costs(self)
        update_trust(self, self.flows.decision)
        respond(self, self.flows.decision)
        spread_theories(self, self.flows.outcome)

    def mobilise(self) -> None:
        """Actors act on the theory of change they hold (:mod:`model.mobilisation`); played groups on the
        one their organiser chose."""
        if self.human:
            self.human.act_on_theories(self)
        mobilise(self)

    def rewire(self) -> None:
        """Co-participants form ties (:mod:`model.rewiring`)."""
        rewire(self)

    def restructure(self) -> None:
        """Actors' effort on their theories moves the governance structure (:mod:`model.restructuring`)."""
        restructure(self)

    def collect(self) -> None:
        """What the outputs of :mod:`model.metrics` remember; with ``record``, every output, once per step."""
        remember(self)
        self._collect()

    # ----------------------------------------------------------------------------- people playing

    def choose(self, choices: dict[int, dict[str, Any]]) -> None:
        """Agents played by people: ``{agent: {choice: value}}`` (:data:`model.choices.CHOICES`) replaces
        their simulated behaviour in every following month until the next ``choose``; ``{}`` hands them all
        back to the simulation. :class:`model.choices.ChoiceError` (one line) for a choice not allowed."""
        checked = plan(self, choices)
        self._as_designed()
        self.human = checked

    def redesign(self, design: str | None = None, theory: str | None = None) -> None:
        """An institutional experiment: from the next month the city runs under another ``design.kind`` or
        ``theory.kind`` (their presets re-applied, the user's own settings kept; the governance structure
        the city has reached carries over). Raises :class:`model.scenario.ScenarioError` for a bad name."""
        changes = {f"{key}.kind": value for key, value in (("design", design), ("theory", theory)) if value}
        self._as_designed()
        self.settings = self.settings.with_overrides(changes, source="<redesign>")

    def _as_designed(self) -> None:
        """Undo a month's played facilitation (:meth:`model.choices.Plan.facilitate`)."""
        if self._designed is not None:
            self.settings, self._designed = self._designed, None

    @property
    def outputs(self) -> dict[str, float]:
        """Every output at the current month, measured on first reading after each collect
        (:func:`model.metrics.measure`)."""
        if self._measured_at != self.steps:
            self._outputs = measure(self)
            self._measured_at = self.steps
        return self._outputs

    # ------------------------------------------------------------------------------- helpers

    def _collect(self) -> None:
        self._measured_at = -1  # the state has moved on: the outputs are measured again when read
        # the betweenness sample draws from measure_rng: taken on its interval whether or not the month is
        # read, so that the draws, and so the values, never depend on which months are read
        if self.steps % self.settings.run.betweenness_interval == 0:
            self.memory.leadership = leadership_concentration(self)
        if self.recording:
            self.datacollector.collect(self)


def _reporter(name: str):
    return lambda model: model.outputs[name]


_BARE = {}
for _key in PARAMETERS:
    _BARE.setdefault(_key.split(".")[1], []).append(_key)


def _keywords(overrides: dict[str, Any]) -> dict[str, Any]:
    """Map keyword arguments to dotted parameter keys (see :class:`GovernanceModel`)."""
    out = {}
    for name, value in overrides.items():
        if name in ("design", "theory"):
            out[f"{name}.kind"] = value
        elif "__" in name:
            out[name.replace("__", ".", 1)] = value
        elif len(_BARE.get(name, [])) == 1:
            out[_BARE[name][0]] = value
        elif name in _BARE:
            choices = ", ".join(k.replace(".", "__") for k in _BARE[name])
            raise ScenarioError([Problem(name, "ambiguous keyword", allowed=f"one of {choices}")], "keywords")
        else:
            out[name] = value  # validated (with a did-you-mean) by Scenario.with_overrides
    return out
