"""Target patterns: published facts the model is held against, at several levels (Grimm et al. 2005,
pattern-oriented modelling), read from a versioned file (``data/targets/targets.toml``; its schema is
``data/targets/README.md``). This module is the one place a targets file is read and checked.

Each target is one ``[[target]]`` table: ``id`` (a lower-case identifier, unique), ``level`` (individual,
meeting or city), ``observable`` (a model output, or a statistic of :mod:`model.observables`, whose range
the value must lie in), ``design`` (the shipped design whose setting the study matches), ``month``,
``value``, its uncertainty (``sd``, or ``interval = [low, high]`` around the value with ``interval_level``
0.9 or 0.95, turned into a normal standard deviation), ``citation`` (naming an author and a year), and what
the study measured (``population``, ``measure``). Optional, checked when given and required of a complete
file (``load_targets(path, complete=True)``, which the shipped file passes): ``uncertainty_note`` (how the
uncertainty was set), ``approximate``, ``note`` (starting ``Design: ``, why the design) and ``informs`` (the
parameters the target constrains); ``url`` may say where the source was read. ``bound = "at least"`` or
``"at most"`` makes a one-sided target: a published direction (a majority, a positive correlation) rather
than a figure, where ``value`` is the bound and ``sd`` how soft it is; a simulated value on the allowed side
is as good as any other (:meth:`Target.fit_statistic`). A file that breaks any of this is one line per
problem, exit 2, as every input is.

:func:`target_scenario` gives the scenario a target is simulated under by default; :func:`observe_runs`
runs a scenario once and returns the observables the targets ask for, at their months.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from coprod.model import OUTPUTS, PARAMETERS, Problem, Scenario, ScenarioError, read_toml
from coprod.model.observables import OBSERVABLES, ObservedModel, observe
from coprod.model.scenario import DesignKind
from scipy.stats import norm

LEVELS = ("individual", "meeting", "city")
REQUIRED = ("id", "level", "observable", "design", "month", "value", "citation", "population", "measure")
# what a published target documents besides (data/targets/README.md); required with complete=True
DOCUMENTED = ("uncertainty_note", "approximate", "note", "informs")
OPTIONAL = ("sd", "interval", "interval_level", "url", "bound", *DOCUMENTED)
# a one-sided target: the model's value must be at least (or at most) the target's value
BOUNDS = ("at least", "at most")
TEXT = ("id", "citation", "population", "measure", "uncertainty_note", "note", "url")
# levels an interval may be given at; read as a normal interval, which spans 2 z standard deviations
INTERVAL_LEVELS = (0.9, 0.95)
MAX_MONTH = 600
# an id: lower case, digits and underscores, starting with a letter
_ID = re.compile(r"[a-z][a-z0-9_]*")
_YEAR = re.compile(r"\b(19|20)\d\d\b")
# "Author ... 1999": a capitalised name followed, somewhere, by a year
_AUTHOR_YEAR = re.compile(r"\b[A-Z][A-Za-z'\-]+\b.*\b(19|20)\d\d\b")
# how a complete row's note starts: with why the study corresponds to its design
NOTE_START = "Design: "


@dataclass(frozen=True)
class Target:
    id: str
    level: str
    observable: str
    design: str
    month: int
    value: float
    sd: float
    citation: str
    population: str = ""
    measure: str = ""
    approximate: bool = False
    informs: tuple[str, ...] = ()
    note: str = ""
    bound: str = ""  # "" (two-sided: value is the figure), or one of BOUNDS (value is the bound)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fit_statistic(self, simulated: float) -> float:
        """What a calibration compares with ``value``: the simulated value itself, or for a one-sided
        target the value clipped at the bound, so that the distance ``(statistic - value) / sd`` is zero on
        the allowed side and grows only with the shortfall on the other."""
        if self.bound == "at least":
            return min(simulated, self.value)
        if self.bound == "at most":
            return max(simulated, self.value)
        return simulated

    def on_allowed_side(self, simulated: float) -> bool:
        """A one-sided target's direction holds for ``simulated`` (a two-sided target has no side)."""
        return self.fit_statistic(simulated) == self.value if self.bound else True


def observables() -> tuple[str, ...]:
    """Every name a target may observe: the model's outputs and the statistics of model.observables."""
    return (*OUTPUTS, *OBSERVABLES)


def interval_z(level: float) -> float:
    """z of a two-sided normal interval at ``level``: the interval spans ``2 z`` standard deviations."""
    return float(norm.ppf(0.5 + level / 2))


def load_targets(path: str | Path, *, complete: bool = False) -> list[Target]:
    """Read and check a targets file; raise :class:`ScenarioError` with one line per problem.

    ``complete``: also require what a published target documents (:data:`DOCUMENTED`), as the shipped
    file does; a file of synthetic targets (a calibration's test) need not."""
    source = str(path)
    data = read_toml(path)
    rows = data.get("target")
    problems: list[Problem] = []
    for key in data:
        if key != "target":
            problems.append(Problem(key, "unknown section; a targets file holds [[target]] tables"))
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        problems.append(Problem("target", "no [[target]] tables", None, "one [[target]] table per target"))
        raise ScenarioError(problems, source)
    seen: set[str] = set()
    targets = []
    for n, row in enumerate(rows, 1):
        where = f"target[{n}]" + (f" ({row['id']})" if isinstance(row.get("id"), str) else "")
        before = len(problems)
        problems += row_problems(row, where, complete=complete)
        if isinstance(row.get("id"), str):
            if row["id"] in seen:
                problems.append(Problem(f"{where}.id", "used twice", row["id"], "a unique id"))
            seen.add(row["id"])
        if len(problems) == before:
            targets.append(
                Target(
                    id=row["id"],
                    level=row["level"],
                    observable=row["observable"],
                    design=row["design"],
                    month=row["month"],
                    value=float(row["value"]),
                    sd=_sd(row),
                    citation=row["citation"],
                    population=row["population"],
                    measure=row["measure"],
                    approximate=bool(row.get("approximate", False)),
                    informs=tuple(row.get("informs", ())),
                    note=row.get("note", ""),
                    bound=row.get("bound", ""),
                )
            )
    if problems:
        raise ScenarioError(problems, source)
    return targets


def row_problems(row: Mapping[str, Any], where: str, *, complete: bool = False) -> list[Problem]:
    """What is wrong with one ``[[target]]`` table (empty when nothing), each problem keyed
    ``where.field``. Ids repeated across rows are :func:`load_targets`' to find."""
    problems: list[Problem] = []

    def bad(key: str, message: str, got: Any = None, allowed: str | None = None) -> None:
        problems.append(Problem(f"{where}.{key}", message, got, allowed))

    for key in row:
        if key not in REQUIRED and key not in OPTIONAL:
            guess = difflib.get_close_matches(key, (*REQUIRED, *OPTIONAL), n=1)
            bad(key, "unknown field" + (f"; did you mean {guess[0]}?" if guess else ""))
    for key in (*REQUIRED, *(DOCUMENTED if complete else ())):
        if key not in row:
            bad(key, "missing")
    for key in TEXT:
        if key in row and (not isinstance(row[key], str) or not row[key].strip()):
            bad(key, "must be text", row[key], "a non-empty string")
    if isinstance(row.get("id"), str) and row["id"].strip() and not _ID.fullmatch(row["id"]):
        bad("id", "must be a lower-case identifier", row["id"], "a-z, 0-9 and _, starting with a letter")
    citation = row.get("citation")
    if isinstance(citation, str) and citation.strip():
        if not _YEAR.search(citation):
            bad("citation", "must give a year", citation, "authors, year, title, where")
        elif not _AUTHOR_YEAR.search(citation):
            bad("citation", "must name an author before the year", citation, "authors, year, title, where")
    if "level" in row and row["level"] not in LEVELS:
        bad("level", "unknown level", row["level"], ", ".join(LEVELS))
    known = observables()
    if "observable" in row and row["observable"] not in known:
        guess = difflib.get_close_matches(str(row["observable"]), known, n=1)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        bad("observable", "not a model output or observable" + hint, row["observable"])
    designs = [d.value for d in DesignKind]
    if "design" in row and row["design"] not in designs:
        bad("design", "unknown design", row["design"], ", ".join(designs))
    month = row.get("month")
    if "month" in row and (not _whole(month) or not 1 <= month <= MAX_MONTH):
        bad("month", "must be a whole month", month, f"1 to {MAX_MONTH}")
    value = row.get("value")
    if "value" in row and not _finite(value):
        bad("value", "must be a finite number", value)
    elif "value" in row and row.get("observable") in OBSERVABLES:
        o = OBSERVABLES[row["observable"]]
        if not o.low <= value <= o.high:
            bad("value", f"outside {o.name}'s range", value, f"{o.low:g} to {o.high:g}")
    problems += _uncertainty_problems(row, where)
    if "bound" in row and row["bound"] not in BOUNDS:
        bad("bound", "unknown bound", row["bound"], " or ".join(f'"{b}"' for b in BOUNDS))
    if "approximate" in row and not isinstance(row["approximate"], bool):
        bad("approximate", "must be true or false", row["approximate"])
    note = row.get("note")
    if complete and isinstance(note, str) and note.strip() and not note.startswith(NOTE_START):
        bad("note", f"must start with {NOTE_START.strip()!r} and why the design fits", note)
    if "informs" in row:
        informs = row["informs"]
        if not isinstance(informs, list) or not informs or not all(isinstance(k, str) for k in informs):
            bad("informs", "must be a list of parameter keys", informs, 'e.g. ["design.stipend"]')
        else:
            for key in informs:
                if key not in PARAMETERS:
                    guess = difflib.get_close_matches(key, PARAMETERS, n=1)
                    hint = f"; did you mean {guess[0]}?" if guess else ""
                    bad("informs", "unknown parameter" + hint, key, "a key of coprod params")
    return problems


def _uncertainty_problems(row: Mapping[str, Any], where: str) -> list[Problem]:
    """``sd`` > 0, or ``interval = [low, high]`` with low < high, ``interval_level`` and the value inside."""
    levels = " or ".join(f"{v:g}" for v in INTERVAL_LEVELS)
    if "sd" in row and "interval" in row:
        return [Problem(f"{where}.sd", "give sd or interval, not both")]
    if "sd" in row:
        if not _finite(row["sd"]) or row["sd"] <= 0:
            return [Problem(f"{where}.sd", "must be a positive number", row["sd"])]
        if "interval_level" in row:
            return [Problem(f"{where}.interval_level", "without interval; an sd has no level")]
        return []
    if "interval" not in row:
        return [Problem(f"{where}.sd", "missing: give sd, or interval = [low, high] with interval_level")]
    interval = row["interval"]
    ok = isinstance(interval, list) and len(interval) == 2 and all(_finite(v) for v in interval)
    if not ok or not interval[0] < interval[1]:
        return [Problem(f"{where}.interval", "must be [low, high] with low < high", interval)]
    if "interval_level" not in row:
        return [Problem(f"{where}.interval_level", "missing: the level of the interval", None, levels)]
    if row["interval_level"] not in INTERVAL_LEVELS:
        return [Problem(f"{where}.interval_level", "unknown level", row["interval_level"], levels)]
    value = row.get("value")
    if _finite(value) and not interval[0] <= value <= interval[1]:
        return [
            Problem(f"{where}.value", "outside its interval", value, f"{interval[0]:g} to {interval[1]:g}")
        ]
    return []


def _sd(row: Mapping[str, Any]) -> float:
    """A checked row's standard deviation: ``sd``, or the width of ``interval`` over 2 z of its level."""
    if "sd" in row:
        return float(row["sd"])
    low, high = row["interval"]
    return (float(high) - float(low)) / (2 * interval_z(row["interval_level"]))


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def target_scenario(target: Target | Mapping[str, Any], base: Scenario | None = None) -> Scenario:
    """The scenario a target is simulated under: ``base`` (or the defaults) with ``design.kind`` set to the
    target's design (a :class:`Target` or a row of the file)."""
    design = target.design if isinstance(target, Target) else target["design"]
    return (base or Scenario.build({})).with_overrides({"design.kind": design})


def observe_runs(scenario: Scenario, wanted: list[tuple[str, int]]) -> dict[tuple[str, int], float]:
    """Run ``scenario`` to the last month wanted and return each ``(observable, month)`` asked for.

    The run is a :class:`model.observables.ObservedModel`, which keeps the record of the month and the
    history that ``knowledge_gain``, ``retention`` and the ``*_to_date`` observables need (``nan`` on a
    plain ``GovernanceModel``) and otherwise runs exactly as the plain model with the same seed."""
    months = sorted({m for _, m in wanted})
    unknown = sorted({name for name, _ in wanted if name not in OUTPUTS and name not in OBSERVABLES})
    if unknown:
        raise KeyError(f"not a model output or observable: {', '.join(unknown)}")
    model = ObservedModel(scenario, rng=scenario.run.seed)
    values: dict[tuple[str, int], float] = {}
    for t in range(1, months[-1] + 1):
        model.step()
        if t in months:
            now = [name for name, month in wanted if month == t]
            extra = observe(model, sorted({name for name in now if name not in OUTPUTS}))
            outputs = model.outputs
            for name in now:
                values[(name, t)] = float(outputs[name] if name in OUTPUTS else extra[name])
    return values


__all__ = [
    "BOUNDS",
    "LEVELS",
    "Target",
    "interval_z",
    "load_targets",
    "observables",
    "observe_runs",
    "row_problems",
    "target_scenario",
]
