"""GovernanceModel: the world, and the monthly schedule of coproduction."""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from model.agents import KINDS
from model.convening import convene, stubbornness, voice_weights
from model.decisions import Decision, decide
from model.deliberation import deffuant
from model.initiatives import Outcome, act, status_quo_allocation
from model.knowledge import publish, renew_knowledge, share_knowledge
from model.learning import bear_costs, respond, spread_theories, update_trust
from model.metrics import OUTPUTS, baseline, measure, remember
from model.network import add_edges, adjacency
from model.restructuring import LEVERS, restructure
from model.scenario import PARAMETERS, Problem, Scenario, ScenarioError
from model.world import build_people, build_ties, district_needs


class GovernanceModel(mesa.Model):
    """An agent-based model of just coproduction in urban governance; one step is one month.

    Each step runs the process in this order (the ODD "process overview"):

    1. **convene**: the design selects participants; cost against capacity decides who can come;
    2. **deliberate**: power-weighted, facilitated bounded-confidence exchange with stubbornness,
       hidden-profile knowledge sharing, the pull of shared evidence, and everyday talk along ties;
    3. **decide**: the design's decision rule;
    4. **act**: spending and experiments, with outcomes from capacity, resources and the knowledge mix;
    5. **learn**: costs and fatigue, skills, trust, success-biased spread of theories of change;
    6. **rewire**: co-participants form ties;
    7. **restructure**: the theory of change moves the governance structure;
    8. **collect**: every output (see :mod:`model.metrics`).

    ``GovernanceModel(scenario=None, *, rng=None, **overrides)``: ``overrides`` are parameter names, either
    dotted keys passed as ``section__name`` (``population__residents=500``) or bare names that are unique
    across sections (``residents=500``); ``design=`` and ``theory=`` set the kinds. ``rng`` (a seed or a
    Generator) overrides ``run.seed``.
    """

    def __init__(self, scenario: Scenario | None = None, *, rng: Any = None, **overrides: Any):
        scenario = (
            (scenario or Scenario.build({})).with_overrides(_keywords(overrides))
            if overrides
            else (scenario or Scenario.build({}))
        )
        self._scenario = scenario
        super().__init__(rng=scenario.run.seed if rng is None else rng)
        self.design = scenario.design
        s = scenario
        self.n_residents = s.population.residents
        self.n_officials = s.population.officials
        self.n_groups = s.population.civil_society_groups
        self.n_districts = s.population.districts

        self.people = build_people(s, self.rng)
        # measurement draws (the betweenness sample) come from a child of the model's generator, so how
        # often and how finely we measure never changes the run itself
        self.measure_rng = self.rng.spawn(1)[0]
        p = self.people
        self.district_population = np.bincount(p.district[: self.n_residents], minlength=self.n_districts)
        marg_share = np.bincount(
            p.district[: self.n_residents],
            weights=p.marginalised[: self.n_residents],
            minlength=self.n_districts,
        ) / np.maximum(self.district_population, 1)
        self.need = district_needs(s, marg_share)
        self.status_quo = status_quo_allocation(
            self.district_population.astype(float), self.need, s.context.elite_bias
        )
        fair = self.need * self.district_population
        fair_share = fair / fair.sum()
        self.fair_per_head = fair_share * s.resources.budget / np.maximum(self.district_population, 1)
        self.month_spend_per_head = self.fair_per_head.copy()
        self.edges = build_ties(s, p, self.rng)
        self.adjacency = adjacency(self.edges, p.n)

        self.structure = {lever: float(getattr(s.structure, lever)) for lever in LEVERS}
        self.structure0 = dict(self.structure)
        self.toc_score = np.full(4, 0.5)
        self.cofinancing_history: list[float] = []
        self.locked_allocation = self.status_quo.copy()
        self.meeting = np.zeros(0, dtype=np.int64)
        self.meeting_views = (np.zeros(0), np.zeros(0))
        # residents start with a year of status-quo spending behind them
        p.benefits[: self.n_residents] = (
            12
            * (
                self.status_quo
                * s.resources.budget
                * (0.5 + 0.5 * s.context.state_capacity)
                / np.maximum(self.district_population, 1)
            )[p.district[: self.n_residents]]
        )

        for code, agent_class in enumerate(KINDS):
            for index in np.flatnonzero(p.kind == code).tolist():
                agent_class(self, index)

        self.memory = baseline(self)
        self.outputs: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(model_reporters={name: _reporter(name) for name in OUTPUTS})
        self._collect()

    # ------------------------------------------------------------------------------ the schedule

    def step(self) -> None:
        self.convene()
        mentioned, weights = self.deliberate()
        decision = self.decide(weights, mentioned)
        outcome = self.act(decision)
        self.learn(decision, outcome)
        self.rewire()
        self.restructure(outcome)
        self.collect(decision, mentioned, weights, outcome)

    # ----------------------------------------------------------------------------- the mechanisms

    def convene(self) -> None:
        """The design selects who takes part this month (:mod:`model.convening`)."""
        convene(self)
        self.meeting = np.flatnonzero(self.people.taking_part)

    def deliberate(self) -> tuple[np.ndarray, np.ndarray]:
        """Exchange of views and knowledge in the meeting, then everyday talk along ties."""
        p, s = self.people, self.scenario
        idx, d, dl = self.meeting, s.design, s.deliberation
        weights = voice_weights(self, idx)
        mentioned = np.zeros(len(p.item_lay), dtype=bool)
        before = p.view[idx].copy()
        if len(idx) >= 2:
            per_round = 1 - (1 - stubbornness(self, idx)) ** (1 / dl.rounds)
            p.view[idx] = deffuant(
                p.view[idx],
                threshold=min(1.0, dl.confidence * (1 + d.facilitation)),
                convergence=dl.convergence,
                interactions=dl.rounds * len(idx) // 2,
                rng=self.rng,
                weights=weights,
                stubbornness=per_round,
                anchors=p.view0[idx],
            )
            mentioned = share_knowledge(self, idx)
            if mentioned.any():
                self._weigh_evidence(idx, mentioned)
            self._frame(idx, weights, mentioned)
        self.meeting_views = (before, p.view[idx].copy())
        talks = int(s.network.talk_rate * p.n / 2)
        if talks and len(self.edges):
            p.view[:] = deffuant(
                p.view,
                threshold=dl.confidence,
                convergence=dl.convergence,
                interactions=talks,
                rng=self.rng,
                edges=self.edges,
            )
        # everyone keeps some hold on where they started (Friedkin-Johnsen prejudice), month by month
        hold = dl.stubbornness
        p.view += hold * (p.view0 - p.view)
        p.salience += hold * (p.salience0 - p.salience)
        renew_knowledge(self)
        self._speak_for_members()
        return mentioned, weights

    def decide(self, weights: np.ndarray, mentioned: np.ndarray) -> Decision:
        """The design's decision rule (:mod:`model.decisions`); a published decision carries its evidence."""
        decision = decide(self, self.meeting, weights)
        if decision.published:
            publish(self, mentioned)
        return decision

    def act(self, decision: Decision) -> Outcome:
        """Spending and experiments (:mod:`model.initiatives`)."""
        before = self.people.benefits[: self.n_residents].copy()
        outcome = act(self, decision)
        gained = self.people.benefits[: self.n_residents] - before
        self.month_spend_per_head = np.bincount(
            self.people.district[: self.n_residents], weights=gained, minlength=self.n_districts
        ) / np.maximum(self.district_population, 1)
        self.cofinancing_history.append(self.structure["co_financing"])
        return outcome

    def learn(self, decision: Decision, outcome: Outcome) -> None:
        """Costs, skills, trust, officials' accountability and the spread of theories of change
        (:mod:`model.learning`)."""
        bear_costs(self)
        update_trust(self, decision.position)
        respond(self, decision.recommendation)
        spread_theories(self, outcome)

    def rewire(self) -> None:
        """Co-participants form ties, cross-sector ties more readily under a coalition theory."""
        idx, s = self.meeting, self.scenario
        if len(idx) < 2 or s.network.tie_formation == 0:
            return
        pairs = idx[self.rng.permutation(len(idx))][: len(idx) // 2 * 2].reshape(-1, 2)
        kind = self.people.kind
        cross = kind[pairs[:, 0]] != kind[pairs[:, 1]]
        chance = np.minimum(1.0, s.network.tie_formation * (1 + s.theory.bridging_boost * cross))
        new = pairs[self.rng.random(len(pairs)) < chance]
        if len(new):
            self.edges, fresh = add_edges(self.edges, new)
            if len(fresh):  # the CSR grows by the fresh ties (a sum is linear; a rebuild sorts every tie)
                self.adjacency = self.adjacency + adjacency(fresh, self.people.n)

    def restructure(self, outcome: Outcome) -> None:
        """The theory of change moves the governance structure (:mod:`model.restructuring`)."""
        mem = self.memory
        lay = mem.lay_evidence / mem.all_evidence if mem.all_evidence > 0 else 0.0
        restructure(self, outcome, evidence_quality=4 * lay * (1 - lay))

    def collect(
        self, decision: Decision, mentioned: np.ndarray, weights: np.ndarray, outcome: Outcome
    ) -> None:
        """Every output of :mod:`model.metrics`, once per step."""
        remember(self, decision, mentioned, weights, outcome)
        self._collect()

    # ------------------------------------------------------------------------------- helpers

    @property
    def scenario(self) -> Scenario:
        """The validated scenario this model runs (Mesa's own experimental scenario is kept aside)."""
        return self._scenario

    @scenario.setter
    def scenario(self, value: Any) -> None:
        if isinstance(value, Scenario):
            self._scenario = value
        else:  # mesa.Model.__init__ installs its experimental Scenario; ours is the one that counts
            self._mesa_scenario = value

    @property
    def lock_in(self) -> float:
        """Share of decided resources tied in co-financed commitments still running."""
        window = self.scenario.resources.commitment_months
        recent = self.cofinancing_history[-window:]
        return float(sum(recent) / window)

    def _collect(self) -> None:
        self.outputs = measure(self)
        self.datacollector.collect(self)

    def _weigh_evidence(self, idx: np.ndarray, mentioned: np.ndarray) -> None:
        """Truth-seeking pull of shared evidence on participants (Hegselmann & Krause 2006), resisted in
        proportion to each participant's stubbornness."""
        p, s = self.people, self.scenario
        evidence = float(p.item_value[mentioned].mean())
        pull = min(1.0, s.theory.evidence_attraction * (1 + ("analysis" in s.design.stages)))
        p.view[idx] += pull * (1 - stubbornness(self, idx)) * (evidence - p.view[idx])

    def _frame(self, idx: np.ndarray, weights: np.ndarray, mentioned: np.ndarray) -> None:
        """Justice framing spreads in the meeting: one DeGroot step toward the voice-weighted mean
        salience, raised by the lay and community knowledge that was heard."""
        p = self.people
        target = float(weights @ p.salience[idx] / weights.sum())
        lay_heard = float(mentioned[p.item_lay].mean()) if p.item_lay.any() else 0.0
        p.salience[idx] += self.scenario.deliberation.convergence * (
            np.clip(target + 0.5 * lay_heard, 0, 1) - p.salience[idx]
        )

    def _speak_for_members(self) -> None:
        """A group's view and framing are its members' means."""
        p = self.people
        members = np.flatnonzero(p.group_of >= 0)
        if len(members) == 0:
            return
        g = p.group_of[members]
        counts = np.bincount(g, minlength=self.n_groups)
        has = np.flatnonzero(counts > 0)
        for attr in ("view", "salience"):
            sums = np.bincount(g, weights=getattr(p, attr)[members], minlength=self.n_groups)
            getattr(p, attr)[p.first_group + has] = sums[has] / counts[has]


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
