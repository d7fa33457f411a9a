"""Replaying a workshop's branch from its record, and carrying a branch out as plain files.

A branch is fully described by its scenario (the TOML text of the settings it states) and its closed
rounds, each with its months, the institutional experiment made before it (``redesign``) and its plan
(``{agent: checked choices}``, simulated agents left out). :func:`play_round` is the one way a round is
played, by the live workshop and by a replay alike: redesign, one ``GovernanceModel.choose`` with the
round's plan, then the round's months, reading every output of every month. All randomness comes from the
model's generator, seeded with ``run.seed``, so a replay gives the recorded outputs exactly.

Export (``coprod workshop export``) writes ``scenario.toml`` (that text) and ``choices.json``::

    {"format": "coprod-workshop-choices", "version": 1, "workshop": ID, "branch": B,
     "rounds": [{"round": 1, "months": 3, "redesign": {"design": null, "theory": "structural"},
                 "plan": {"12": {"attend": "stay_away"}}}, ...]}

and ``coprod workshop rerun DIR`` plays them again (:func:`rerun_folder`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coprod.model import OUTPUTS, Problem, Scenario, ScenarioError, load_scenario
from coprod.model.governance import GovernanceModel
from coprod.model.scenario import parse_toml, toml_value

FORMAT = "coprod-workshop-choices"
FORMAT_VERSION = 1
MAX_MONTHS = 1200  # a round of more than a century is a typo


@dataclass
class Round:
    """One closed round as played: what a replay needs."""

    number: int
    months: int
    plan: dict[int, dict[str, Any]] = field(default_factory=dict)
    design: str | None = None  # the redesign made before the round (None: unchanged)
    theory: str | None = None

    def to_json(self) -> dict[str, Any]:
        redesign = {"design": self.design, "theory": self.theory} if (self.design or self.theory) else None
        return {
            "round": self.number,
            "months": self.months,
            "redesign": redesign,
            "plan": {str(a): p for a, p in sorted(self.plan.items())},
        }


# ------------------------------------------------------------------------------------------ scenario


def scenario_text(scenario: Scenario) -> str:
    """The TOML text of the settings ``scenario`` states (not its defaults and presets), which
    :func:`scenario_from_text` turns back into the same scenario. Stating only what was stated matters:
    a redesign re-applies the new design's presets to every setting not stated."""
    explicit = scenario.explicit
    lines = [f"{key} = {toml_value(explicit[key])}" for key in ("name", "description") if key in explicit]
    for section, values in explicit.items():
        if isinstance(values, dict):
            lines.append(f"\n[{section}]")
            lines.extend(f"{name} = {toml_value(v)}" for name, v in values.items())
    text = "\n".join(lines).lstrip("\n") + "\n"
    if scenario_from_text(text) != scenario:  # a guard: the record must rebuild the city it names
        raise ScenarioError([Problem("scenario", "cannot be written back as TOML exactly")], "workshop")
    return text


def scenario_from_text(text: str, source: str = "workshop record") -> Scenario:
    return Scenario.build(parse_toml(text.encode(), source), source=source)


# ---------------------------------------------------------------------------------------- playing


def new_model(scenario: Scenario) -> GovernanceModel:
    """The city at month 0 (the outputs are read every month, so Mesa's collector is not needed)."""
    return GovernanceModel(scenario, record=False)


def row_of(model: GovernanceModel) -> dict[str, Any]:
    """The current month and every output."""
    return {"month": int(model.steps), **{k: model.outputs[k] for k in OUTPUTS}}


def play_round(model: GovernanceModel, played: Round) -> list[dict[str, Any]]:
    """Play one round on ``model``: its redesign, its plan, its months; the outputs of each month."""
    if played.design or played.theory:
        model.redesign(design=played.design, theory=played.theory)
    model.choose(played.plan)
    rows = []
    for _ in range(played.months):
        model.step()
        rows.append(row_of(model))
    return rows


def replay(scenario: Scenario, rounds: Iterable[Round]) -> tuple[GovernanceModel, list[dict[str, Any]]]:
    """The city after ``rounds`` and the outputs of every month from 0."""
    model = new_model(scenario)
    rows = [row_of(model)]
    for played in rounds:
        rows.extend(play_round(model, played))
    return model, rows


def same(a: Any, b: Any) -> bool:
    """Equal outputs; a NaN is stored by SQLite as NULL, and NaN equals NaN here."""
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return _missing(a) and _missing(b)
    return a == b


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def first_difference(recorded: list[dict], replayed: list[dict]) -> str | None:
    """None when every output of every month is the same, exactly; else the first difference in words."""
    if len(recorded) != len(replayed):
        return f"{len(recorded)} months recorded, {len(replayed)} replayed"
    for old, new in zip(recorded, replayed, strict=True):
        for key in ("month", *OUTPUTS):
            if not same(old.get(key), new.get(key)):
                return f"month {new['month']}: {key} recorded {old.get(key)!r}, replayed {new.get(key)!r}"
    return None


# ------------------------------------------------------------------------------------ from a record


@dataclass
class Recording:
    """A branch as recorded: its workshop's row, its closed rounds and the stored outputs."""

    workshop: dict[str, Any]
    branch: str
    rounds: list[Round]
    steps: list[dict[str, Any]]

    @property
    def scenario(self) -> Scenario:
        return scenario_from_text(self.workshop["scenario"], f"workshop {self.workshop['id']}")


def rounds_from(rounds: list[dict], choices: list[dict]) -> list[Round]:
    """The closed rounds of a branch's rows (a round still open, or a redesign waiting, is not played)."""
    plans: dict[int, dict[int, dict]] = {}
    for c in choices:
        if c["source"] == "human":
            payload = json.loads(c["payload"])
            if payload:
                plans.setdefault(c["round"], {})[int(c["agent"])] = payload
    return [
        Round(r["round"], r["months"], plans.get(r["round"], {}), r["redesign_design"], r["redesign_theory"])
        for r in rounds
        if r["closed"] is not None
    ]


def load_recording(record, workshop_id: str, branch: str) -> Recording:
    """A branch of a recorded workshop; :class:`experiments.store.StoreError` naming what is allowed for an
    unknown workshop or branch."""
    from coprod.experiments.store import StoreError

    row = record.workshop(workshop_id)
    if row is None:
        held = record.workshop_ids()
        listed = ", ".join(held[:10]) + (", ..." if len(held) > 10 else "")
        raise StoreError(
            f"{record.path}: --workshop: no workshop {workshop_id!r} (it holds {listed or 'none'})"
        )
    names = [b["branch"] for b in record.branches(workshop_id)]
    if branch not in names:
        raise StoreError(
            f"{record.path}: --branch: workshop {workshop_id} has no branch {branch!r} "
            f"(allowed: {', '.join(names)})"
        )
    rounds = rounds_from(record.rounds(workshop_id, branch), record.choices(workshop_id, branch))
    return Recording(row, branch, rounds, record.steps(workshop_id, branch))


# ---------------------------------------------------------------------------------- export, rerun


def export(recording: Recording, out: Path) -> list[Path]:
    """Write ``scenario.toml`` and ``choices.json`` into ``out`` (made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "workshop": recording.workshop["id"],
        "branch": recording.branch,
        "rounds": [r.to_json() for r in recording.rounds],
    }
    scenario, choices = out / "scenario.toml", out / "choices.json"
    scenario.write_text(recording.workshop["scenario"])
    choices.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return [scenario, choices]


def read_folder(folder: Path) -> tuple[Scenario, list[Round]]:
    """An exported folder's scenario and rounds; :class:`ScenarioError` (one line each) for bad input."""
    source = str(folder / "choices.json")
    if not folder.is_dir():
        raise ScenarioError([Problem("folder", "no such folder (an exported workshop branch)")], str(folder))
    scenario = load_scenario(folder / "scenario.toml")
    try:
        data = json.loads((folder / "choices.json").read_text())
    except FileNotFoundError:
        missing = Problem("file", "no such file (export writes it beside scenario.toml)")
        raise ScenarioError([missing], source) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ScenarioError([Problem("file", f"is not JSON ({_first_line(err)})")], source) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ScenarioError([Problem("format", "not a workshop choices file", allowed=repr(FORMAT))], source)
    if data.get("version") != FORMAT_VERSION:
        raise ScenarioError(
            [Problem("version", "unknown version", data.get("version"), str(FORMAT_VERSION))], source
        )
    rounds = data.get("rounds")
    if not isinstance(rounds, list):
        raise ScenarioError([Problem("rounds", "must be a list of rounds", _short(rounds))], source)
    return scenario, [_round(r, i, source) for i, r in enumerate(rounds)]


def _round(r: Any, i: int, source: str) -> Round:
    key = f"rounds[{i}]"
    if not isinstance(r, dict):
        raise ScenarioError([Problem(key, "must be a table", _short(r))], source)
    months = r.get("months")
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_MONTHS:
        raise ScenarioError([Problem(f"{key}.months", "bad value", months, f"1 to {MAX_MONTHS}")], source)
    redesign = r.get("redesign") or {}
    if not isinstance(redesign, dict) or set(redesign) - {"design", "theory"}:
        raise ScenarioError(
            [Problem(f"{key}.redesign", "bad value", _short(redesign), "null or {design, theory}")], source
        )
    for name in ("design", "theory"):
        if redesign.get(name) is not None and not isinstance(redesign[name], str):
            raise ScenarioError([Problem(f"{key}.redesign.{name}", "must be a name", redesign[name])], source)
    plan = r.get("plan") or {}
    if not isinstance(plan, dict) or not all(isinstance(p, dict) for p in plan.values()):
        raise ScenarioError(
            [Problem(f"{key}.plan", "must be a table of agent: choices", _short(plan))], source
        )
    agents = {}
    for agent, payload in plan.items():
        if not str(agent).isdigit():
            raise ScenarioError([Problem(f"{key}.plan", "an agent must be a number", agent)], source)
        agents[int(agent)] = payload
    return Round(i + 1, months, agents, redesign.get("design"), redesign.get("theory"))


def rerun_folder(folder: Path) -> list[dict[str, Any]]:
    """Play an exported branch again; the outputs of every month. A choice or redesign the city refuses
    is one line naming the round (:class:`ScenarioError`)."""
    from coprod.model.choices import ChoiceError

    scenario, rounds = read_folder(folder)
    model = new_model(scenario)
    rows = [row_of(model)]
    source = str(folder / "choices.json")
    for i, played in enumerate(rounds):
        try:
            rows.extend(play_round(model, played))
        except ChoiceError as err:
            raise ScenarioError([Problem(f"rounds[{i}].plan", str(err))], source) from None
        except ScenarioError as err:
            raise ScenarioError(
                [Problem(f"rounds[{i}].redesign", p.render("").lstrip(": ")) for p in err.problems], source
            ) from None
    return rows


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "Recording",
    "Round",
    "export",
    "first_difference",
    "load_recording",
    "new_model",
    "play_round",
    "replay",
    "rerun_folder",
    "row_of",
    "scenario_from_text",
    "scenario_text",
]
