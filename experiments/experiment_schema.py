"""The experiment file's schema: what an experiment file may contain, declared once.

:class:`ExperimentFile` declares every top-level setting of an experiment file (what each does is told in
:mod:`experiments.design`): its type, default and bounds; its tables (``[sampler]``, a ``[factors]`` range,
``[cross]``, ``[groups]``) are declared the same way. Every table forbids keys it does not declare, so an
unknown setting anywhere is refused here. :func:`check` validates the data of an experiment file and
translates pydantic's errors into the one-line :class:`model.Problem` s a scenario gives
(``FILE: key: what is wrong (got X, allowed Y)``); :func:`json_schema` exports the schema.

What needs the model's parameter table (parameter names, a range within a parameter's bounds, listed
values a scenario accepts) or the base scenarios is checked afterwards, on the validated
:class:`ExperimentFile`, by :func:`experiments.design.load_experiment`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import annotated_types
from coprod.model import CONSENSUS, MARKERS, OUTPUTS, PARAMETERS, TEXT_LIMITS, Problem
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    FiniteFloat,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

SamplerKind = Literal["grid", "lhs", "sobol", "morris"]
SAMPLERS: tuple[str, ...] = get_args(SamplerKind)
PLAIN_NAME = (
    r"[A-Za-z0-9][A-Za-z0-9_.-]*"  # an experiment's (or calibration's) name: it names results/<name>/
)
GROUP_NAME = r"[A-Za-z0-9_.:-]{1,64}"  # a SALib group of factors
MAX_REPLICATIONS = 1_000_000
MAX_SEED = 2**63 - 1
MAX_TIME_LIMIT = 10_000_000  # seconds (about 16 weeks): more is a typo, and would overflow timers
STEPS = PARAMETERS["run.steps"]
DEFAULT_OUTPUTS = (CONSENSUS[0], *MARKERS)
RANGE_KEYS = ("low", "high")
FACTOR_KEYS = (*RANGE_KEYS, "group")
Output = Literal[OUTPUTS]  # type: ignore[valid-type]  # the names of DESIGN.md, from model.outputs


def _fault(message: str, allowed: str | None = None, **got: Any) -> PydanticCustomError:
    """A rule of this schema broken: the problem's message and what is allowed (``got=`` to replace, or
    with ``None`` to leave out, the value the message shows)."""
    return PydanticCustomError("experiment", "{message}", {"message": message, "allowed": allowed, **got})


def sample_size_rule(kind: str) -> str:
    return "a power of 2 (64, 128, 256, ...)" if kind == "sobol" else "an integer of at least 2"


def sampler_choices() -> str:
    return "one of " + ", ".join(SAMPLERS)


# ------------------------------------------------------------------------------- TOML shapes, read as such


def flatten(table: Any, prefix: str = "") -> Any:
    """A table with nested tables (unquoted dotted keys, ``[set.population]``) as {dotted key: value}."""
    if not isinstance(table, dict):
        return table
    out = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def factor_entries(table: Any, prefix: str = "") -> Any:
    """``[factors]`` as {dotted key: list or range table}: a nested table that is not a range flattens."""
    if not isinstance(table, dict):
        return table
    out = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and not any(r in v for r in FACTOR_KEYS):
            out.update(factor_entries(v, key + "."))
        else:
            out[key] = v
    return out


def _paths(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _sampler_table(value: Any) -> Any:
    """``sampler = "KIND"`` is ``[sampler] kind = "KIND"``; ``N`` (SALib's name) is ``n``."""
    if isinstance(value, str):
        return {"kind": value}
    if isinstance(value, dict) and "N" in value and "n" not in value:
        return {("n" if k == "N" else k): v for k, v in value.items()}
    return value


def _shape(listed: str, table: str):
    """The tag of a value that may be a list (or text) or a table: which of the union's members it is."""

    def tag(value: Any) -> str | None:
        if isinstance(value, dict):
            return table
        return listed if isinstance(value, list | str) else None

    return Discriminator(tag)


# ---------------------------------------------------------------------------------------- the schema


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SamplerTable(_Table):
    """``[sampler]``: how the factors' values are chosen."""

    kind: SamplerKind = Field("grid", description="grid crosses the factors; lhs, sobol, morris sample them")
    n: int | None = Field(
        None,
        ge=2,
        validate_default=True,
        description="lhs: points; sobol: base sample N (a power of 2); morris: trajectories (alias N)",
    )
    levels: int | None = Field(
        None, ge=2, description="grid: values per range factor (default 3); morris: even (default 4)"
    )
    second_order: bool | None = Field(None, description="sobol: also second-order indices (N*(2D+2) runs)")

    @field_validator("n")
    @classmethod
    def _size_fits_the_kind(cls, n: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")  # absent when the kind itself is refused
        if kind == "grid" and n is not None:
            raise _fault("a grid has no sample size; it crosses the factors")
        if kind in ("lhs", "sobol", "morris") and n is None:
            raise _fault(f"missing: the {kind} sampler needs a sample size", sample_size_rule(kind))
        if kind == "sobol" and n & (n - 1):
            raise _fault("not a valid sample size", sample_size_rule(kind))
        return n

    @field_validator("levels")
    @classmethod
    def _levels_fit_the_kind(cls, levels: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")
        if levels is not None and kind in ("lhs", "sobol"):
            raise _fault(f"the {kind} sampler has no levels")
        if levels is not None and kind == "morris" and levels % 2:
            raise _fault("must be even for an unbiased Morris sample", "4, 6, 8")
        return levels

    @field_validator("second_order")
    @classmethod
    def _only_sobol(cls, second: bool | None, info: ValidationInfo) -> bool | None:
        if second is not None and info.data.get("kind", "sobol") != "sobol":
            raise _fault("only the sobol sampler has second-order indices", got=None)
        return second


class RangeTable(_Table):
    """A factor's range, ``{ low = .., high = .. }``: each bound defaults to the parameter's own."""

    low: int | FiniteFloat | None = Field(None, description="default: the parameter's lower bound")
    high: int | FiniteFloat | None = Field(None, description="default: the parameter's upper bound")
    group: str | None = Field(
        None, pattern=f"^{GROUP_NAME}$", description="the SALib group the factor is moved with"
    )


# a factor: listed values, or a range
FactorEntry = Annotated[
    Annotated[list[Any], Tag("values")] | Annotated[RangeTable, Tag("range")], _shape("values", "range")
]
GroupName = Annotated[str, Field(pattern=f"^{GROUP_NAME}$")]
# groups = "section" (each factor in its schema section), or a table {factor key: group name}
Groups = Annotated[
    Annotated[Literal["section"], Tag("section")] | Annotated[dict[str, GroupName], Tag("table")],
    _shape("section", "table"),
]


class ExperimentFile(_Table):
    """An experiment file, as written (see :mod:`experiments.design`)."""

    name: str = Field(
        pattern=f"^{PLAIN_NAME}$",
        max_length=TEXT_LIMITS["name"],
        description="names results/<name>/ (default: the file's stem)",
    )
    description: str = Field("", max_length=TEXT_LIMITS["description"])
    replications: int = Field(1, ge=1, le=MAX_REPLICATIONS, description="runs per design point")
    root_seed: int = Field(
        ge=0, le=MAX_SEED, description="every run's seed derives from it and the run's key"
    )
    steps: int | None = Field(
        None, ge=int(STEPS.low), le=int(STEPS.high), description="months per run (default: each scenario's)"
    )
    record_every: int = Field(1, ge=1, le=int(STEPS.high), description="store every k-th step")
    time_limit: float | None = Field(
        None, gt=0, le=MAX_TIME_LIMIT, allow_inf_nan=False, description="seconds per run"
    )
    outputs: list[Output] = Field(
        list(DEFAULT_OUTPUTS), min_length=1, description="what sensitivity indices are computed for"
    )
    fixed: Annotated[dict[str, Any], BeforeValidator(flatten)] = Field(
        {}, alias="set", description="fixed overrides of every base scenario, by dotted key"
    )
    scenarios: Annotated[list[str], BeforeValidator(_paths)] = Field(
        min_length=1, description="base scenario files, relative to the experiment file"
    )
    sampler: Annotated[SamplerTable, BeforeValidator(_sampler_table)] = Field(
        SamplerTable(), description='a [sampler] table, or just its kind: sampler = "grid"'
    )
    factors: Annotated[dict[str, FactorEntry], BeforeValidator(factor_entries)] = Field(
        {}, description="dotted key: [listed values] or a range table; '*' or 'SECTION.*' = {}"
    )
    cross: Annotated[dict[str, list[Any]], BeforeValidator(flatten)] = Field(
        {}, description="dotted key: [listed values] at which every design point runs"
    )
    groups: Annotated[Groups | None, BeforeValidator(flatten)] = Field(
        None, description='"section", or a table {factor key: group name}'
    )

    @field_validator("record_every")
    @classmethod
    def _within_the_run(cls, every: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and every > steps:
            raise _fault("longer than the run", f"at most steps = {steps}")
        return every


TOP_LEVEL: tuple[str, ...] = tuple(f.alias or name for name, f in ExperimentFile.model_fields.items())
SAMPLER_KEYS: tuple[str, ...] = tuple(SamplerTable.model_fields)


def json_schema() -> dict:
    """The experiment file's JSON schema (for editors; the TOML file is its instance)."""
    return ExperimentFile.model_json_schema(mode="validation")


# ------------------------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Checked:
    """An experiment file checked against the schema.

    ``file`` is the validated file less what the ``problems`` are about (those settings take their
    defaults, or a stand-in where they have none): the checks that follow still see the rest, so that every
    problem shows at once. ``refused`` names the settings refused as a whole; the refused entries of
    ``[factors]``, ``[cross]`` and ``[groups]`` are left out of them and kept, as written, in ``broken``.
    """

    file: ExperimentFile | None
    problems: list[Problem]
    refused: frozenset[str] = frozenset()
    broken: dict[str, dict[str, Any]] | None = None
    about: dict[tuple[str, str], list[Problem]] | None = None  # the problems of each broken entry

    def entries_refused(self, table: str) -> dict[str, Any]:
        """The entries of ``table`` the schema refused, {dotted key: value as written}."""
        return (self.broken or {}).get(table, {})

    def instead(self, problems: list[Problem], table: str, key: str, problem: Problem) -> None:
        """Report ``problem`` (with the entry's key) in place of the schema's with the entry's value."""
        for p in (self.about or {}).get((table, key), []):
            if p in problems:
                problems.remove(p)
        problems.append(problem)


TABLES = {"factors": factor_entries, "cross": flatten, "groups": flatten}  # refused entry by entry
STAND_INS = {"name": "experiment", "root_seed": 0, "scenarios": ["-"]}  # for required settings refused


def check(data: dict) -> Checked:
    """Validate the data of an experiment file (``name`` already defaulted to the file's stem)."""
    try:
        return Checked(ExperimentFile.model_validate(data), [])
    except ValidationError as err:
        errors = err.errors(include_url=False)
    problems: list[Problem] = []
    refused, broken, about = set(), {}, {}
    for e in sorted(errors, key=_order):
        loc = _untagged(e["loc"])
        p = _problem(loc, e, data)
        if p not in problems:
            problems.append(p)
        if loc and loc[0] in TABLES and len(loc) > 1 and isinstance(data.get(loc[0]), dict):
            broken.setdefault(loc[0], set()).add(str(loc[1]))
            about.setdefault((loc[0], str(loc[1])), []).append(p)
        elif loc:
            refused.add(str(loc[0]))
    rest = {k: v for k, v in data.items() if k not in refused}
    for table, keys in broken.items():
        rest[table] = {k: v for k, v in TABLES[table](data[table]).items() if k not in keys}
    try:
        partial = ExperimentFile.model_validate({**STAND_INS, **rest})
    except ValidationError:  # not expected: every refused part is out; then nothing more is checked
        partial = None
    written = {t: {k: v for k, v in TABLES[t](data[t]).items() if k in keys} for t, keys in broken.items()}
    return Checked(partial, problems, frozenset(refused), written, about)


def unknown(key: str, candidates: Iterable[str], what: str) -> Problem:
    """``key: unknown WHAT; did you mean X?``: a right name in the wrong section first (as the scenario
    loader does), then the closest spelling."""
    candidates = list(candidates)
    tail = key.rsplit(".", 1)[-1]
    guess = [c for c in candidates if c.endswith("." + tail)][:1] if "." in key else []
    guess = guess or difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]}?" if guess else ""
    return Problem(key, f"unknown {what}{hint}")


# -------------------------------------------------------------------- pydantic's errors, as one line each


# what is wrong, and what is allowed, for any error at these places ("*": an entry of a table)
SHAPES: dict[tuple[str, ...], tuple[str, str | None]] = {
    ("name",): ("must be a plain name (it names results/<name>/)", "[A-Za-z0-9_.-]"),
    ("description",): ("must be text", "a string"),
    ("time_limit",): ("must be a positive number of seconds", f"above 0, at most {MAX_TIME_LIMIT:_}"),
    ("outputs",): ("must be a list of output names", ", ".join(OUTPUTS)),
    ("set",): ("must be a table of fixed settings", "a [set] table"),
    ("scenarios",): ("must name base scenario files", "a path or a list of paths"),
    ("sampler",): ("must be a sampler name or a [sampler] table", sampler_choices()),
    ("sampler", "kind"): ("unknown sampler", sampler_choices()),
    ("sampler", "levels"): ("must be an integer of at least 2", "2 or more"),
    ("sampler", "second_order"): ("must be true or false", "true, false"),
    ("factors",): ("must be a table of factors", "a [factors] table"),
    ("factors", "*"): (
        "must be a list of values or a range table (a single value belongs in [set])",
        "[v1, v2, ...] or { low = .., high = .. }",
    ),
    ("factors", "*", "low"): ("must be a finite number", None),  # allowed: the parameter's own range
    ("factors", "*", "high"): ("must be a finite number", None),
    ("factors", "*", "group"): ("must be a plain name", "[A-Za-z0-9_.:-], 1 to 64"),
    ("cross",): ("must be a table of listed values", "a [cross] table"),
    ("cross", "*"): ("must list values", "[v1, v2, ...]"),
    ("groups",): ('must be "section" or a table of factor = group', '"section" or a table'),
    ("groups", "*"): ("must be a plain name", "[A-Za-z0-9_.:-]"),
}
LENGTH = ("string_too_long",)
BOUNDS = {"greater_than_equal": ("ge", "at least"), "less_than_equal": ("le", "at most")}


def _integers() -> dict[str, tuple[int, int]]:
    """The integer settings and their bounds, as declared."""
    out = {}
    for name, f in ExperimentFile.model_fields.items():
        if f.annotation in (int, int | None):
            low = next(m.ge for m in f.metadata if isinstance(m, annotated_types.Ge))
            high = next(m.le for m in f.metadata if isinstance(m, annotated_types.Le))
            out[f.alias or name] = (low, high)
    return out


INTEGERS = _integers()


def _order(e: dict) -> tuple[int, bool]:
    """Unknown settings first, then the settings in the order the schema declares them (in a table, its
    unknown keys first)."""
    top = e["loc"][0] if e["loc"] else ""
    return (TOP_LEVEL.index(top) if top in TOP_LEVEL else -1, e["type"] != "extra_forbidden")


def _untagged(loc: tuple) -> tuple:
    """``loc`` without the tags of the unions (``factors.KEY.range.low`` is ``factors.KEY.low``), and
    without the member of a union of numbers (``.int``, ``.float``)."""
    loc = tuple(loc)
    if loc[:1] == ("factors",) and len(loc) > 2 and loc[2] in ("values", "range"):
        loc = loc[:2] + loc[3:4]
    if loc[:1] == ("groups",) and len(loc) > 1 and loc[1] in ("section", "table"):
        loc = loc[:1] + loc[2:]
    return loc


def _problem(loc: tuple, e: dict, data: dict) -> Problem:
    kind, ctx = e["type"], e.get("ctx") or {}
    got = None if kind == "missing" else e.get("input")
    key = ".".join(str(p) for p in loc)
    if kind == "experiment":
        return Problem(key, ctx["message"], ctx.get("got", got), ctx["allowed"])
    if kind == "extra_forbidden":
        return _extra(loc)
    if loc[0] in INTEGERS:
        low, high = INTEGERS[loc[0]]
        allowed = f"an integer from {low} to {high}"
        if kind == "missing":
            return Problem(key, "missing", None, allowed)
        if kind in BOUNDS:
            name, words = BOUNDS[kind]
            return Problem(key, f"must be {words} {ctx[name]}", got, allowed)
        return Problem(key, "must be an integer", got, allowed)
    if kind in LENGTH and len(loc) == 1:
        limit = ctx["max_length"]
        return Problem(key, f"is {len(got):_} characters long", got, f"at most {limit:_}")
    if loc[0] == "scenarios":  # a path that is no text refuses the list
        message, allowed = SHAPES[("scenarios",)]
        return Problem("scenarios", message, data.get("scenarios"), allowed)
    if loc[0] == "outputs" and len(loc) > 1:
        if all(isinstance(v, str) for v in data["outputs"]):  # else the list is refused as a whole
            p = unknown(got, OUTPUTS, "output")
            return Problem("outputs", f"{got}: {p.message}", got, "names from DESIGN.md")
        message, allowed = SHAPES[("outputs",)]
        return Problem("outputs", message, data.get("outputs"), allowed)
    if loc[:2] == ("sampler", "n"):
        sampler = _sampler_table(data.get("sampler"))
        kind_given = sampler.get("kind", "grid") if isinstance(sampler, dict) else None
        if kind_given == "grid":
            return Problem(key, "a grid has no sample size; it crosses the factors", got)
        return Problem(key, "not a valid sample size", got, sample_size_rule(str(kind_given)))
    pattern = (*loc[:1], "*", *loc[2:3]) if loc[0] in TABLES and len(loc) > 1 else loc[:2]
    key = ".".join(str(p) for p in loc[:3])
    message, allowed = SHAPES.get(pattern, (e["msg"].lower(), None))
    if pattern[0] == "factors" and pattern[2:] in (("low",), ("high",)) and loc[1] in PARAMETERS:
        allowed = PARAMETERS[loc[1]].allowed()
    return Problem(key, message, got, allowed)


def _extra(loc: tuple) -> Problem:
    """An undeclared key: a setting, a sampler setting or a range setting nobody knows."""
    if len(loc) == 1:
        return unknown(str(loc[0]), TOP_LEVEL, "setting")
    if loc[0] == "sampler":
        return Problem(f"sampler.{loc[1]}", unknown(str(loc[1]), SAMPLER_KEYS, "sampler setting").message)
    return Problem(".".join(str(p) for p in loc), "unknown range setting", None, ", ".join(FACTOR_KEYS))


__all__ = [
    "DEFAULT_OUTPUTS",
    "FACTOR_KEYS",
    "MAX_REPLICATIONS",
    "MAX_SEED",
    "MAX_TIME_LIMIT",
    "PLAIN_NAME",
    "SAMPLERS",
    "SAMPLER_KEYS",
    "TOP_LEVEL",
    "Checked",
    "ExperimentFile",
    "RangeTable",
    "SamplerTable",
    "check",
    "json_schema",
    "unknown",
]
