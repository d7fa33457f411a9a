"""What a workshop can set: design, theory of change, seed and the main sliders, checked before use.

Plain Python, no widgets: the set-up panel edits a :class:`Draft`, and :meth:`Draft.check` turns it into a
validated :class:`model.Scenario` or into one plain message per field. Slider limits, meanings and units
come from the scenario schema (``model.parameters()``); nothing here types a bound again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from coprod.model import DESIGN_PRESETS, PARAMETERS, THEORY_PRESETS, Problem, Scenario, ScenarioError

# The main parameters a workshop moves, grouped under plain headings; the rest keep their design's values.
SLIDER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "The city",
        (
            "population.residents",
            "population.marginalised_share",
            "context.inequality",
            "context.baseline_trust",
        ),
    ),
    (
        "The design",
        (
            "design.participants",
            "design.facilitation",
            "design.official_weight",
            "design.stipend",
            "design.participation_cost",
            "structure.citizen_weight",
        ),
    ),
    ("How people talk", ("deliberation.hidden_profile_bias",)),
    ("The run", ("run.steps",)),
)
# A short title for each slider; its meaning, units and limits are the schema's, shown under it.
TITLES: dict[str, str] = {
    "population.residents": "Residents in the city",
    "population.marginalised_share": "Share of residents who are marginalised",
    "context.inequality": "Inequality",
    "context.baseline_trust": "Trust between groups at the start",
    "design.participants": "Residents taking part each month",
    "design.facilitation": "Facilitation",
    "design.official_weight": "Weight of an official's voice",
    "design.stipend": "Stipend for taking part",
    "design.participation_cost": "Cost of taking part",
    "structure.citizen_weight": "Citizens' say in decisions",
    "deliberation.hidden_profile_bias": "Unshared knowledge left unsaid",
    "run.seed": "Seed",
    "run.steps": "Months to run",
}
MAIN_PARAMETERS: tuple[str, ...] = tuple(key for _, keys in SLIDER_GROUPS for key in keys)

# The schema allows cities of up to 200,000 residents and runs of 100,000 months; the page offers up to
# these, because beyond them a month takes long enough that playing stops being smooth, or a run outlasts
# any workshop (`coprod run` takes the rest).
PAGE_LIMITS = {"population.residents": 20_000, "design.participants": 20_000, "run.steps": 1_200}

SEED_KEY = "run.seed"
DEFAULT_DESIGN = "citizens_assembly"
DEFAULT_THEORY = "incremental"


@dataclass(frozen=True)
class Slider:
    """One slider, read off the parameter's declaration."""

    key: str
    title: str
    meaning: str
    units: str
    low: float
    high: float
    step: float
    integer: bool

    @property
    def typed(self) -> bool:
        """Whole numbers over a range too wide to pick one with the mouse get a box to type them in."""
        return self.integer and self.high - self.low > 1000


def slider(key: str) -> Slider:
    """The slider for ``key``: its bounds, meaning and units as the scenario schema declares them."""
    spec = PARAMETERS[key]
    if not spec.numeric or spec.low is None or spec.high is None:
        raise ValueError(f"{key}: a slider needs a bounded number, got a {spec.type} parameter")
    high = min(spec.high, PAGE_LIMITS.get(key, spec.high))
    integer = spec.type == "int"
    step = 1 if integer else 10.0 ** math.floor(math.log10((high - spec.low) / 50))
    return Slider(key, label_of(key), _sentence(spec.meaning), spec.units, spec.low, high, step, integer)


def designs() -> dict[str, str]:
    """Design kind -> plain name, in the presets' order."""
    return {kind: preset["label"] for kind, preset in DESIGN_PRESETS.items()}


def theories() -> dict[str, str]:
    """Theory kind -> plain name, in the presets' order."""
    return {kind: preset["label"] for kind, preset in THEORY_PRESETS.items()}


@dataclass(frozen=True)
class Checked:
    """A draft after checking: the scenario it makes, or the problems, keyed by parameter."""

    scenario: Scenario | None
    problems: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.scenario is not None


@dataclass(frozen=True)
class Draft:
    """A set-up being edited. ``values`` holds only the sliders someone moved; every other parameter comes
    from the chosen design's and theory's presets. ``seed`` is the text typed in the seed field."""

    design: str = DEFAULT_DESIGN
    theory: str = DEFAULT_THEORY
    seed: str = "1"
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # A loaded file's (or stored run's) own name and description; None: made from the design and theory.
    # Picking another design or theory drops them (the file's name would no longer say what runs).
    name: str | None = None
    description: str | None = None

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Draft:
        """The draft that checks back to exactly ``scenario`` (every parameter, its name and description):
        its design, theory and seed, and as moved values every parameter that differs from what the design's
        and theory's presets give, those with a slider and those without alike."""
        design, theory = scenario.get("design.kind"), scenario.get("theory.kind")
        preset = Scenario.build({"design": {"kind": design}, "theory": {"kind": theory}}).flat()
        fixed = ("design.kind", "theory.kind", SEED_KEY)
        moved = {k: v for k, v in scenario.flat().items() if k not in fixed and v != preset[k]}
        return cls(
            design,
            theory,
            str(scenario.run.seed),
            MappingProxyType(moved),
            name=scenario.name,
            description=scenario.description,
        )

    def with_design(self, kind: str) -> Draft:
        """Pick a design: its preset's values replace what was moved in the sections it fills."""
        kept = {k: v for k, v in self.values.items() if k.split(".")[0] not in ("design", "structure")}
        return replace(self, design=kind, values=MappingProxyType(kept), name=None, description=None)

    def with_theory(self, kind: str) -> Draft:
        kept = {k: v for k, v in self.values.items() if k.split(".")[0] != "theory"}
        return replace(self, theory=kind, values=MappingProxyType(kept), name=None, description=None)

    def with_value(self, key: str, value: Any) -> Draft:
        return replace(self, values=MappingProxyType({**self.values, key: value}))

    def with_seed(self, text: str) -> Draft:
        return replace(self, seed=text)

    def check(self) -> Checked:
        """Build the scenario, or say in plain words what stops it, next to which field."""
        seed = parse_seed(self.seed)
        problems: dict[str, str] = {}
        if isinstance(seed, str):
            problems[SEED_KEY] = seed
            seed = PARAMETERS[SEED_KEY].default  # still check the other fields
        overrides = {
            "name": f"{self.design}-{self.theory}" if self.name is None else self.name,
            "description": f"{designs().get(self.design, self.design)} with "
            f"{theories().get(self.theory, self.theory).lower()} (set up in the workshop dashboard)"
            if self.description is None
            else self.description,
            "design.kind": self.design,
            "theory.kind": self.theory,
            SEED_KEY: seed,
            **self.values,
        }
        try:
            scenario = Scenario.build({}).with_overrides(overrides, source="dashboard")
        except ScenarioError as err:
            for problem in err.problems:
                problems.setdefault(problem.key, plain(problem))
            return Checked(None, MappingProxyType(problems))
        if problems:
            return Checked(None, MappingProxyType(problems))
        return Checked(scenario)

    def setting(self, key: str, checked: Checked | None = None) -> Any:
        """What a slider shows: the value moved, else the (last valid) scenario's value, else the default."""
        if key in self.values:
            return self.values[key]
        if checked is not None and checked.scenario is not None:
            return checked.scenario.get(key)
        return _preset_value(self.design, self.theory, key)


def beyond_page(scenario: Scenario) -> list[Problem]:
    """The settings of ``scenario`` larger than the page runs (:data:`PAGE_LIMITS`), as problems in the
    schema's own form; ``coprod run`` runs them."""
    return [
        Problem(
            key,
            "is more than the page runs",
            scenario.get(key),
            f"at most {limit:_} on the page; `coprod run` runs more",
        )
        for key, limit in PAGE_LIMITS.items()
        if scenario.get(key) > limit
    ]


def parse_seed(text: str) -> int | str:
    """A seed typed by a person: an int, or a plain message saying what to type instead."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        return f"The seed must be a whole number, like 42 (got {text.strip()!r})."
    value = int(cleaned)
    spec = PARAMETERS[SEED_KEY]
    if not spec.low <= value <= spec.high:
        return f"The seed must be a whole number from {spec.low} to {spec.high} (got {value})."
    return value


def parse_whole(text: str, slider: Slider) -> int | str:
    """A whole number typed for ``slider``, or a plain message saying what to type instead."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        return f"Type a whole number from {slider.low:g} to {slider.high:g} (got {text.strip()!r})."
    value = int(cleaned)
    if not slider.low <= value <= slider.high:
        return f"Type a whole number from {slider.low:g} to {slider.high:g} (got {value})."
    return value


def plain(problem: Problem) -> str:
    """A scenario problem in a workshop's words: parameter keys replaced by what they mean."""
    text = problem.message[:1].upper() + problem.message[1:]
    if problem.got is not None:
        text += f" (got {problem.got})"
    if problem.allowed:
        text += f"; allowed: {problem.allowed}"
    return _name_parameters(text) + "."


def label_of(key: str) -> str:
    """A parameter's short title if the page shows it, else its declared meaning."""
    if key in TITLES:
        return TITLES[key]
    return _sentence(PARAMETERS[key].meaning) if key in PARAMETERS else key


def _name_parameters(text: str) -> str:
    def name(match: re.Match) -> str:
        key = match.group(0)
        return f"'{label_of(key)}'" if key in PARAMETERS else key

    return re.sub(r"\b[a-z_]+\.[a-z_]+\b", name, text)


def _sentence(meaning: str) -> str:
    return meaning[:1].upper() + meaning[1:]


def _preset_value(design: str, theory: str, key: str) -> Any:
    try:
        return Scenario.build({"design": {"kind": design}, "theory": {"kind": theory}}).get(key)
    except ScenarioError:
        return PARAMETERS[key].default
