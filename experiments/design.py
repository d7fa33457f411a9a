"""Experiment files: which runs a sweep makes, declared in TOML and validated like a scenario.

An experiment names one or more base scenarios, the factors to vary, how to sample them, how many
replications, one root seed, how long to run and how often to record::

    name = "compare_designs"                   # default: the file's stem; also names results/<name>/
    description = "The five designs by the four theories of change"
    scenarios = ["../scenarios/citizens_assembly.toml", ...]   # relative to this file
    replications = 5                            # runs per design point, each with its own seed
    root_seed = 20240601                        # every run's seed derives from this and the run's key
    steps = 120                                 # months per run (default: each scenario's run.steps)
    record_every = 6                            # store every k-th step (step 0 and the last always)
    time_limit = 60                             # optional: seconds per run; slower runs are "timed_out"
    outputs = ["consensus_bias", "structure"]   # optional: what sensitivity indices are computed for

    [set]                                       # optional: fixed overrides for every base scenario
    "population.residents" = 500

    [sampler]                                   # or just: sampler = "grid"
    kind = "grid"                               # grid | lhs | sobol | morris
    n = 64                                      # lhs: points; sobol: base sample N (power of 2);
                                                # morris: trajectories
    levels = 4                                  # grid: values per range factor (default 3);
                                                # morris: grid levels (even, default 4)
    second_order = false                        # sobol: also second-order indices (N*(2D+2) runs)

    [factors]
    "theory.kind" = ["incremental", "structural", "knowledge", "coalition"]   # listed values
    "design.facilitation" = { low = 0.2, high = 0.9 }                        # a range
    "context.inequality" = {}                   # a range over the schema's own bounds

    [cross]                                     # optional (lhs or grid): every point at every value
    "theory.kind" = ["incremental", "structural", "knowledge", "coalition"]

A city context (``coprod sweep --city NAME``, :func:`model.load_city`) applies to every base scenario,
above the scenario file and below ``[set]``, ``steps`` and the factors; the experiment's recorded
definition names the city and the values it applied, so a resume with another city is a changed
definition.

Factor keys are the scenario's dotted keys; ranges default to, and must stay within, the bounds declared
in :mod:`model.scenario`; a parameter is either fixed in ``[set]`` or a factor, not both. An experiment of
more than ``MAX_RUNS`` (100 000) runs is refused, counted before any sample is drawn.

The grid sampler crosses listed values (and ``levels`` evenly spaced values of each range); ``lhs``,
``sobol`` and ``morris`` sample the unit cube (SALib, scipy) and map it onto the factors: a range linearly
(integers rounded), a list of values by equal slices (Morris takes ranges only).
A Sobol or Morris study is analysed per base scenario, on the replication mean of each sample point.

Each run has a readable, stable key, ``<base scenario>[/sample=<i>][/<key>=<value>,...]/rep=<r>``, and a
seed derived from the root seed and that key only (:func:`run_seed`), so results depend neither on the
order in which runs execute nor on how many workers execute them.

``[cross]`` lists values (listed only, never ranges) at which *every* design point is run: the arms of a
paired comparison, such as every theory of change at every sampled city. Crossed values lead the run's key
(``base/sample=3/theory.kind=knowledge,context.inequality=0.41/rep=0``), but its seed is derived from the
key without them, so the arms of a point share their replications' seeds: common random numbers (Law 2015,
Simulation Modeling and Analysis, ch. 11), which take the run-to-run noise the arms share out of their
differences, the regrets of :mod:`experiments.regret`. Crossing is refused with Sobol and Morris samplers,
whose estimators need their own designs.

Bad input raises :class:`ExperimentError` (a :class:`model.ScenarioError`): one problem per fault, each
``FILE: key: what is wrong (got X, allowed Y)``, before anything is run or written.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from coprod.model import (
    CONSENSUS,
    MARKERS,
    OUTPUTS,
    PARAMETERS,
    TEXT_LIMITS,
    City,
    Problem,
    Scenario,
    ScenarioError,
    load_city,
    load_scenario,
    read_toml,
    text_problems,
)

SAMPLERS = ("grid", "lhs", "sobol", "morris")
PLAIN_NAME = (
    r"[A-Za-z0-9][A-Za-z0-9_.-]*"  # an experiment's (or calibration's) name: it names results/<name>/
)
TOP_LEVEL = (
    "name",
    "description",
    "scenarios",
    "set",
    "factors",
    "sampler",
    "replications",
    "root_seed",
    "steps",
    "record_every",
    "time_limit",
    "outputs",
    "groups",
    "cross",
)
SAMPLER_KEYS = ("kind", "n", "levels", "second_order")
RANGE_KEYS = ("low", "high")
FACTOR_KEYS = (*RANGE_KEYS, "group")
# ``"*" = {}`` in [factors]: every numeric parameter of the schema (``"context.*" = {}``: of one section),
# except the run's own settings and whatever [set] fixes or [factors] names explicitly
ALL = "*"
# seeds and run length are the experiment's own business, never a factor
RESERVED = {"run.seed": "root_seed", "run.steps": "steps"}
DEFAULT_OUTPUTS = (CONSENSUS[0], *MARKERS)
MAX_REPLICATIONS = 1_000_000
MAX_SEED = 2**63 - 1
# Planning holds every run's parameters in memory (a few kB each) before anything runs: a bigger design is
# refused as a whole, before any sample is drawn, rather than left to exhaust memory or run for hours.
MAX_RUNS = 100_000
MAX_TIME_LIMIT = 10_000_000  # seconds (about 16 weeks): more is a typo, and would overflow timers


class ExperimentError(ScenarioError):
    """Raised for a bad experiment file; ``problems`` lists every fault found."""


# ------------------------------------------------------------------------------------------ seeds


def run_seed(root_seed: int, run_key: str) -> int:
    """The seed of one run: a function of the root seed and the run's key only (63 bits, SQLite-safe)."""
    words = np.frombuffer(hashlib.sha256(run_key.encode()).digest(), dtype="<u4").tolist()
    state = np.random.SeedSequence([root_seed, *words]).generate_state(1, dtype=np.uint64)
    return int(state[0]) >> 1


# ---------------------------------------------------------------------------------------- factors


@dataclass(frozen=True)
class Factor:
    """One parameter the experiment varies: listed ``values``, or a range ``low``..``high``."""

    key: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    group: str | None = None  # SALib group: a grouped Morris or Sobol study gives one index per group

    @property
    def is_range(self) -> bool:
        return self.values is None

    @property
    def is_int(self) -> bool:
        return PARAMETERS[self.key].type == "int"

    def bounds(self) -> list[float]:
        """The factor's interval in the sampled matrix: its range, or [0, 1] for listed values."""
        return [float(self.low), float(self.high)] if self.is_range else [0.0, 1.0]

    def value(self, x: float) -> Any:
        """The parameter value at ``x`` (a point within :meth:`bounds`)."""
        if self.is_range:
            x = min(max(float(x), self.low), self.high)
            return round(x) if self.is_int else x
        return self.values[min(int(x * len(self.values)), len(self.values) - 1)]

    def grid(self, levels: int) -> tuple[Any, ...]:
        """The values a grid takes: the listed ones, or ``levels`` evenly spaced over the range."""
        if not self.is_range:
            return self.values
        points = [self.value(x) for x in np.linspace(self.low, self.high, levels).tolist()]
        return tuple(dict.fromkeys(points))

    def to_json(self) -> dict:
        if self.is_range:
            data = {"key": self.key, "low": self.low, "high": self.high}
        else:
            data = {"key": self.key, "values": [list(v) if isinstance(v, tuple) else v for v in self.values]}
        if self.group is not None:  # only when grouped, so that ungrouped studies keep their fingerprints
            data["group"] = self.group
        return data

    @classmethod
    def from_json(cls, data: dict) -> Factor:
        group = data.get("group")
        group = group if isinstance(group, str) else None
        if "values" in data:
            return cls(data["key"], values=tuple(_freeze(v) for v in data["values"]), group=group)
        return cls(data["key"], low=data["low"], high=data["high"], group=group)


@dataclass(frozen=True)
class Sampler:
    """How factor values are chosen: ``grid``, ``lhs``, ``sobol`` or ``morris``."""

    kind: str = "grid"
    n: int | None = None
    levels: int | None = None
    second_order: bool = False

    @property
    def sampled(self) -> bool:
        return self.kind != "grid"

    def to_json(self) -> dict:
        return {"kind": self.kind, "n": self.n, "levels": self.levels, "second_order": self.second_order}

    @classmethod
    def from_json(cls, data: dict) -> Sampler:
        return cls(**{k: data.get(k) for k in SAMPLER_KEYS if k in data})


def problem(factors: tuple[Factor, ...]) -> dict:
    """The SALib problem for ``factors``; with ``groups`` when any factor has a group (a factor without
    one is then a group of its own, named by its key)."""
    spec = {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [f.bounds() for f in factors],
    }
    if any(f.group is not None for f in factors):
        spec["groups"] = [f.group if f.group is not None else f.key for f in factors]
    return spec


def group_names(factors: tuple[Factor, ...]) -> list[str]:
    """The names the indices are reported under: the groups in order of first appearance (as SALib
    orders them), or the factors' keys when there are no groups."""
    spec = problem(factors)
    return list(dict.fromkeys(spec.get("groups", spec["names"])))


def sample_matrix(factors: tuple[Factor, ...], sampler: Sampler, root_seed: int) -> np.ndarray:
    """The sampled design, one row per point, in each factor's :meth:`Factor.bounds` (deterministic).

    The analysis rebuilds this matrix from the stored definition, so it must depend on nothing else.
    """
    seed = run_seed(root_seed, f"sampler:{sampler.kind}")
    spec = problem(factors)
    match sampler.kind:
        case "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(factors), rng=np.random.default_rng(seed)).random(sampler.n)
            low, high = np.array(spec["bounds"]).T
            return low + unit * (high - low)
        case "sobol":
            from SALib.sample import sobol

            return sobol.sample(spec, sampler.n, calc_second_order=sampler.second_order, seed=seed)
        case "morris":
            from SALib.sample import morris

            return morris.sample(spec, sampler.n, num_levels=sampler.levels, seed=seed)
        case _:
            raise ValueError(f"sampler {sampler.kind!r} has no sample matrix")


# ------------------------------------------------------------------------------------ the experiment


@dataclass(frozen=True)
class Base:
    """A base scenario: its name, the path as written in the experiment file, and the loaded scenario."""

    name: str
    path: str
    scenario: Scenario


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: everything a worker needs, and where it sits in the design."""

    key: str
    base: str
    point: dict[str, Any]
    sample: int | None
    replication: int
    seed: int
    params: dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    """A validated experiment. Build it with :func:`load_experiment`."""

    name: str
    description: str
    source: str
    bases: tuple[Base, ...]
    overrides: dict[str, Any]
    factors: tuple[Factor, ...]
    sampler: Sampler
    replications: int
    root_seed: int
    steps: int | None
    record_every: int
    time_limit: float | None
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    city: City | None = None
    cross: tuple[Factor, ...] = ()  # listed values at which every design point runs (the arms)

    def problem(self) -> dict:
        return problem(self.factors)

    def arms(self) -> list[dict[str, Any]]:
        """The crossed values' combinations, ``[{}]`` without ``[cross]``: every point runs in each."""
        return [dict(zip([c.key for c in self.cross], combo, strict=True)) for combo in self._arm_values()]

    def _arm_values(self) -> list[tuple[Any, ...]]:
        return list(itertools.product(*(c.values for c in self.cross)))

    def points(self) -> list[tuple[int | None, dict[str, Any]]]:
        """The design points: ``(sample index or None, {factor key: value})``."""
        if not self.sampler.sampled:
            levels = self.sampler.levels or 3
            grids = [f.grid(levels) for f in self.factors]
            return [(None, dict(zip(self.keys, combo, strict=True))) for combo in itertools.product(*grids)]
        matrix = sample_matrix(self.factors, self.sampler, self.root_seed)
        return [
            (i, {f.key: f.value(x) for f, x in zip(self.factors, row, strict=True)})
            for i, row in enumerate(matrix.tolist())
        ]

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.factors]

    def size(self) -> int:
        """How many runs the experiment makes, counted without drawing a sample or planning a run.

        For a grid of integer ranges it is an upper bound (rounding may merge two levels).
        """
        d = len(group_names(self.factors))  # Morris and Sobol move one group at a time
        match self.sampler.kind:
            case "grid":
                levels = self.sampler.levels or 3
                points = math.prod(
                    len(f.values)
                    if not f.is_range
                    else min(levels, int(f.high - f.low) + 1)
                    if f.is_int
                    else levels
                    for f in self.factors
                )
            case "lhs":
                points = self.sampler.n
            case "sobol":
                points = self.sampler.n * ((2 * d + 2) if self.sampler.second_order else (d + 2))
            case "morris":
                points = self.sampler.n * (d + 1)
            case _:
                raise ValueError(f"unknown sampler {self.sampler.kind!r}")
        arms = math.prod(len(c.values) for c in self.cross)
        return len(self.bases) * points * arms * self.replications

    @cached_property
    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order; raises :class:`ExperimentError` if a combination is impossible."""
        runs, problems, seen = [], [], set()
        for base in self.bases:
            for sample, sampled in self.points():
                exact = not self.sampler.sampled
                # the seed's key leaves the arm out: the arms of a point share seeds (common random numbers)
                seed_stem = run_key(base.name, sampled, sample, exact=exact)
                for arm in self.arms():
                    point = {**arm, **sampled}
                    key_stem = run_key(base.name, point, sample, exact=exact)
                    try:
                        scenario = base.scenario.with_overrides(point) if point else base.scenario
                    except ScenarioError as err:
                        for p in err.problems:
                            if (p.key, p.message) not in seen and len(problems) < 8:
                                seen.add((p.key, p.message))
                                problems.append(
                                    Problem(p.key, f"{p.message}, in run {key_stem}", p.got, p.allowed)
                                )
                        continue
                    flat = scenario.flat()
                    for rep in range(self.replications):
                        key = f"{key_stem}/rep={rep}"
                        seed = run_seed(self.root_seed, f"{seed_stem}/rep={rep}")
                        params = {**flat, "run.seed": seed}
                        runs.append(RunSpec(key, base.name, point, sample, rep, seed, params))
        if problems:
            raise ExperimentError(problems, self.source)
        return runs

    def definition(self) -> dict:
        """The experiment as JSON-ready data, stored with the results; ``fingerprint`` names its runs."""
        data = {
            "name": self.name,
            "description": self.description,
            "scenarios": [{"name": b.name, "path": b.path, "params": b.scenario.flat()} for b in self.bases],
            "set": self.overrides,
            "factors": [f.to_json() for f in self.factors],
            "sampler": self.sampler.to_json(),
            "replications": self.replications,
            "root_seed": self.root_seed,
            "steps": self.steps,
            "record_every": self.record_every,
            "time_limit": self.time_limit,
            "outputs": list(self.outputs),
        }
        if self.city is not None:  # only with --city, so that other experiments keep their fingerprints
            data["city"] = self.city.to_json()
        if self.cross:  # only when crossed, for the same reason
            data["cross"] = [c.to_json() for c in self.cross]
        # what decides which runs exist and what each computes: a resumed sweep must match it
        decisive = {k: v for k, v in data.items() if k not in ("description", "time_limit", "outputs")}
        decisive["scenarios"] = [{"name": s["name"], "params": s["params"]} for s in data["scenarios"]]
        if self.city is not None:  # the values decide the runs; the file's path is where it was found
            decisive["city"] = {"name": self.city.stem, "values": self.city.overrides()}
        data["fingerprint"] = hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()[:16]
        data["runs"] = len(self.runs)
        return data


def run_key(base: str, point: dict[str, Any], sample: int | None, *, exact: bool) -> str:
    """``base[/sample=i][/k=v,...]`` (without the replication): readable and stable."""
    parts = [base]
    if sample is not None:
        parts.append(f"sample={sample:05d}")
    if point:
        parts.append(",".join(f"{k}={_show(v, exact)}" for k, v in point.items()))
    return "/".join(parts)


def _show(value: Any, exact: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if exact else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "+".join(str(v) for v in value)
    return str(value)


# ------------------------------------------------------------------------------------------- loading


def load_experiment(path: str | Path, city: str | Path | None = None) -> Experiment:
    """Read and validate an experiment file and every run it implies; raise :class:`ExperimentError`.

    ``city`` (a shipped city's name or a city file) sets the context of every base scenario, below the
    experiment's ``[set]``, ``steps`` and factors; a bad city raises its own one-line problems.
    """
    source = str(path)
    context = load_city(city) if city is not None else None
    try:
        data = read_toml(path)
    except ScenarioError as err:
        raise ExperimentError(err.problems, source) from None
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_LEVEL:
            problems.append(_unknown(key, TOP_LEVEL, "setting"))

    name = data.get("name", Path(path).stem)
    if not isinstance(name, str) or not re.fullmatch(PLAIN_NAME, name):
        problems.append(
            Problem("name", "must be a plain name (it names results/<name>/)", name, "[A-Za-z0-9_.-]")
        )
    description = data.get("description", "")
    problems.extend(text_problems("description", description))
    if isinstance(name, str) and len(name) > TEXT_LIMITS["name"]:
        problems.extend(text_problems("name", name))

    replications = _integer(data, "replications", 1, 1, MAX_REPLICATIONS, problems)
    root_seed = _integer(data, "root_seed", None, 0, MAX_SEED, problems, required=True)
    steps_spec = PARAMETERS["run.steps"]
    steps = _integer(data, "steps", None, int(steps_spec.low), int(steps_spec.high), problems)
    record_every = _integer(data, "record_every", 1, 1, int(steps_spec.high), problems)
    if steps is not None and record_every is not None and record_every > steps:
        problems.append(
            Problem("record_every", "longer than the run", record_every, f"at most steps = {steps}")
        )
    time_limit = data.get("time_limit")
    if time_limit is not None and not (_is_finite(time_limit) and 0 < time_limit <= MAX_TIME_LIMIT):
        problems.append(
            Problem(
                "time_limit",
                "must be a positive number of seconds",
                time_limit,
                f"above 0, at most {MAX_TIME_LIMIT:_}",
            )
        )
        time_limit = None
    outputs = _outputs(data.get("outputs", list(DEFAULT_OUTPUTS)), problems)

    overrides = _overrides(data.get("set", {}), problems)
    fixed = {**overrides, "run.steps": steps} if steps is not None else overrides
    bases = _bases(data.get("scenarios"), Path(path).parent, fixed, problems, context)
    sampler = _sampler(data.get("sampler", "grid"), problems)
    factors = _factors(data.get("factors", {}), bases, problems, overrides)
    cross = _crossed(data.get("cross", {}), bases, problems, overrides, sampler, factors)
    if factors is not None and "groups" in data:
        factors = _grouped(data["groups"], factors, problems)
    if sampler is not None and factors is not None:
        _check_sampler_fits(sampler, factors, problems)
    if factors is not None:
        for f in factors:
            if f.key in overrides:
                problems.append(
                    Problem(
                        f"factors.{f.key}",
                        "also fixed in [set]; a parameter is either fixed there or varied here",
                    )
                )

    if problems:
        raise ExperimentError(problems, source)
    experiment = Experiment(
        name=name,
        description=description,
        source=source,
        bases=tuple(bases),
        overrides=overrides,
        factors=tuple(factors),
        sampler=sampler,
        replications=replications,
        root_seed=root_seed,
        steps=steps,
        record_every=record_every,
        time_limit=float(time_limit) if time_limit is not None else None,
        outputs=outputs,
        city=context,
        cross=tuple(cross or ()),
    )
    if experiment.size() > MAX_RUNS:
        raise ExperimentError(
            [
                Problem(
                    "runs",
                    "too many runs for one experiment; split it into several",
                    experiment.size(),
                    f"at most {MAX_RUNS:_}",
                )
            ],
            source,
        )
    experiment.runs  # noqa: B018 -- validates every combination now, before anything is written
    return experiment


def _integer(
    data: dict, key: str, default: int | None, low: int, high: int, problems: list, *, required: bool = False
) -> int | None:
    if key not in data:
        if required:
            problems.append(Problem(key, "missing", None, _range(low, high)))
        return default
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(Problem(key, "must be an integer", value, _range(low, high)))
        return None
    if not low <= value <= high:
        what = f"must be at least {low}" if value < low else f"must be at most {high}"
        problems.append(Problem(key, what, value, _range(low, high)))
        return None
    return value


def _range(low: float, high: float) -> str:
    return f"an integer from {low} to {high}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_finite(value: Any) -> bool:
    """A real number that is not NaN or infinite (TOML integers may be too big for a float: still finite)."""
    return _is_number(value) and (isinstance(value, int) or math.isfinite(value))


def _unknown(key: str, candidates, what: str) -> Problem:
    # a right name in the wrong section first (as the scenario loader does), then the closest spelling
    tail = key.rsplit(".", 1)[-1]
    guess = [c for c in candidates if c.endswith("." + tail)][:1] if "." in key else []
    guess = guess or difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]}?" if guess else ""
    return Problem(key, f"unknown {what}{hint}")


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _outputs(value: Any, problems: list) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(Problem("outputs", "must be a list of output names", value, ", ".join(OUTPUTS)))
        return DEFAULT_OUTPUTS
    for v in value:
        if v not in OUTPUTS:
            p = _unknown(v, OUTPUTS, "output")
            problems.append(Problem("outputs", f"{v}: {p.message}", v, "names from DESIGN.md"))
    return tuple(v for v in value if v in OUTPUTS) or DEFAULT_OUTPUTS


def _overrides(table: Any, problems: list) -> dict[str, Any]:
    if not isinstance(table, dict):
        problems.append(Problem("set", "must be a table of fixed settings", table, "a [set] table"))
        return {}
    flat = _flatten(table)
    good = {}
    for key, value in flat.items():
        if key not in PARAMETERS:
            p = _unknown(key, PARAMETERS, "parameter")
            problems.append(Problem(f"set.{key}", p.message))
        elif key in RESERVED:
            problems.append(Problem(f"set.{key}", f"set by the experiment's {RESERVED[key]}", value))
        else:
            good[key] = value
    return good


def _bases(value: Any, folder: Path, overrides: dict, problems: list, city: City | None = None) -> list[Base]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(
            Problem("scenarios", "must name base scenario files", value, "a path or a list of paths")
        )
        return []
    bases, names = [], set()
    for given in value:
        path = folder / given
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            for p in err.problems:
                what = p.message if p.key == "file" else f"{p.key}: {p.message}"
                problems.append(Problem("scenarios", f"{given}: {what}", p.got, p.allowed))
            continue
        if city is not None:  # scenario file < city < [set] and steps
            try:
                scenario = city.apply(scenario)
            except ScenarioError as err:
                for p in err.problems:
                    q = Problem("city", f"{given}: {p.key}: {p.message}", p.got, p.allowed)
                    problems.append(q)
                continue
        try:
            scenario = scenario.with_overrides(overrides)
        except ScenarioError as err:
            for p in err.problems:
                q = Problem("steps" if p.key == "run.steps" else f"set.{p.key}", p.message, p.got, p.allowed)
                if q not in problems:  # the same fault in every base scenario is reported once
                    problems.append(q)
            continue
        if scenario.name in names:
            problems.append(
                Problem("scenarios", "two base scenarios share a name", scenario.name, "distinct names")
            )
        names.add(scenario.name)
        bases.append(Base(scenario.name, given, scenario))
    return bases


def _sampler(value: Any, problems: list) -> Sampler | None:
    table = {"kind": value} if isinstance(value, str) else value
    if not isinstance(table, dict):
        problems.append(Problem("sampler", "must be a sampler name or a [sampler] table", value, _choices()))
        return None
    table = dict(table)
    if "N" in table and "n" not in table:
        table["n"] = table.pop("N")
    bad = False
    for key in table:
        if key not in SAMPLER_KEYS:
            p = _unknown(key, SAMPLER_KEYS, "sampler setting")
            problems.append(Problem(f"sampler.{key}", p.message))
            bad = True
    kind = table.get("kind", "grid")
    if kind not in SAMPLERS:
        problems.append(Problem("sampler.kind", "unknown sampler", kind, _choices()))
        return None
    n, levels, second = table.get("n"), table.get("levels"), table.get("second_order", False)
    if kind == "grid":
        if n is not None:
            problems.append(Problem("sampler.n", "a grid has no sample size; it crosses the factors", n))
            bad = True
    elif n is None:
        problems.append(
            Problem("sampler.n", f"missing: the {kind} sampler needs a sample size", None, _n_rule(kind))
        )
        bad = True
    elif not isinstance(n, int) or isinstance(n, bool) or n < 2 or (kind == "sobol" and n & (n - 1)):
        problems.append(Problem("sampler.n", "not a valid sample size", n, _n_rule(kind)))
        bad = True
    if levels is not None and kind in ("lhs", "sobol"):
        problems.append(Problem("sampler.levels", f"the {kind} sampler has no levels", levels))
        bad = True
    elif levels is not None and (not isinstance(levels, int) or isinstance(levels, bool) or levels < 2):
        problems.append(Problem("sampler.levels", "must be an integer of at least 2", levels, "2 or more"))
        bad = True
    elif kind == "morris" and levels is not None and levels % 2:
        problems.append(
            Problem("sampler.levels", "must be even for an unbiased Morris sample", levels, "4, 6, 8")
        )
        bad = True
    if "second_order" in table and kind != "sobol":
        problems.append(Problem("sampler.second_order", "only the sobol sampler has second-order indices"))
        bad = True
    elif not isinstance(second, bool):
        problems.append(Problem("sampler.second_order", "must be true or false", second, "true, false"))
        bad = True
    if bad:
        return None
    if kind == "morris" and levels is None:
        levels = 4
    return Sampler(kind, n, levels, second)


def _choices() -> str:
    return "one of " + ", ".join(SAMPLERS)


def _n_rule(kind: str) -> str:
    return "a power of 2 (64, 128, 256, ...)" if kind == "sobol" else "an integer of at least 2"


def _factor_entries(table: dict, prefix: str = "") -> dict[str, Any]:
    """``[factors]`` as {dotted key: list or range table}; nested tables (unquoted dotted keys) flatten."""
    out = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and not any(r in v for r in FACTOR_KEYS):
            out.update(_factor_entries(v, key + "."))
        else:
            out[key] = v
    return out


def every_numeric(section: str | None = None) -> list[str]:
    """What ``"*" = {}`` (``"SECTION.*" = {}``) in [factors] stands for: every numeric parameter of the
    schema (of one section), in schema order, less the run's own settings (seed and length)."""
    return [
        k
        for k, p in PARAMETERS.items()
        if p.numeric
        and k not in RESERVED
        and not k.startswith("run.")
        and (section is None or k.split(".")[0] == section)
    ]


def _expand(entries: dict[str, Any], overrides: dict, problems: list) -> dict[str, Any]:
    """``"*"`` and ``"SECTION.*"`` entries replaced by every numeric parameter they stand for, each over its
    schema range; a parameter fixed in [set] or named on its own in [factors] keeps that. With a star, the
    factors come in schema order."""
    stars = [k for k in entries if k == ALL or k.endswith("." + ALL)]
    if not stars:
        return entries
    out: dict[str, Any] = {}
    for star in stars:
        where = f"factors.{star}"
        section = None if star == ALL else star[: -len(ALL) - 1]
        if entries[star] != {}:
            problems.append(
                Problem(
                    where,
                    "stands for whole schema ranges; narrow one parameter on its own",
                    entries[star],
                    "{}",
                )
            )
        if section is not None and section not in {k.split(".")[0] for k in PARAMETERS}:
            problems.append(Problem(where, "unknown section", section, "a section of `coprod params`"))
            continue
        for key in every_numeric(section):
            if key not in overrides and key not in entries:
                out[key] = {}
    out.update({k: v for k, v in entries.items() if k not in stars})
    order = {k: i for i, k in enumerate(PARAMETERS)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _factors(
    table: Any, bases: list[Base], problems: list, overrides: dict | None = None
) -> list[Factor] | None:
    if not isinstance(table, dict):
        problems.append(Problem("factors", "must be a table of factors", table, "a [factors] table"))
        return None
    factors, before = [], len(problems)
    entries = _expand(_factor_entries(table), overrides or {}, problems)
    if len(problems) > before:
        return None
    for key, entry in entries.items():
        where = f"factors.{key}"
        if key not in PARAMETERS:
            p = _unknown(key, PARAMETERS, "parameter")
            problems.append(Problem(where, p.message))
            continue
        if key in RESERVED:
            problems.append(Problem(where, f"set by the experiment's {RESERVED[key]}, not a factor"))
            continue
        spec = PARAMETERS[key]
        if isinstance(entry, list):
            factor = _listed(key, entry, bases, problems)
        elif isinstance(entry, dict):
            factor = _ranged(key, entry, spec, problems)
        else:
            problems.append(
                Problem(
                    where,
                    "must be a list of values or a range table (a single value belongs in [set])",
                    entry,
                    "[v1, v2, ...] or { low = .., high = .. }",
                )
            )
            factor = None
        if factor is not None:
            factors.append(factor)
    return factors if len(problems) == before else None


def _listed(
    key: str, values: list, bases: list[Base], problems: list, section: str = "factors"
) -> Factor | None:
    where = f"{section}.{key}"
    if not values:
        problems.append(Problem(where, "lists no values", values, PARAMETERS[key].allowed()))
        return None
    frozen = [_freeze(v) for v in values]
    if len(set(map(repr, frozen))) != len(frozen):
        problems.append(Problem(where, "a value is listed twice", values, "distinct values"))
        return None
    ok = True
    probe = bases[0].scenario if bases else Scenario()
    for value in values:
        try:
            probe.with_overrides({key: value})
        except ScenarioError as err:
            for p in err.problems:
                if p.key == key:
                    problems.append(Problem(where, p.message, value, p.allowed))
                    ok = False
    return Factor(key, values=tuple(frozen)) if ok else None


def _ranged(key: str, entry: dict, spec, problems: list) -> Factor | None:
    where = f"factors.{key}"
    for k in entry:
        if k not in FACTOR_KEYS:
            problems.append(Problem(f"{where}.{k}", "unknown range setting", None, "low, high, group"))
            return None
    group = entry.get("group")
    if group is not None and not (isinstance(group, str) and re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", group)):
        problems.append(Problem(f"{where}.group", "must be a plain name", group, "[A-Za-z0-9_.:-], 1 to 64"))
        return None
    if not spec.numeric:
        problems.append(
            Problem(
                where, "a range needs a numeric parameter; list the values instead", entry, spec.allowed()
            )
        )
        return None
    low, high = entry.get("low", spec.low), entry.get("high", spec.high)
    ok = True
    for name, v in (("low", low), ("high", high)):
        if not _is_finite(v):
            problems.append(Problem(f"{where}.{name}", "must be a finite number", v, spec.allowed()))
            ok = False
        elif spec.type == "int" and not isinstance(v, int) and not float(v).is_integer():
            problems.append(Problem(f"{where}.{name}", "must be an integer", v, spec.allowed()))
            ok = False
        elif (spec.low is not None and v < spec.low) or (spec.high is not None and v > spec.high):
            problems.append(Problem(f"{where}.{name}", "outside the schema's bounds", v, spec.allowed()))
            ok = False
    if ok and not low < high:
        problems.append(
            Problem(where, "empty range: low must be below high", f"{low}..{high}", spec.allowed())
        )
        ok = False
    if not ok:
        return None
    cast = int if spec.type == "int" else float
    return Factor(key, low=cast(low), high=cast(high), group=group)


def _grouped(value: Any, factors: list[Factor], problems: list) -> list[Factor] | None:
    """``groups = "section"`` (each factor in its schema section) or a table {factor key: group name}: the
    group of every factor that names none itself."""
    if value == "section":
        named = {f.key: f.key.split(".")[0] for f in factors}
    elif isinstance(value, dict):
        named = {}
        keys = {f.key for f in factors}
        for key, group in _flatten(value).items():
            if key not in keys:
                problems.append(Problem(f"groups.{key}", "not a factor of this experiment"))
            elif not (isinstance(group, str) and re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", group)):
                problems.append(Problem(f"groups.{key}", "must be a plain name", group, "[A-Za-z0-9_.:-]"))
            else:
                named[key] = group
    else:
        problems.append(
            Problem("groups", 'must be "section" or a table of factor = group', value, '"section" or a table')
        )
        return None
    return [Factor(f.key, f.values, f.low, f.high, f.group or named.get(f.key)) for f in factors]


def _crossed(
    table: Any,
    bases: list[Base],
    problems: list,
    overrides: dict,
    sampler: Sampler | None,
    factors: list[Factor] | None,
) -> list[Factor] | None:
    """``[cross]``: listed values only, each key neither a factor nor fixed in ``[set]``, not with Sobol or
    Morris (their estimators read a design of their own)."""
    if not isinstance(table, dict):
        problems.append(Problem("cross", "must be a table of listed values", table, "a [cross] table"))
        return None
    entries = _flatten(table)
    if entries and sampler is not None and sampler.kind in ("sobol", "morris"):
        problems.append(
            Problem(
                "cross", f"cannot cross the {sampler.kind} sampler's design", list(entries), "lhs or grid"
            )
        )
        return None
    varied = {f.key for f in factors or ()}
    crossed, before = [], len(problems)
    for key, values in entries.items():
        where = f"cross.{key}"
        if key not in PARAMETERS:
            problems.append(Problem(where, _unknown(key, PARAMETERS, "parameter").message))
        elif key in RESERVED:
            problems.append(Problem(where, f"set by the experiment's {RESERVED[key]}, not crossed"))
        elif key in varied or key in overrides:
            where_else = "[factors]" if key in varied else "[set]"
            problems.append(Problem(where, f"also in {where_else}; a parameter is crossed, varied or fixed"))
        elif not isinstance(values, list):
            problems.append(Problem(where, "must list values", values, "[v1, v2, ...]"))
        else:
            factor = _listed(key, values, bases, problems, "cross")
            if factor is not None:
                crossed.append(Factor(key, values=factor.values))
    return crossed if len(problems) == before else None


def _check_sampler_fits(sampler: Sampler, factors: list[Factor], problems: list) -> None:
    if sampler.sampled and not factors:
        problems.append(Problem("factors", f"the {sampler.kind} sampler needs at least one factor", None))
    if sampler.kind == "morris" and any(not f.is_range for f in factors):
        listed = [f.key for f in factors if not f.is_range]
        problems.append(
            Problem("sampler.kind", "Morris elementary effects need ranges, not listed values", listed)
        )


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


__all__ = [
    "SAMPLERS",
    "Experiment",
    "ExperimentError",
    "Factor",
    "RunSpec",
    "Sampler",
    "load_experiment",
    "problem",
    "run_key",
    "run_seed",
    "sample_matrix",
]
