"""The story of a run: what happened, month by month, in plain words, and whose views moved.

A :class:`Story` is fed the model after each step (``story.observe(model)``; :func:`tell` runs a scenario
that way). It reads the model's state and never writes it, and draws no random numbers, so observing never
changes the run. It keeps

- *readings*: a few numbers per month, each read from one state variable of the model (:func:`read`);
- *events*: changes in the readings between months, found by the detectors in :data:`DETECTORS`; each
  detector's docstring names the state variable it reads. A detector reads this month's readings (and a
  fixed number of months before) and keeps the rest of what it needs as running state (:class:`State`), so
  observing a month costs the same however long the run has been going;
- *opinions*: quantiles of views (0 = no change needed, 1 = radical change) per group of actors per month.

Every threshold below is a **presentation** choice (an assumption), not a model parameter: it decides what
is worth a line of the story, never what happens in the model. Where a state can hover at a threshold, the
detectors use hysteresis (a switch turned on at one level and off at another, or only after it has held for
some months), so a flicker is not told as a string of events.
"""

from __future__ import annotations

import functools
import json
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from coprod.model import THEORY_PRESETS, GovernanceModel, Scenario
from coprod.model.convening import unable
from coprod.model.kinds import ACADEMIC, GROUP, OFFICIAL, RESIDENT, THEORIES
from coprod.model.metrics import RUNGS
from coprod.model.restructuring import LEVERS

# ------------------------------------------------------------------------ presentation thresholds
# (assumptions: they choose what the story tells, not what the model does)

# a theory's condition counts as met once its readiness has stood at 1 for CONDITION_MET_HOLD months, and
# as lapsed once it has stayed below CONDITION_LAPSED of what it needs for CONDITION_LAPSED_HOLD months
# (half a year: a condition such as the coalition's, read off a handful of academics, flickers month to month)
CONDITION_MET = 1.0
CONDITION_MET_HOLD = 3
CONDITION_LAPSED = 0.75
CONDITION_LAPSED_HOLD = 6
# a lever "rises" when it gained at least LEVER_MOVE over the last LEVER_WINDOW months, and "stops rising"
# when its gain over the window falls below half that (and likewise for falling back)
LEVER_WINDOW = 12
LEVER_MOVE = 0.03
# trust levels worth telling when crossed, with a band a crossing must clear to count as one
TRUST_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TRUST_BAND = 0.02
# consensus bias "turns" when it moved at least BIAS_MOVE over BIAS_WINDOW months (it is smoothed but
# noisy), and is told turning the same way again only after its change over the window has changed sign
BIAS_WINDOW = 12
BIAS_MOVE = 0.05
# a rung of Arnstein's ladder is reached once citizens' realised say has stood on it for RUNG_HOLD months,
# and left once it has stayed RUNG_BAND of a rung below it as long
RUNG_BAND = 0.1
RUNG_HOLD = 6
# gaps between marginalised residents' and officials' median views worth telling; a crossing counts once
# the gap has stayed on its new side (by GAP_BAND beyond the level, going apart) for GAP_HOLD months, as
# the median of a few dozen officials wobbles
GAP_LEVELS = (0.4, 0.3, 0.2, 0.1, 0.05)
GAP_BAND = 0.02
GAP_HOLD = 6
# a month in which at least this many marginalised participants stopped coming is told
STOPPED_MIN = 3
# a month in which a forced consensus dropped at least this many participants is told
DROPPED_MIN = 3
# shares of officials who have adopted practice that are worth telling (the first adopter is always told)
ADOPTION_MILESTONES = (0.5, 1.0)
# months without a successful experiment (while experiments were tried) that make a drought
DROUGHT_MONTHS = 24
# a theory held by fewer than this share of actors is "nearly gone" (the 5% of toc_attrition); band above
RARE_SHARE = 0.05
RARE_BAND = 0.01
# a new most-held theory of change is told once it has led by LEAD_MARGIN of actors for LEAD_HOLD months
LEAD_HOLD = 3
LEAD_MARGIN = 0.02
# the printed log: at most this many lines; recurring events less than MERGE_GAP months apart share a line
MAX_LINES = 30
MERGE_GAP = 12
WIDTH = 100

# ranks: 1 a headline (a condition, a lever, citizens' say, views converging), 2 notable, 3 a detail
HEADLINE, NOTABLE, DETAIL = 1, 2, 3

# ------------------------------------------------------------------------------------------ words

ARNSTEIN = (
    "manipulation",
    "therapy",
    "informing",
    "consultation",
    "placation",
    "partnership",
    "delegated power",
    "citizen control",
)
LEVER_WORDS = {
    "citizen_weight": "citizens' formal say in decisions",
    "agenda_setting": "citizens' part in setting the agenda",
    "transparency": "disclosure of decisions and their reasons",
    "downward_accountability": "officials' accountability to citizens",
    "co_financing": "partners' co-financing",
}
THEORY_WORDS = {t: THEORY_PRESETS[t]["label"].lower() for t in THEORIES}
CONDITION_MET_WORDS = {
    "incremental": "incremental change now works: enough officials adopted practice from experiments",
    "structural": "structural change tipped: the committed minority passed the tipping share",
    "knowledge": "knowledge-led change now works: the evidence is mixed and officials have heard it",
    "coalition": "coalition building now works: a cross-sector coalition for change is large enough",
}

# opinion groups: disjoint, so whose view moved can be read off; the marked ones are the two the
# consensus-bias measures compare (marginalised residents' and officials' views)
GROUPS = ("marginalised", "other_residents", "officials", "academics", "groups")
GROUP_WORDS = {
    "marginalised": "marginalised residents",
    "other_residents": "other residents",
    "officials": "officials",
    "academics": "academics",
    "groups": "civil-society groups",
}
MARKED = ("marginalised", "officials")
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


# --------------------------------------------------------------------------------- what is kept


@dataclass(frozen=True)
class Event:
    """One thing that happened: in ``month``, told as ``text``; ``magnitude`` is the size of the change in
    the units of the state read (people, a lever's points, a share); ``rank`` 1 headline to 3 detail."""

    month: int
    kind: str
    text: str
    magnitude: float
    rank: int

    def __post_init__(self):
        object.__setattr__(self, "magnitude", float(self.magnitude))  # a plain number, for JSON and tests


class History:
    """The readings so far, months ``first`` to ``month``, and each detector's running state over them.

    Detectors read single months (:meth:`at`, :meth:`window`) and keep what they need of the past in their
    :class:`State` (:meth:`scan`), so a month costs the same however many came before it; ``reads`` counts
    the entries handed out (a test checks it does not grow with the month). A test can hand-build one.
    """

    def __init__(self, first: int = 0):
        self.first = first
        self.reads = 0
        self._values: dict[str, list[float]] = {}
        self._states: dict[Callable, State] = {}

    def add(self, reading: dict[str, float]) -> None:
        for name, value in reading.items():
            self._values.setdefault(name, []).append(float(value))

    def __getitem__(self, name: str) -> np.ndarray:
        """The whole series of one reading (no detector needs it)."""
        self.reads += len(self._values[name])
        return np.asarray(self._values[name], dtype=float)

    def at(self, name: str, i: int) -> float:
        """One reading in the ``i``-th month of the history (0 = month ``first``)."""
        self.reads += 1
        return self._values[name][i]

    def window(self, name: str, start: int, stop: int) -> list[float]:
        """One reading in months ``start`` to ``stop - 1`` of the history (as :meth:`at` counts them)."""
        values = self._values[name][start:stop]
        self.reads += len(values)
        return values

    def __len__(self) -> int:
        return len(next(iter(self._values.values()), []))

    @property
    def month(self) -> int:
        return self.first + len(self) - 1

    def scan(self, step: Callable[[History, int, State], list[Event]]) -> list[Event]:
        """The events of the last month by ``step``, a detector's month: ``step(history, i, state)`` reads
        month ``i`` and updates ``state``, its running state over this history. Months not yet stepped are
        stepped in order first, so every month is stepped once however often (or rarely) this is called."""
        state = self._states.get(step)
        if state is None:
            state = self._states[step] = State()
        while state.seen < len(self):
            state.found = step(self, state.seen, state)
            state.seen += 1
        return list(state.found)


class State:
    """A detector's running state over a history: switches and how long masks have held, keyed by the
    detector's own names, and ``kept``, anything else it carries from month to month (sums, last values).

    Each method is to be called once per month, every month (also the first), for the same key.
    """

    def __init__(self):
        self.seen = 0  # months stepped
        self.found: list[Event] = []  # the events of the last month stepped
        self.kept: dict[str, Any] = {}
        self._runs: dict[Any, int] = {}
        self._on: dict[Any, bool] = {}

    def held(self, key: Any, mask: bool, months: int, *, before: bool | None = None) -> bool:
        """Whether ``mask`` has been true in each of the last ``months`` months (up to and including this).

        Months before the first count as ``before``; by default as the first month's state, so a state the
        run starts in is not news.
        """
        run = self._runs.get(key)
        if run is None:  # the first month: the months before it, as ``before`` says
            run = months - 1 if (mask if before is None else before) else 0
        run = min(run + 1, months) if mask else 0
        self._runs[key] = run
        return run >= months

    def switched(self, key: Any, on: bool, off: bool) -> int:
        """A switch turned on by ``on`` and off by ``off`` (off wins a tie), off before the first month:
        +1 if it turned on this month, -1 if it turned off, 0 otherwise (and in the first month)."""
        was = self._on.get(key)
        now = False if off else True if on else bool(was)
        self._on[key] = now
        return 0 if was is None else int(now) - int(was)


def detector(step: Callable[[History, int, State], list[Event]]) -> Callable[[History], list[Event]]:
    """``detect(history)``, the events of the history's last month, from a detector's month
    ``step(history, i, state)`` (see :meth:`History.scan`)."""

    @functools.wraps(step)
    def detect(h: History) -> list[Event]:
        return h.scan(step)

    return detect


class Detector(NamedTuple):
    """One row of :data:`DETECTORS`: ``detect(history)`` returns the events of the history's last month;
    ``merged`` (recurring events only) words a run of them on one line, given their count of months and
    their total magnitude."""

    name: str
    detect: Callable[[History], list[Event]]
    merged: Callable[[int, float], str] | None = None


# ------------------------------------------------------------------------------------ reading


def read(model: GovernanceModel, previous_room: np.ndarray) -> dict[str, float]:
    """This month's readings, each from one state variable (named in the detector that uses it).

    ``previous_room`` is last month's meeting (``model.flows.meeting`` a month ago), which the model does not
    keep. Reads only; no random numbers.
    """
    p, flows = model.people, model.flows
    officials = p.kind == OFFICIAL
    residents = p.kind == RESIDENT
    actors = p.kind != GROUP
    out: dict[str, float] = {}
    for theory, ready in zip(THEORIES, flows.readiness, strict=True):
        out[f"condition_{theory}"] = ready
    for lever in LEVERS:
        out[f"lever_{lever}"] = model.structure[lever]
    out["trust_residents_officials"] = p.trust[residents, OFFICIAL].mean()
    out["trust_officials_residents"] = p.trust[officials, RESIDENT].mean()
    out["consensus_bias"] = model.outputs["consensus_bias"]
    out["citizen_rung"] = model.outputs["structure"] * RUNGS
    out["adopted"] = np.count_nonzero(p.adopted[officials])
    out["officials"] = np.count_nonzero(officials)
    outcome, decision = flows.outcome, flows.decision
    out["experiments"] = outcome.experiments if outcome is not None else 0
    out["successes"] = outcome.successes if outcome is not None else 0
    dropped = decision.dropped if decision is not None else np.zeros(0, dtype=np.int64)
    out["dropped"] = len(dropped)
    out["dropped_marginalised"] = np.count_nonzero(p.marginalised[dropped])
    left = np.setdiff1d(previous_room[p.marginalised[previous_room]], flows.meeting)
    burnt_out, short = (why[left] for why in unable(model))  # convening's own test
    out["burnt_out"] = np.count_nonzero(burnt_out)
    out["short_of_time"] = np.count_nonzero(short & ~burnt_out)
    shares = np.bincount(p.toc[actors], minlength=len(THEORIES)) / max(np.count_nonzero(actors), 1)
    for theory, share in zip(THEORIES, shares, strict=True):
        out[f"holders_{theory}"] = share
    return out


def group_masks(model: GovernanceModel) -> dict[str, np.ndarray]:
    """Each opinion group's actors (disjoint): marginalised residents, other residents, officials, academics,
    civil-society groups."""
    p = model.people
    residents = p.kind == RESIDENT
    return {
        "marginalised": residents & p.marginalised,
        "other_residents": residents & ~p.marginalised,
        "officials": p.kind == OFFICIAL,
        "academics": p.kind == ACADEMIC,
        "groups": p.kind == GROUP,
    }


def opinion_quantiles(view: np.ndarray, masks: dict[str, np.ndarray]) -> np.ndarray:
    """Quantiles :data:`QUANTILES` of ``view`` in each group of :data:`GROUPS`: an array (groups,
    quantiles); a group with nobody in it is ``nan``."""
    out = np.full((len(GROUPS), len(QUANTILES)), np.nan)
    for row, name in enumerate(GROUPS):
        if masks[name].any():
            out[row] = np.quantile(view[masks[name]], QUANTILES)
    return out


# --------------------------------------------------------------------------------- detectors
# Each reads month ``i`` of the history (and a fixed number of months before it) and keeps the rest of
# what it needs in its running state, so observing a month costs the same in month 12 and in month 1,200.


@detector
def conditions(h: History, i: int, s: State) -> list[Event]:
    """A theory of change's condition becoming met, or lapsing. Reads ``model.flows.readiness`` (each
    theory's condition in [0, 1], :mod:`model.conditions`; the ``condition_*`` outputs)."""
    events = []
    for theory in THEORIES:
        x = h.at(f"condition_{theory}", i)
        turn = s.switched(
            theory,
            s.held(("met", theory), x >= CONDITION_MET, CONDITION_MET_HOLD),
            s.held(("lapsed", theory), x < CONDITION_LAPSED, CONDITION_LAPSED_HOLD),
        )
        if turn > 0:
            events.append(Event(h.first + i, "condition_met", CONDITION_MET_WORDS[theory], x, HEADLINE))
        elif turn < 0:
            text = f"the condition for {THEORY_WORDS[theory]} lapsed ({x:.2f} of what it needs)"
            events.append(Event(h.first + i, "condition_lapsed", text, x, HEADLINE))
    return events


@detector
def levers(h: History, i: int, s: State) -> list[Event]:
    """A lever of the governance structure beginning to rise or fall back, or stopping. Reads
    ``model.structure`` (the five levers, :mod:`model.restructuring`; the ``lever_*`` outputs)."""
    events = []
    months = min(LEVER_WINDOW, i)  # the window, shorter in the first months
    for lever in LEVERS:
        x, since = h.at(f"lever_{lever}", i), h.at(f"lever_{lever}", i - months)
        moved = x - since
        words = LEVER_WORDS[lever]
        for sign, verb in ((1, "rise"), (-1, "fall back")):
            turn = s.switched((lever, sign), sign * moved >= LEVER_MOVE, sign * moved < LEVER_MOVE / 2)
            if turn > 0:
                text = f"{words} began to {verb} ({since:.2f} to {x:.2f} in {months} months)"
                events.append(Event(h.first + i, f"lever_{verb.split()[0]}", text, moved, HEADLINE))
            elif turn < 0:
                text = f"{words} stopped {'rising' if sign > 0 else 'falling'}, at {x:.2f}"
                events.append(Event(h.first + i, "lever_steady", text, moved, DETAIL))
    return events


@detector
def citizen_say(h: History, i: int, s: State) -> list[Event]:
    """Citizens' realised say crossing a rung of Arnstein's ladder. Reads ``model.outputs["structure"]``
    (the rung of citizens' smoothed share of the say in decisions, ``model.memory.power``, over 8)."""
    x = h.at("citizen_rung", i)
    events = []
    for rung in range(2, RUNGS + 1):
        turn = s.switched(
            rung,
            s.held(("on", rung), x >= rung, RUNG_HOLD),
            s.held(("below", rung), x < rung - RUNG_BAND, RUNG_HOLD),
        )
        name = ARNSTEIN[rung - 1]
        if turn > 0:
            text = f"citizens' realised say reached rung {rung} of Arnstein's ladder ({name})"
            events.append(Event(h.first + i, "say_rose", text, x, HEADLINE))
        elif turn < 0:
            text = f"citizens' realised say fell back below rung {rung} of Arnstein's ladder ({name})"
            events.append(Event(h.first + i, "say_fell", text, x, HEADLINE))
    return events


@detector
def view_gap(h: History, i: int, s: State) -> list[Event]:
    """Marginalised residents' and officials' median views coming together or drawing apart, and whose
    moved. Reads ``model.people.view`` (the medians of :func:`opinion_quantiles`)."""
    m, o = h.at("median_marginalised", i), h.at("median_officials", i)
    gap = abs(m - o)
    turns = [
        s.switched(
            level,
            s.held(("within", level), gap < level, GAP_HOLD),
            s.held(("beyond", level), gap >= level + GAP_BAND, GAP_HOLD),
        )
        for level in GAP_LEVELS
    ]
    if math.isnan(m) or math.isnan(o):
        return []
    whose = "marginalised residents' and officials' medians"
    moved = f"moved {m - h.at('median_marginalised', 0):+.2f}, {o - h.at('median_officials', 0):+.2f}"
    events = []
    for level, turn in zip(GAP_LEVELS, turns, strict=True):
        if turn > 0:
            text = f"{whose} came within {level:.2f} ({moved})"
            events.append(Event(h.first + i, "views_closer", text, gap, HEADLINE))
        elif turn < 0:
            text = f"{whose} drew apart past {level:.2f} ({moved})"
            events.append(Event(h.first + i, "views_apart", text, gap, HEADLINE))
    return events


@detector
def stopped_coming(h: History, i: int, s: State) -> list[Event]:
    """Marginalised residents in last month's room who are not in this month's and can no longer come:
    burnt out (``model.people.fatigue`` at ``resources.dropout_fatigue``) or short of time
    (``model.people.capacity`` net of fatigue below the cost of taking part); ``model.flows.meeting``."""
    burnt, short = int(h.at("burnt_out", i)), int(h.at("short_of_time", i))
    if burnt + short < STOPPED_MIN:
        return []
    text = (
        f"{burnt + short} marginalised participants stopped coming ({burnt} burnt out, {short} short of time)"
    )
    return [Event(h.first + i, "stopped_coming", text, burnt + short, NOTABLE)]


@detector
def dropped(h: History, i: int, s: State) -> list[Event]:
    """A forced consensus dropping participants whose views lay beyond its reach. Reads
    ``model.flows.decision.dropped`` (:mod:`model.decisions`)."""
    n, marginalised = int(h.at("dropped", i)), int(h.at("dropped_marginalised", i))
    if n < DROPPED_MIN:
        return []
    text = f"a forced consensus dropped {n} participants beyond its reach ({marginalised} marginalised)"
    return [Event(h.first + i, "dropped", text, n, NOTABLE)]


@detector
def trust(h: History, i: int, s: State) -> list[Event]:
    """Trust crossing a level: residents' mean trust in officials and officials' mean trust in residents.
    Reads ``model.people.trust``."""
    events = []
    for name, words in (
        ("trust_residents_officials", "residents' trust in officials"),
        ("trust_officials_residents", "officials' trust in residents"),
    ):
        x = h.at(name, i)
        for level in TRUST_LEVELS:
            up = s.switched((name, level, "up"), x >= level, x < level - TRUST_BAND)
            down = s.switched((name, level, "down"), x < level, x >= level + TRUST_BAND)
            if up > 0:
                events.append(Event(h.first + i, "trust_rose", f"{words} rose past {level:.1f}", x, NOTABLE))
            if down > 0:
                events.append(Event(h.first + i, "trust_fell", f"{words} fell below {level:.1f}", x, NOTABLE))
    return events


@detector
def consensus_bias(h: History, i: int, s: State) -> list[Event]:
    """Consensus bias turning: beginning to rise or to fall. Reads ``model.outputs["consensus_bias"]``
    (:mod:`model.metrics`)."""
    x, since = h.at("consensus_bias", i), h.at("consensus_bias", max(i - BIAS_WINDOW, 0))
    moved = x - since
    events = []
    for sign, verb, more in ((1, "rise", "more"), (-1, "fall", "less")):
        if s.switched(sign, sign * moved >= BIAS_MOVE, sign * moved < 0) > 0:
            text = f"consensus bias began to {verb} ({since:.2f} to {x:.2f}): "
            text += f"{more} agreement by dropping views"
            events.append(Event(h.first + i, "bias_turned", text, moved, NOTABLE))
    return events


@detector
def adoption(h: History, i: int, s: State) -> list[Event]:
    """Officials adopting practice from successful experiments: the first, half and all of them. Reads
    ``model.people.adopted`` (officials only)."""
    if i < 1:
        return []
    now, before, officials = h.at("adopted", i), h.at("adopted", i - 1), h.at("officials", i)
    if officials == 0:
        return []
    events = []
    if now > 0 and before == 0:
        text = f"the first official{'s' if now > 1 else ''} adopted practice from a successful experiment"
        events.append(Event(h.first + i, "adopted", text, now, HEADLINE))
    for share in ADOPTION_MILESTONES:
        if now >= share * officials > before:
            whom = "every official has" if share == 1 else f"{share:.0%} of officials have"
            text = f"{whom} adopted practice from experiments ({int(now)} of {int(officials)})"
            events.append(Event(h.first + i, "adopted", text, now, NOTABLE))
    return events


@detector
def experiments(h: History, i: int, s: State) -> list[Event]:
    """Experiments succeeding: the first success, a drought of successes, its end. Reads
    ``model.flows.outcome`` (experiments and successes this month, :mod:`model.initiatives`)."""
    won, kept = h.at("successes", i), s.kept
    dry = s.held("dry", won == 0, DROUGHT_MONTHS, before=False)  # a drought is counted from the first month
    was_dry, won_before, last_won = kept.get("dry", False), kept.get("won", 0.0), kept.get("last_won", -1)
    tried = kept["tried"] = kept.get("tried", 0.0) + h.at("experiments", i)  # counts: the sums are exact
    kept["dry"], kept["won"] = dry, won_before + won
    if won > 0:
        kept["last_won"] = i
    if i < 1:
        return []
    events = []
    if won > 0 and won_before == 0:
        text = f"the first experiment succeeded ({int(tried)} tried so far)"
        events.append(Event(h.first + i, "experiment_first", text, won, NOTABLE))
    if dry and not was_dry:
        n = np.sum(h.window("experiments", max(i + 1 - DROUGHT_MONTHS, 0), i + 1))
        if n > 0:
            text = f"no experiment has succeeded for {DROUGHT_MONTHS} months ({int(n)} tried)"
            events.append(Event(h.first + i, "experiment_drought", text, DROUGHT_MONTHS, DETAIL))
    if won > 0 and was_dry and won_before > 0:
        since = i - last_won - 1
        text = f"an experiment succeeded again, after {since} months without one"
        events.append(Event(h.first + i, "experiment_again", text, since, DETAIL))
    return events


@detector
def theories(h: History, i: int, s: State) -> list[Event]:
    """Which theories of change are held: a new most-held theory, a theory nearly gone or back. Reads
    ``model.people.toc`` (residents, officials and academics; the ``holders_*`` outputs)."""
    shares = [h.at(f"holders_{t}", i) for t in THEORIES]
    events = []
    for t, theory in enumerate(THEORIES):
        lead = shares[t] - _most(shares[:t] + shares[t + 1 :])
        if s.switched(("lead", t), s.held(("lead", t), lead >= LEAD_MARGIN, LEAD_HOLD), lead < 0) > 0:
            second = int(np.argsort(shares)[-2])
            text = (
                f"{THEORY_WORDS[theory]} is now the theory most held ({shares[t]:.0%}; "
                f"{THEORY_WORDS[THEORIES[second]]} {shares[second]:.0%})"
            )
            events.append(Event(h.first + i, "theory_leads", text, shares[t], NOTABLE))
    for t, theory in enumerate(THEORIES):
        turn = s.switched(("rare", t), shares[t] < RARE_SHARE, shares[t] >= RARE_SHARE + RARE_BAND)
        if turn > 0:
            text = f"{THEORY_WORDS[theory]} is now held by under {RARE_SHARE:.0%} of actors"
            events.append(Event(h.first + i, "theory_rare", text, shares[t], DETAIL))
        elif turn < 0:
            text = f"{THEORY_WORDS[theory]} is held by over {RARE_SHARE:.0%} of actors again"
            events.append(Event(h.first + i, "theory_back", text, shares[t], DETAIL))
    return events


def _most(values: list[float]) -> float:
    """The largest of ``values``, ``nan`` if any is (as numpy's ``max``)."""
    return math.nan if any(math.isnan(v) for v in values) else max(values)


DETECTORS: tuple[Detector, ...] = (
    Detector("conditions", conditions),
    Detector("levers", levers),
    Detector("citizen_say", citizen_say),
    Detector("view_gap", view_gap),
    Detector(
        "stopped_coming",
        stopped_coming,
        lambda months, total: (
            f"in {months} months {total:g} marginalised participants stopped coming (burnt out or no time)"
        ),
    ),
    Detector(
        "dropped",
        dropped,
        lambda months, total: (
            f"in {months} months a forced consensus dropped {total:g} participants beyond its reach"
        ),
    ),
    Detector("trust", trust),
    Detector("consensus_bias", consensus_bias),
    Detector("adoption", adoption),
    Detector("experiments", experiments),
    Detector("theories", theories),
)
RECURRING = {d.name: d.merged for d in DETECTORS if d.merged is not None}


# -------------------------------------------------------------------------------------- the story


@dataclass
class Story:
    """The story of one run: feed it the model after each step (and once before the first)."""

    history: History | None = None
    events: list[Event] = field(default_factory=list)
    months: list[int] = field(default_factory=list)
    opinions: list[np.ndarray] = field(default_factory=list)  # per month: (groups, quantiles)
    # last month's meeting, which the model does not keep; and the opinion groups' members (fixed in a run)
    _room: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), init=False, repr=False)
    _masks: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False)

    def observe(self, model: GovernanceModel) -> list[Event]:
        """Read the model's month (``model.steps``) and return the events found in it."""
        month = int(model.steps)
        if self.history is not None and month != self.history.month + 1:
            raise ValueError(
                f"observe each month once, in order: got month {month} after {self.history.month}"
            )
        if self._masks is None:
            self._masks = group_masks(model)
        quantiles = opinion_quantiles(model.people.view, self._masks)
        reading = read(model, self._room)
        for row, name in enumerate(GROUPS):
            reading[f"median_{name}"] = quantiles[row, QUANTILES.index(0.5)]
        self._room = model.flows.meeting.copy()
        self.months.append(month)
        self.opinions.append(quantiles)
        if self.history is None:
            self.history = History(first=month)
        self.history.add(reading)
        found = [e for d in DETECTORS for e in d.detect(self.history)] if len(self.history) > 1 else []
        self.events.extend(found)
        return found

    def quantiles(self) -> np.ndarray:
        """Opinion quantiles, an array (months, groups, quantiles) in the order of :data:`GROUPS` and
        :data:`QUANTILES`."""
        return np.stack(self.opinions) if self.opinions else np.zeros((0, len(GROUPS), len(QUANTILES)))

    def log(self, limit: int = MAX_LINES) -> list[str]:
        """The event log as lines ``month N: text``, at most ``limit`` (see :func:`log_lines`)."""
        return log_lines(self.events, limit)

    def opinion_lines(self) -> list[str]:
        return opinion_lines(self.months, self.quantiles())

    def to_json(self) -> dict[str, Any]:
        """Events and opinion quantiles as plain JSON values (``None`` for a group with nobody in it)."""
        q = self.quantiles()
        return {
            "events": [asdict(e) for e in self.events],
            "opinions": {
                "quantiles": list(QUANTILES),
                "groups": dict(GROUP_WORDS),
                "marked": list(MARKED),
                "months": list(self.months),
                "values": {
                    name: [[None if math.isnan(v) else float(v) for v in row] for row in q[:, g]]
                    for g, name in enumerate(GROUPS)
                },
            },
        }

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


def tell(
    scenario: Scenario, *, steps: int | None = None, seed: int | None = None
) -> tuple[list[dict[str, float]], Story]:
    """Run ``scenario`` as :func:`model.simulate` does (same rows, every month) while a :class:`Story`
    observes it; returns the rows and the story."""
    steps = scenario.run.steps if steps is None else steps
    seed = scenario.run.seed if seed is None else seed
    model = GovernanceModel(scenario, rng=seed)
    story = Story()
    story.observe(model)
    rows = [{"step": 0, **model.outputs}]
    for t in range(1, steps + 1):
        model.step()
        story.observe(model)
        rows.append({"step": t, **model.outputs})
    return rows, story


# ------------------------------------------------------------------------------------ printing


def log_lines(events: Sequence[Event], limit: int = MAX_LINES) -> list[str]:
    """One line per event, ``month N: text``, in order of months, at most ``limit`` lines of ``WIDTH``.

    Recurring events (:data:`RECURRING`) less than ``MERGE_GAP`` months apart share one line ``months
    A-B: ...``. Past ``limit``, headlines are kept first, then notable events, then details (earliest first
    within a rank), and a last line says how many were left out.
    """
    entries: list[tuple[int, int, int, str]] = []  # (rank, first month, last month, text)
    runs: dict[str, list[Event]] = {}
    for e in sorted(events, key=lambda e: e.month):
        if e.kind not in RECURRING:
            entries.append((e.rank, e.month, e.month, e.text))
            continue
        run = runs.setdefault(e.kind, [])
        if run and e.month - run[-1].month >= MERGE_GAP:
            entries.append(_merged(run))
            run.clear()
        run.append(e)
    entries.extend(_merged(run) for run in runs.values() if run)
    left_out = 0
    if len(entries) > limit:
        keep = sorted(entries, key=lambda x: (x[0], x[1]))[: limit - 1]
        left_out = len(entries) - len(keep)
        entries = keep
    lines = []
    for _, first, last, text in sorted(entries, key=lambda x: (x[1], x[0])):
        head = f"month {first}: " if first == last else f"months {first}-{last}: "
        lines.append(_fit(head + text))
    if left_out:
        lines.append(f"({left_out} minor events left out; --story-out FILE.json keeps them all)")
    return lines


def _merged(run: list[Event]) -> tuple[int, int, int, str]:
    if len(run) == 1:
        e = run[0]
        return e.rank, e.month, e.month, e.text
    total = sum(e.magnitude for e in run)
    return min(e.rank for e in run), run[0].month, run[-1].month, RECURRING[run[0].kind](len(run), total)


def _fit(line: str) -> str:
    """A line within ``WIDTH`` columns, shortened at a word with an ellipsis if it must be."""
    return line if len(line) <= WIDTH else textwrap.shorten(line, WIDTH, placeholder=" ...")


def opinion_lines(months: Sequence[int], q: np.ndarray) -> list[str]:
    """An ASCII summary of views by group: median [interquartile range] at the first, middle and last month,
    how far the median moved, and a strip per group at the first and last month."""
    if len(months) == 0:
        return []
    picks = sorted({0, (len(months) - 1) // 2, len(months) - 1})
    median, low, high = (QUANTILES.index(v) for v in (0.5, 0.25, 0.75))
    lines = [
        "views by group (0 = no change needed, 1 = radical change): median [25%-75%]; * marked",
        f"{'group':<26}" + "".join(f"{f'month {months[i]}':<18}" for i in picks) + "moved",
    ]
    for g, name in enumerate(GROUPS):
        label = ("* " if name in MARKED else "  ") + GROUP_WORDS[name]
        cells = [
            "-"
            if np.isnan(q[i, g, median])
            else f"{q[i, g, median]:.2f} [{q[i, g, low]:.2f}-{q[i, g, high]:.2f}]"
            for i in picks
        ]
        moved = q[-1, g, median] - q[0, g, median]
        lines.append(
            f"{label:<26}" + "".join(f"{c:<18}" for c in cells) + ("" if np.isnan(moved) else f"{moved:+.2f}")
        )
    strip = 34
    lines.append(f"{'':<26}{f'month {months[0]}':<{strip + 2}}month {months[-1]}")
    for g, name in enumerate(GROUPS):
        label = ("* " if name in MARKED else "  ") + GROUP_WORDS[name]
        lines.append(f"{label:<26}{_strip(q[0, g], strip)}  {_strip(q[-1, g], strip)}")
    lines.append(" " * 26 + "0 = no change, 1 = radical; 10-90% -, 25-75% =, median |")
    return [line.rstrip() for line in lines]


def _strip(quantiles: np.ndarray, width: int) -> str:
    """One group's views as a strip over [0, 1]: ``-`` from the 10th to the 90th percentile, ``=`` over the
    interquartile range, ``|`` at the median, inside ``[`` and ``]``."""
    inner = width - 2
    if np.isnan(quantiles).any():
        return "[" + " " * inner + "]"
    at = np.clip(np.round(np.asarray(quantiles) * (inner - 1)).astype(int), 0, inner - 1)
    cells = np.full(inner, " ")
    cells[at[0] : at[4] + 1] = "-"
    cells[at[1] : at[3] + 1] = "="
    cells[at[2]] = "|"
    return "[" + "".join(cells) + "]"
