"""Observables: statistics of a run that published findings can be held against.

Pattern-oriented modelling (Grimm et al. 2005) tests a model against several patterns observed at different
levels at once. ``data/targets/targets.toml`` lists such patterns (each with its source, population,
measure, value and uncertainty); every target names one observable below, the design whose setting it
corresponds to, and the month it is read at. This module computes the observables.

Levels: *individual* (what happens to a person taking part), *meeting* (who is in the room and how the
room talks) and *city* (what the city decides and where its money goes).

Each observable is a function ``f(model, record) -> float``, computed from the model's state and its record
of the month (:class:`model.state.Flows`) with numpy; it never writes model state and draws no random
numbers. ``nan`` means "not defined this month" (no meeting yet, nobody of that kind in the room), never
zero. Some observables need what the model does not keep past the month: who was in last month's room,
what participants knew before this month's exchange, and each month's values so far. :class:`ObservedModel`
(a :class:`~model.governance.GovernanceModel` that keeps them, with no effect on the run) provides these;
on a plain ``GovernanceModel`` such observables are ``nan``.

A published figure that pools many events (the share of Deliberative Polls' attitude indices that moved,
attendance over an assembly's sessions) is compared with a ``<name>_to_date`` observable: the mean of the
monthly observable over months 1 to now where it is defined, read at the last month of the window.

- :func:`observe` gives every observable at the model's current month;
- :func:`simulate_observables` runs a scenario and collects them at the months asked for.

Reading and checking the targets file is :mod:`experiments.targets` (its schema is in
``data/targets/README.md``).

The monthly observables (formula and source of each in its function's docstring):

=================================  ===========  ==========================================================
name                               level        what it measures
=================================  ===========  ==========================================================
``knowledge_gain``                 individual   share of the items a resident did not know that they learnt
                                                in the meeting (Luskin et al. 2002; Fishkin et al. 2007)
``retention``                      individual   share of last month's resident participants who came again
``willing_share``                  individual   share of residents who would accept an invitation now
``marginalised_participant_share`` meeting      share of the residents in the room who are marginalised
``marginalised_representation``    meeting      that share over the marginalised share of all residents
``lab_shared_discussed``           meeting      hidden-profile replica: chance an item all members hold is
                                                discussed (Stasser, Taylor & Hanna 1989)
``lab_unshared_discussed``         meeting      ... an item one member holds is discussed
``significant_view_shift``         meeting      1 if the residents' mean view moved significantly in the
                                                meeting, else 0 (Luskin et al. 2002)
``recommendation_uptake``          city         citizens' share of the say in the decision: how far the
                                                decided position follows their recommendation
``need_spend_correlation``         city         correlation across districts of need and decided money per
                                                head (Marquetti 2003; Touchton & Wampler 2014)
=================================  ===========  ==========================================================

and ``<name>_to_date`` for each name in :data:`RUNNING`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from coprod.model.convening import participation_cost
from coprod.model.governance import GovernanceModel
from coprod.model.kinds import OFFICIAL, RESIDENT
from coprod.model.knowledge import mention_probabilities
from coprod.model.scenario import Scenario
from scipy.stats import norm

NAN = float("nan")
LEVELS = ("individual", "meeting", "city")
# significance level of significant_view_shift's paired test: a two-sided test at the conventional 5%, the
# kind of test of net opinion change that Luskin, Fishkin & Jowell (2002) report for Deliberative Polls
SIGNIFICANCE = 0.05
# the test's critical value: the standard normal quantile 1 - SIGNIFICANCE / 2 (1.95996...)
Z_CRITICAL = float(norm.ppf(1 - SIGNIFICANCE / 2))
# group sizes of the hidden-profile replica: Stasser, Taylor & Hanna (1989) ran 3- and 6-person groups
LAB_GROUP_SIZES = (3, 6)


@dataclass
class MeetingRecord:
    """What an :class:`ObservedModel` keeps of a month that the model itself does not.

    ``previous_meeting``: actors in last month's meeting (indices into ``model.people``);
    ``knows_before``: bool (participants, K), what this month's participants knew before the exchange, rows
    in the order of ``model.flows.meeting``; ``None`` until the month's meeting has happened.
    """

    previous_meeting: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    knows_before: np.ndarray | None = None


class ObservedModel(GovernanceModel):
    """A :class:`~model.governance.GovernanceModel` that also keeps a :class:`MeetingRecord` each month and
    the monthly values of the observables in :data:`RUNNING` (``history``: name -> values of months 1, 2,
    ...), which the ``<name>_to_date`` observables average.

    It copies arrays before the model's own ``convene`` and ``deliberate`` run and computes observables
    after ``collect``; it changes nothing else: same random draws, same state, same outputs as the plain
    model with the same seed.
    """

    def __init__(self, scenario: Scenario | None = None, *, rng: Any = None, **overrides: Any):
        super().__init__(scenario, rng=rng, **overrides)
        self.record = MeetingRecord()
        self.history: dict[str, list[float]] = {name: [] for name in RUNNING}

    def convene(self) -> None:
        previous = self.flows.meeting.copy()
        super().convene()
        self.record = MeetingRecord(previous_meeting=previous)

    def deliberate(self) -> None:
        self.record.knows_before = self.people.knows[self.flows.meeting].copy()
        super().deliberate()

    def collect(self) -> None:
        super().collect()
        for name in RUNNING:
            self.history[name].append(float(OBSERVABLES[name].function(self, self.record)))


# ----------------------------------------------------------------------------------- individual level


def knowledge_gain(m, record: MeetingRecord | None) -> float:
    """Share of the knowledge items a resident participant did not hold before the meeting that they hold
    after it, averaged over the resident participants who did not already hold every item.

    ``gain_i = |B \\ K_i| / |not K_i|`` with ``K_i`` the items participant ``i`` held before the exchange
    (:attr:`MeetingRecord.knows_before`) and ``B`` the items the room believed (``Speech.believed``), which
    every participant learns (:func:`model.knowledge.share_knowledge`). This is the normalised gain
    ``(after - before) / (1 - before)`` of the share of items known, the form in which a deliberative poll's
    knowledge quiz is compared (Luskin, Fishkin & Jowell 2002; Fishkin et al. 2007: 22% of answers right
    before, 50% after, a normalised gain of 0.36). Range 0-1; ``nan`` with fewer than two in the room (no
    exchange), no resident present, or no record (a plain ``GovernanceModel``).
    """
    flows = m.flows
    idx = flows.meeting
    if record is None or record.knows_before is None or flows.speech is None or len(idx) < 2:
        return NAN
    before = record.knows_before
    if before.shape[0] != len(idx):
        return NAN
    residents = m.people.kind[idx] == RESIDENT
    unknown = ~before[residents]
    n_unknown = unknown.sum(axis=1)
    learnt = (unknown & flows.speech.believed[None, :]).sum(axis=1)
    valid = n_unknown > 0
    if not valid.any():
        return NAN
    return float(np.mean(learnt[valid] / n_unknown[valid]))


def retention(m, record: MeetingRecord | None) -> float:
    """Share of last month's resident participants who take part again this month:
    ``|R_{t-1} ∩ R_t| / |R_{t-1}|`` over residents ``R`` in the meeting. The complement is the month's
    drop-out (design continuity, fatigue and burn-out, distrust: :func:`model.convening.convene`); compare
    the attendance of a standing citizens' assembly from one session to the next. Range 0-1; ``nan`` when
    no resident took part last month (month 1, the pilot meeting not being a meeting) or without a record.
    """
    if record is None:
        return NAN
    previous = record.previous_meeting
    previous = previous[m.people.kind[previous] == RESIDENT]
    if len(previous) == 0:
        return NAN
    return float(m.people.taking_part[previous].mean())


def willing_share(m, record: MeetingRecord | None = None) -> float:
    """Expected share of residents who would accept an invitation this month: able to come (time and energy
    ``capacity x (1 - fatigue)`` at least the cost of taking part net of the stipend, and not burnt out)
    and willing (with chance ``behaviour.willingness_floor + (1 - floor) x trust in officials``), exactly
    the two filters of :func:`model.convening.convene`, taken in expectation so no random number is drawn:
    ``mean_i able_i (floor + (1 - floor) trust_i)``. Compare the share of a civic lottery's invitees who
    register (Climate Assembly UK 2020). Range 0-1.
    """
    p, s = m.people, m.settings
    r = m.n_residents
    cost = participation_cost(m)[:r]
    fatigue = p.fatigue[:r]
    able = (p.capacity[:r] * (1.0 - fatigue) >= cost) & (fatigue < s.resources.dropout_fatigue)
    floor = s.behaviour.willingness_floor
    willing = floor + (1.0 - floor) * p.trust[:r, OFFICIAL]
    return float(np.mean(able * willing))


# -------------------------------------------------------------------------------------- meeting level


def _residents_in_room(m) -> np.ndarray:
    idx = m.flows.meeting
    return idx[m.people.kind[idx] == RESIDENT]


def marginalised_participant_share(m, record: MeetingRecord | None = None) -> float:
    """Share of the residents in this month's meeting who are marginalised: ``mean_{i in R_t} marg_i``.
    Compare the share of low-income participants in Porto Alegre's participatory budget assemblies
    (Fedozzi/UFRGS & ObservaPOA 2009 survey). Range 0-1; ``nan`` with no resident in the room.
    """
    residents = _residents_in_room(m)
    if len(residents) == 0:
        return NAN
    return float(m.people.marginalised[residents].mean())


def marginalised_representation(m, record: MeetingRecord | None = None) -> float:
    """Representation ratio of marginalised residents in the room: their share among resident participants
    over their share among all residents (1: a mirror of the city; below 1: under-represented; Fung 2006 on
    who takes part). Range 0 to ``1 / marginalised share``; ``nan`` with no resident in the room or no
    marginalised resident in the city.
    """
    share = marginalised_participant_share(m)
    city = float(m.people.marginalised[: m.n_residents].mean())
    if math.isnan(share) or city <= 0:
        return NAN
    return share / city


def _lab_discussed(m, holders: Callable[[int], int]) -> float:
    dl = m.settings.deliberation
    chances = [
        mention_probabilities(
            np.zeros(1),
            np.array([holders(n)]),
            n,
            mention=dl.mention_probability,
            bias=dl.hidden_profile_bias,
            credibility=1.0,
        )[0]
        for n in LAB_GROUP_SIZES
    ]
    return float(np.mean(chances))


def lab_shared_discussed(m, record: MeetingRecord | None = None) -> float:
    """Hidden-profile replica of Stasser, Taylor & Hanna (1989): the chance that an item every member of a
    laboratory group holds is brought up, ``1 - (1 - q)^n`` with ``q = deliberation.mention_probability``,
    averaged over their 3- and 6-person groups. The model's own sampling rule
    (:func:`model.knowledge.mention_probabilities`, which :func:`model.knowledge.speak` draws) with the
    laboratory's conditions: equal voice (full airtime), no facilitator, nobody's testimony discounted.
    It depends on parameters only, not on the run. Range 0-1.
    """
    return _lab_discussed(m, lambda n: n)


def lab_unshared_discussed(m, record: MeetingRecord | None = None) -> float:
    """Hidden-profile replica (see :func:`lab_shared_discussed`): the chance that an item only one member
    holds is brought up, ``q (1 - b (1 - 1/n))`` with ``b = deliberation.hidden_profile_bias``, averaged over
    3- and 6-person groups (Stasser, Taylor & Hanna 1989; the bias towards shared items is robust across 65
    studies, Lu, Yuan & McLeod 2012). Range 0-1.
    """
    return _lab_discussed(m, lambda n: 1)


def significant_view_shift(m, record: MeetingRecord | None = None) -> float:
    """1 if the residents' mean view moved significantly during this month's meeting, else 0.

    With ``d_i = view_after_i - view_before_i`` over the residents in the meeting (``Flows.views_before``
    and ``views_after``, around the meeting's exchange only), a paired two-sided test at 5%:
    ``|mean(d)| > 1.96 sd(d) / sqrt(n)`` (normal approximation to Luskin, Fishkin & Jowell's 2002 paired
    t-tests; ``sd`` with ``n - 1``); if every ``d_i`` is equal, 1 when they are not zero. Averaged over a
    window of months it is the share of meetings with significant net opinion change, which Deliberative
    Polls report per attitude index. Values 0 or 1; ``nan`` with fewer than two residents in the room.
    """
    flows = m.flows
    idx = flows.meeting
    if len(idx) < 2 or len(flows.views_before) != len(idx) or len(flows.views_after) != len(idx):
        return NAN
    residents = m.people.kind[idx] == RESIDENT
    d = flows.views_after[residents] - flows.views_before[residents]
    n = len(d)
    if n < 2:
        return NAN
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return float(mean != 0.0)
    return float(abs(mean) > Z_CRITICAL * sd / math.sqrt(n))


# ----------------------------------------------------------------------------------------- city level


def recommendation_uptake(m, record: MeetingRecord | None = None) -> float:
    """Citizens' share of the say in this month's decision, ``sum_{j: kind_j != official} power_j`` over the
    decision's social power (:class:`model.decisions.Decision`; officials who deferred pass theirs on).
    Under the advisory rule the decided position is ``u x recommendation + (1 - u) x officials' view``, so
    ``u`` is the share of the citizens' recommendation taken up: a government that adopts a share ``u`` of
    an assembly's recommendations and drops the rest lands, in expectation, at the same point. Range 0-1;
    ``nan`` before the first decision.
    """
    decision = m.flows.decision
    if decision is None or len(decision.power) == 0:
        return NAN
    citizen = m.people.kind[decision.power_idx] != OFFICIAL
    return float(np.clip(decision.power[citizen].sum(), 0.0, 1.0))


def need_spend_correlation(m, record: MeetingRecord | None = None) -> float:
    """Pearson correlation, across districts, between need and the decided pot's money per head
    (``Decision.allocation / district population``): positive when the money the process decides goes
    where need is greatest, as Porto Alegre's participatory budget redirected investment to its poorer
    regions (Marquetti 2003) and participatory budgeting raised health spending in Brazilian cities
    (Touchton & Wampler 2014). Range -1 to 1; ``nan`` before the first decision, with one district, or when
    need or money per head does not vary.
    """
    decision = m.flows.decision
    need = np.asarray(m.need, dtype=float)
    if decision is None or len(need) < 2:
        return NAN
    per_head = decision.allocation / np.maximum(m.district_population, 1)
    if need.std() == 0 or per_head.std() == 0:
        return NAN
    return float(np.corrcoef(need, per_head)[0, 1])


# ------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True)
class Observable:
    """One observable: its function, level, range, and whether it needs an :class:`ObservedModel` (its
    record of the month or its history of monthly values; ``nan`` on a plain model)."""

    name: str
    function: Callable[[Any, MeetingRecord | None], float]
    level: str
    low: float
    high: float  # math.inf where the upper bound depends on the run (stated in the docstring)
    needs_record: bool = False

    @property
    def about(self) -> str:
        return (self.function.__doc__ or "").strip()


MONTHLY = (
    Observable("knowledge_gain", knowledge_gain, "individual", 0.0, 1.0, needs_record=True),
    Observable("retention", retention, "individual", 0.0, 1.0, needs_record=True),
    Observable("willing_share", willing_share, "individual", 0.0, 1.0),
    Observable("marginalised_participant_share", marginalised_participant_share, "meeting", 0.0, 1.0),
    Observable("marginalised_representation", marginalised_representation, "meeting", 0.0, math.inf),
    Observable("lab_shared_discussed", lab_shared_discussed, "meeting", 0.0, 1.0),
    Observable("lab_unshared_discussed", lab_unshared_discussed, "meeting", 0.0, 1.0),
    Observable("significant_view_shift", significant_view_shift, "meeting", 0.0, 1.0),
    Observable("recommendation_uptake", recommendation_uptake, "city", 0.0, 1.0),
    Observable("need_spend_correlation", need_spend_correlation, "city", -1.0, 1.0),
)
# the monthly observables that depend on the month's events, so a mean over months means something; the
# others are state (willing_share) or parameters (the laboratory replica)
RUNNING = (
    "knowledge_gain",
    "retention",
    "marginalised_participant_share",
    "marginalised_representation",
    "significant_view_shift",
    "recommendation_uptake",
    "need_spend_correlation",
)


def _to_date(name: str) -> Callable[[Any, MeetingRecord | None], float]:
    def mean_to_date(m, record: MeetingRecord | None = None) -> float:
        history = getattr(m, "history", None)
        if history is None:
            return NAN
        values = np.asarray(history[name], dtype=float)
        values = values[~np.isnan(values)]
        return float(values.mean()) if len(values) else NAN

    mean_to_date.__name__ = f"{name}_to_date"
    mean_to_date.__doc__ = (
        f"Mean of ``{name}`` over months 1 to now, over the months where it is defined (an "
        f":class:`ObservedModel` keeps the monthly values in ``history``): the statistic of a target that "
        f"pools events over a window starting at month 1, read at the window's last month. ``nan`` before "
        f"``{name}`` is first defined, or without a history (a plain ``GovernanceModel``)."
    )
    return mean_to_date


OBSERVABLES: dict[str, Observable] = {o.name: o for o in MONTHLY}
for _name in RUNNING:
    _base = OBSERVABLES[_name]
    OBSERVABLES[f"{_name}_to_date"] = Observable(
        f"{_name}_to_date", _to_date(_name), _base.level, _base.low, _base.high, needs_record=True
    )
del _name, _base


def observe(model, names: Iterable[str] | None = None) -> dict[str, float]:
    """Every observable (or those ``names``) at the model's current month. On a plain
    :class:`~model.governance.GovernanceModel` the observables that need a record are ``nan``."""
    record = getattr(model, "record", None)
    chosen = OBSERVABLES if names is None else {n: OBSERVABLES[n] for n in names}
    return {name: float(o.function(model, record)) for name, o in chosen.items()}


def simulate_observables(
    scenario: Scenario,
    months: Iterable[int],
    *,
    seed: int | None = None,
    names: Iterable[str] | None = None,
) -> dict[str, dict[int, float]]:
    """Run ``scenario`` (an :class:`ObservedModel`, seed ``seed`` or the scenario's ``run.seed``) to the
    last of ``months`` and return ``{observable: {month: value}}`` at each month asked for (month 0 is the
    start, before any step)."""
    wanted = sorted({int(t) for t in months})
    if not wanted or wanted[0] < 0:
        raise ValueError(f"months must be non-negative and not empty, got {wanted}")
    names = list(OBSERVABLES if names is None else names)
    model = ObservedModel(scenario, rng=scenario.run.seed if seed is None else seed)
    out: dict[str, dict[int, float]] = {name: {} for name in names}

    def collect(t: int) -> None:
        for name, value in observe(model, names).items():
            out[name][t] = value

    if wanted[0] == 0:
        collect(0)
    targets = set(wanted)
    for t in range(1, wanted[-1] + 1):
        model.step()
        if t in targets:
            collect(t)
    return out
