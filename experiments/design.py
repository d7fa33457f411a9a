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

What an experiment file may contain (the settings above, their types, defaults and bounds, the keys of
its tables) is declared once, as a pydantic schema, in :mod:`experiments.experiment_schema`; what needs the
model's parameters (factor and ``[set]`` names, ranges within a parameter's bounds, listed values, the base
scenarios, ``[cross]`` against the sampler and the factors) is checked here, on the validated file.
Bad input raises :class:`ExperimentError` (a :class:`model.ScenarioError`): one problem per fault, each
``FILE: key: what is wrong (got X, allowed Y)``, before anything is run or written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from coprod.experiments.experiment_schema import (
    DEFAULT_OUTPUTS,
    MAX_REPLICATIONS,
    MAX_SEED,
    MAX_TIME_LIMIT,
    PLAIN_NAME,
    SAMPLER_KEYS,
    SAMPLERS,
    TOP_LEVEL,
    Checked,
    RangeTable,
    check,
    unknown,
)
from coprod.model import (
    PARAMETERS,
    City,
    Problem,
    Scenario,
    ScenarioError,
    load_city,
    load_scenario,
    read_toml,
)

# ``"*" = {}`` in [factors]: every numeric parameter of the schema (``"context.*" = {}``: of one section),
# except the run's own settings and whatever [set] fixes or [factors] names explicitly
ALL = "*"
# seeds and run length are the experiment's own business, never a factor
RESERVED = {"run.seed": "root_seed", "run.steps": "steps"}
_RANGE_NEEDS_NUMBERS = "a range needs a numeric parameter; list the values instead"
# Planning holds every run's parameters in memory (a few kB each) before anything runs: a bigger design is
# refused as a whole, before any sample is drawn, rather than left to exhaust memory or run for hours.
MAX_RUNS = 100_000


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

    The file's shape (settings, types, bounds) is checked by the schema
    (:mod:`experiments.experiment_schema`); what follows checks the validated file against the model's
    parameters and the base scenarios. ``city`` (a shipped city's name or a city file) sets the context of
    every base scenario, below the experiment's ``[set]``, ``steps`` and factors; a bad city raises its own
    one-line problems.
    """
    source = str(path)
    context = load_city(city) if city is not None else None
    try:
        data = read_toml(path)
    except ScenarioError as err:
        raise ExperimentError(err.problems, source) from None
    checked = check({"name": Path(path).stem, **data})
    problems, spec = list(checked.problems), checked.file
    if spec is None:
        raise ExperimentError(problems, source)
    overrides = _overrides(spec.fixed, problems)
    fixed = {**overrides, "run.steps": spec.steps} if spec.steps is not None else overrides
    bases = []
    if "scenarios" not in checked.refused:
        bases = _bases(spec.scenarios, Path(path).parent, fixed, problems, context)
    kind, levels = spec.sampler.kind, spec.sampler.levels
    sampler = Sampler(
        kind,
        spec.sampler.n,
        4 if kind == "morris" and levels is None else levels,
        bool(spec.sampler.second_order),
    )
    factors = None
    if "factors" not in checked.refused:
        factors = _factors(spec.factors, checked, bases, problems, overrides)
    cross = _crossed(spec.cross, checked, bases, problems, overrides, sampler, factors)
    if factors is not None and spec.groups is not None:
        factors = _grouped(spec.groups, checked, factors, problems)
    if factors is not None:
        _check_sampler_fits(sampler, factors, problems)
    for f in factors or ():
        if f.key in overrides:
            both = "also fixed in [set]; a parameter is either fixed there or varied here"
            problems.append(Problem(f"factors.{f.key}", both))

    if problems:
        raise ExperimentError(problems, source)
    experiment = Experiment(
        name=spec.name,
        description=spec.description,
        source=source,
        bases=tuple(bases),
        overrides=overrides,
        factors=tuple(factors),
        sampler=sampler,
        replications=spec.replications,
        root_seed=spec.root_seed,
        steps=spec.steps,
        record_every=spec.record_every,
        time_limit=float(spec.time_limit) if spec.time_limit is not None else None,
        outputs=tuple(spec.outputs),
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
    """An integer setting of a hand-read table (a calibration file's; an experiment file has a schema)."""
    if key not in data:
        if required:
            problems.append(Problem(key, "missing", None, f"an integer from {low} to {high}"))
        return default
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(Problem(key, "must be an integer", value, f"an integer from {low} to {high}"))
        return None
    if not low <= value <= high:
        what = f"must be at least {low}" if value < low else f"must be at most {high}"
        problems.append(Problem(key, what, value, f"an integer from {low} to {high}"))
        return None
    return value


def _overrides(table: dict[str, Any], problems: list) -> dict[str, Any]:
    good = {}
    for key, value in table.items():
        if key not in PARAMETERS:
            problems.append(Problem(f"set.{key}", unknown(key, PARAMETERS, "parameter").message))
        elif key in RESERVED:
            problems.append(Problem(f"set.{key}", f"set by the experiment's {RESERVED[key]}", value))
        else:
            good[key] = value
    return good


def _bases(paths: list[str], folder: Path, overrides: dict, problems: list, city: City | None) -> list[Base]:
    bases, names = [], set()
    for given in paths:
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


def _expand(entries: dict[str, Any], checked: Checked, overrides: dict, problems: list) -> dict[str, Any]:
    """``"*"`` and ``"SECTION.*"`` entries replaced by every numeric parameter they stand for, each over its
    schema range; a parameter fixed in [set] or named on its own in [factors] keeps that. With a star, the
    factors come in schema order."""
    stars = [k for k in entries if k == ALL or k.endswith("." + ALL)]
    if not stars:
        return entries
    out: dict[str, Any] = {}
    for star in stars:
        where, entry = f"factors.{star}", entries[star]
        section = None if star == ALL else star[: -len(ALL) - 1]
        if not isinstance(entry, RangeTable) or entry.model_fields_set:
            got = entry.model_dump(exclude_unset=True) if isinstance(entry, RangeTable) else entry
            whole = "stands for whole schema ranges; narrow one parameter on its own"
            checked.instead(problems, "factors", star, Problem(where, whole, got, "{}"))
        if section is not None and section not in {k.split(".")[0] for k in PARAMETERS}:
            problems.append(Problem(where, "unknown section", section, "a section of `coprod params`"))
            continue
        for key in every_numeric(section):
            if key not in overrides and key not in entries:
                out[key] = RangeTable()
    out.update({k: v for k, v in entries.items() if k not in stars})
    order = {k: i for i, k in enumerate(PARAMETERS)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _not_variable(where: str, key: str, what: str) -> Problem | None:
    """Why ``key`` (of [factors] or [cross]) names no parameter an experiment may vary, if it does not."""
    if key not in PARAMETERS:
        return Problem(where, unknown(key, PARAMETERS, "parameter").message)
    if key in RESERVED:
        return Problem(where, f"set by the experiment's {RESERVED[key]}, not {what}")
    return None


def _factors(
    table: dict[str, Any], checked: Checked, bases: list[Base], problems: list, overrides: dict
) -> list[Factor] | None:
    """The factors; an entry the schema refused is still checked for its key, which is reported instead
    (a typo in a key makes its value moot)."""
    factors, before = [], len(problems)
    broken = checked.entries_refused("factors")
    entries = _expand({**table, **broken}, checked, overrides, problems)
    if len(problems) > before:
        return None
    for key, entry in entries.items():
        where = f"factors.{key}"
        wrong = _not_variable(where, key, "a factor")
        if wrong is None and isinstance(entry, dict) and not PARAMETERS[key].numeric:  # a refused range
            wrong = Problem(where, _RANGE_NEEDS_NUMBERS, entry, PARAMETERS[key].allowed())
        if wrong is not None:
            checked.instead(problems, "factors", key, wrong)
        elif key in broken:
            continue
        elif isinstance(entry, list):
            factor = _listed(key, entry, bases, problems)
            factors += [factor] if factor is not None else []
        else:
            factor = _ranged(key, entry, PARAMETERS[key], problems)
            factors += [factor] if factor is not None else []
    return factors if len(problems) == before and not broken else None


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


def _ranged(key: str, entry: RangeTable, spec, problems: list) -> Factor | None:
    where = f"factors.{key}"
    if not spec.numeric:
        problems.append(
            Problem(where, _RANGE_NEEDS_NUMBERS, entry.model_dump(exclude_unset=True), spec.allowed())
        )
        return None
    low = entry.low if entry.low is not None else spec.low
    high = entry.high if entry.high is not None else spec.high
    ok = True
    for name, v in (("low", low), ("high", high)):  # finite numbers (the schema's): within the parameter's
        if spec.type == "int" and not isinstance(v, int) and not float(v).is_integer():
            problems.append(Problem(f"{where}.{name}", "must be an integer", v, spec.allowed()))
            ok = False
        elif not spec.low <= v <= spec.high:
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
    return Factor(key, low=cast(low), high=cast(high), group=entry.group)


def _grouped(
    value: str | dict[str, str], checked: Checked, factors: list[Factor], problems: list
) -> list[Factor] | None:
    """``groups = "section"`` (each factor in its schema section) or a table {factor key: group name}: the
    group of every factor that names none itself."""
    if value == "section":
        named = {f.key: f.key.split(".")[0] for f in factors}
    else:
        keys = {f.key for f in factors}
        for key in [*value, *checked.entries_refused("groups")]:
            if key not in keys:
                checked.instead(
                    problems, "groups", key, Problem(f"groups.{key}", "not a factor of this experiment")
                )
        named = {k: g for k, g in value.items() if k in keys}
    return [Factor(f.key, f.values, f.low, f.high, f.group or named.get(f.key)) for f in factors]


def _crossed(
    entries: dict[str, list],
    checked: Checked,
    bases: list[Base],
    problems: list,
    overrides: dict,
    sampler: Sampler,
    factors: list[Factor] | None,
) -> list[Factor] | None:
    """``[cross]``: listed values only, each key neither a factor nor fixed in ``[set]``, not with Sobol or
    Morris (their estimators read a design of their own)."""
    broken = checked.entries_refused("cross")  # not lists: reported by the schema, unless the key is wrong
    if (entries or broken) and sampler.kind in ("sobol", "morris"):
        listed = [*entries, *broken]
        problems.append(
            Problem("cross", f"cannot cross the {sampler.kind} sampler's design", listed, "lhs or grid")
        )
        return None
    varied = {f.key for f in factors or ()}
    crossed, before = [], len(problems)
    for key, values in {**entries, **broken}.items():
        where = f"cross.{key}"
        wrong = _not_variable(where, key, "crossed")
        if wrong is None and (key in varied or key in overrides):
            where_else = "[factors]" if key in varied else "[set]"
            wrong = Problem(where, f"also in {where_else}; a parameter is crossed, varied or fixed")
        if wrong is not None:
            checked.instead(problems, "cross", key, wrong)
        elif key not in broken:
            factor = _listed(key, values, bases, problems, "cross")
            if factor is not None:
                crossed.append(Factor(key, values=factor.values))
    return crossed if len(problems) == before and not broken else None


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
    "DEFAULT_OUTPUTS",
    "MAX_REPLICATIONS",
    "MAX_RUNS",
    "MAX_SEED",
    "MAX_TIME_LIMIT",
    "PLAIN_NAME",
    "SAMPLERS",
    "SAMPLER_KEYS",
    "TOP_LEVEL",
    "Experiment",
    "ExperimentError",
    "Factor",
    "RunSpec",
    "Sampler",
    "every_numeric",
    "load_experiment",
    "problem",
    "run_key",
    "run_seed",
    "sample_matrix",
]
