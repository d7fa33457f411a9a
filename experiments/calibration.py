"""``coprod calibrate``: fit the parameters that published target patterns inform, by ABC-SMC (pyabc).

A calibration file (TOML, like an experiment file) names the parameters to fit with uniform priors inside
their schema bounds, the targets held out of the fit, the runs per particle and the settings of the
sampler::

    name = "calibrate_meetings"
    description = "What meeting-level targets say about deliberation"
    targets = "../data/targets/targets.toml"   # or --targets FILE
    held_out = ["hidden_profile_discovery"]    # checked after the fit, never used in it
    root_seed = 2026
    replications = 2                           # runs per particle and design, averaged
    [set]                                      # fixed for every run (as an experiment's [set])
    "population.residents" = 300
    [priors]                                   # uniform, inside the schema's bounds
    "deliberation.mention_probability" = [0.1, 0.9]
    [abc]
    population_size = 40                       # particles per generation
    generations = 4
    posterior_predictive = 20                  # posterior draws simulated for the checks

Each target (:mod:`experiments.targets`) names an observable (a model output, or a statistic of
:mod:`model.observables`), the design its study corresponds to, a month and a value with its standard
deviation. A particle is simulated in every design the fitted targets name (the shipped scenario of that
design, under ``[set]`` and the particle's parameters), ``replications`` times with seeds drawn from the
sampler's stream; its distance to the data is the Euclidean norm of ``(simulated - value) / sd`` over the
fitted targets (pyabc's ``PNormDistance`` with fixed weights ``1 / sd``); for a one-sided target
(``bound = "at least"`` or ``"at most"``) the simulated value is clipped at the bound first, so only a
shortfall counts (:meth:`experiments.targets.Target.fit_statistic`). The sampler is pyabc's ABC-SMC
(Toni et al. 2009; Klinger, Rickert and Hasenauer 2018) with its defaults: a multivariate normal
perturbation kernel fitted to the last population and the median of the last distances as the next
threshold.

Reproducibility and resumption: the map-based sampler draws one seed per candidate from
``(root_seed, generation, batch)`` in this process, so the posterior does not depend on the number of
workers or on the executor (local processes or a Dask cluster). pyabc stores each generation in the
results database (its own tables, beside ``runs`` and ``steps``); the ``calibrations`` table records the
calibration's definition, its pyabc run id and, when done, the posterior and the checks. Killed, the same
command resumes from the last whole generation and ends with the same posterior.

Reported: each parameter's posterior mean, median and 90% credible interval beside its prior; a parameter
whose 90% interval still spans more than :data:`UNIDENTIFIED_SHARE` of its prior's is *not identified* by
these targets; and a posterior predictive check of every target, fitted and held out: the 90% interval of
the simulated value over posterior draws, and whether the published value falls in it (for a one-sided
target: whether the interval reaches the allowed side, and the share of draws on it).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyabc
from coprod.experiments.design import PLAIN_NAME, _integer
from coprod.experiments.executors import cores
from coprod.experiments.targets import Target, interval_z, load_targets, observe_runs
from coprod.model import (
    PARAMETERS,
    Problem,
    ScenarioError,
    code_version,
    load_scenario,
    read_toml,
    text_problems,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
RESULTS_DIR = Path("results")
# A parameter whose posterior 90% interval is wider than this share of its prior's 90% interval is
# reported as not identified by the targets (assumption: the data narrowed it by less than a fifth).
UNIDENTIFIED_SHARE = 0.8
CREDIBLE = 0.90
# the data's interval at the same level, in its standard deviations, that widens the simulated one
CHECK_Z = float(interval_z(CREDIBLE))
TOP_LEVEL = (
    "name",
    "description",
    "targets",
    "held_out",
    "root_seed",
    "replications",
    "set",
    "priors",
    "abc",
)
ABC_SETTINGS = {  # name: (default, low, high)
    "population_size": (40, 4, 10_000),
    "generations": (4, 1, 100),
    "posterior_predictive": (20, 2, 10_000),
}
MAX_REPLICATIONS = 100


class CalibrationError(ScenarioError):
    """A calibration file (or its targets) that cannot be used: one line per problem, exit 2."""


@dataclass(frozen=True)
class Calibration:
    """A calibration file, validated."""

    name: str
    description: str
    source: str
    targets: tuple[Target, ...]
    held_out: tuple[str, ...]
    root_seed: int
    replications: int
    fixed: dict[str, Any]
    priors: dict[str, tuple[float, float]]
    population_size: int
    generations: int
    posterior_predictive: int

    @property
    def fitted(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.id not in self.held_out)

    def definition(self) -> dict[str, Any]:
        """Everything that decides the result (a resume with another definition is refused)."""
        return {
            "name": self.name,
            "targets": [t.as_dict() for t in self.targets],
            "held_out": list(self.held_out),
            "root_seed": self.root_seed,
            "replications": self.replications,
            "set": self.fixed,
            "priors": {k: list(v) for k, v in self.priors.items()},
            "population_size": self.population_size,
            "generations": self.generations,
            "posterior_predictive": self.posterior_predictive,
            "code_version": code_version(),
        }

    def fingerprint(self) -> str:
        text = json.dumps(self.definition(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------- loading


def load_calibration(path: str | Path, targets_path: str | Path | None = None) -> Calibration:
    """Read and validate a calibration file; every problem is one line of a :class:`CalibrationError`."""
    source = str(path)
    try:
        data = read_toml(path)
    except ScenarioError as err:
        raise CalibrationError(err.problems, source) from None
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_LEVEL:
            guess = difflib.get_close_matches(key, TOP_LEVEL, n=1)
            problems.append(
                Problem(key, "unknown setting" + (f"; did you mean {guess[0]}?" if guess else ""))
            )
    name = data.get("name", Path(path).stem)
    problems.extend(text_problems("name", name))
    if isinstance(name, str) and not re.fullmatch(PLAIN_NAME, name):
        problems.append(
            Problem("name", "must be a plain name (it names results/<name>/)", name, "[A-Za-z0-9_.-]")
        )
    description = data.get("description", "")
    problems.extend(text_problems("description", description))
    root_seed = _integer(data, "root_seed", 1, 0, 2**63 - 1, problems)
    replications = _integer(data, "replications", 1, 1, MAX_REPLICATIONS, problems)
    fixed = _fixed(data.get("set", {}), problems)
    priors = _priors(data.get("priors"), problems)
    abc = data.get("abc", {})
    if not isinstance(abc, dict):
        problems.append(Problem("abc", "must be a table of settings", abc, "[abc]"))
        abc = {}
    for key in abc:
        if key not in ABC_SETTINGS:
            guess = difflib.get_close_matches(key, ABC_SETTINGS, n=1)
            problems.append(
                Problem(
                    f"abc.{key}", "unknown setting" + (f"; did you mean abc.{guess[0]}?" if guess else "")
                )
            )
    named = {f"abc.{k}": v for k, v in abc.items()}  # problems name the key as the file spells it
    settings = {
        k: _integer(named, f"abc.{k}", d, lo, hi, problems) for k, (d, lo, hi) in ABC_SETTINGS.items()
    }

    given = targets_path if targets_path is not None else data.get("targets")
    targets: tuple[Target, ...] = ()
    if given is None:
        problems.append(Problem("targets", "no targets: name a targets file here or with --targets"))
    elif not isinstance(given, str | Path):
        problems.append(Problem("targets", "must be the path of a targets file", given, "a path"))
    else:
        where = Path(given) if targets_path is not None else (Path(path).parent / given)
        try:
            targets = tuple(load_targets(where))
        except ScenarioError as err:
            raise CalibrationError(err.problems, err.source) from None
    held_out = data.get("held_out", [])
    if not isinstance(held_out, list) or not all(isinstance(h, str) for h in held_out):
        problems.append(Problem("held_out", "must be a list of target ids", held_out, 'e.g. ["id"]'))
        held_out = []
    ids = [t.id for t in targets]
    for h in held_out:
        if targets and h not in ids:
            guess = difflib.get_close_matches(h, ids, n=1)
            problems.append(
                Problem("held_out", "no such target" + (f"; did you mean {guess[0]}?" if guess else ""), h)
            )
    if targets and not [t for t in targets if t.id not in held_out]:
        problems.append(Problem("held_out", "holds out every target: nothing is left to fit"))
    for design in sorted({t.design for t in targets}) if not problems else ():
        for corner in ("low", "high"):  # the priors' corners must make valid scenarios with [set]
            point = {k: v[0] if corner == "low" else v[1] for k, v in priors.items()}
            try:
                load_scenario(SCENARIOS / f"{design}.toml", {**fixed, **point})
            except ScenarioError as err:
                problems.extend(
                    Problem(
                        p.key,
                        f"{p.message}, in the {design} design at the priors' {corner} ends",
                        p.got,
                        p.allowed,
                    )
                    for p in err.problems
                )
    if problems:
        raise CalibrationError(problems, source)
    return Calibration(
        name=name,
        description=description,
        source=source,
        targets=targets,
        held_out=tuple(held_out),
        root_seed=root_seed,
        replications=replications,
        fixed=fixed,
        priors=priors,
        **settings,
    )


def _fixed(values: Any, problems: list) -> dict[str, Any]:
    if not isinstance(values, dict):
        problems.append(Problem("set", "must be a table of parameter values", values, "[set]"))
        return {}
    try:
        load_scenario(SCENARIOS / "citizens_assembly.toml", dict(values))
    except ScenarioError as err:
        problems.extend(Problem(f"set.{p.key}", p.message, p.got, p.allowed) for p in err.problems)
        return {}
    return dict(values)


def _priors(values: Any, problems: list) -> dict[str, tuple[float, float]]:
    if not isinstance(values, dict) or not values:
        problems.append(
            Problem(
                "priors",
                "must name at least one parameter with its range",
                values,
                '[priors] "section.key" = [low, high]',
            )
        )
        return {}
    priors = {}
    for key, bounds in values.items():
        spec = PARAMETERS.get(key)
        if spec is None:
            guess = difflib.get_close_matches(key, list(PARAMETERS), n=1)
            problems.append(
                Problem(
                    f"priors.{key}", "unknown parameter" + (f"; did you mean {guess[0]}?" if guess else "")
                )
            )
            continue
        if not spec.numeric:
            problems.append(Problem(f"priors.{key}", "is not a number: it cannot be fitted", spec.type))
            continue
        ok = (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(
                isinstance(b, int | float) and not isinstance(b, bool) and math.isfinite(b) for b in bounds
            )
        )
        if not ok or not bounds[0] < bounds[1]:
            problems.append(Problem(f"priors.{key}", "must be [low, high] with low < high", bounds))
            continue
        if bounds[0] < spec.low or bounds[1] > spec.high:
            problems.append(
                Problem(f"priors.{key}", "outside the parameter's bounds", bounds, spec.allowed())
            )
            continue
        priors[key] = (float(bounds[0]), float(bounds[1]))
    return priors


# ---------------------------------------------------------------------------------- the simulation


def simulate_targets(
    params: dict[str, float], seed: int, targets: Iterable[Target], fixed: dict[str, Any], replications: int
) -> dict[str, float]:
    """Each target's observable, simulated at ``params`` (means over ``replications`` runs per design)."""
    targets = list(targets)
    values: dict[str, float] = {}
    streams = np.random.SeedSequence(seed).spawn(len({t.design for t in targets}))
    for stream, design in zip(streams, sorted({t.design for t in targets}), strict=True):
        mine = [t for t in targets if t.design == design]
        steps = max(t.month for t in mine)
        overrides = {**fixed, **params, "run.steps": steps}
        scenario = load_scenario(SCENARIOS / f"{design}.toml", overrides)
        seeds = [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for s in stream.spawn(replications)]
        wanted = sorted({(t.observable, t.month) for t in mine})
        runs = [observe_runs(scenario.with_overrides({"run.seed": s}), wanted) for s in seeds]
        for t in mine:
            values[t.id] = float(np.mean([r[(t.observable, t.month)] for r in runs]))
    return values


class _Model:
    """The function pyabc calls with a particle: it draws the runs' seed from the sampler's stream."""

    def __init__(self, calibration: Calibration, targets: tuple[Target, ...]):
        self.targets, self.fixed, self.replications = targets, calibration.fixed, calibration.replications

    def __call__(self, particle) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))  # noqa: NPY002 (the task's stream)
        values = simulate_targets(dict(particle), seed, self.targets, self.fixed, self.replications)
        return {t.id: t.fit_statistic(values[t.id]) for t in self.targets}


class SeededMappingSampler(pyabc.sampler.MappingSampler):
    """pyabc's map-based sampler, with each candidate's seed drawn here from ``(root_seed, t, call)``
    (``call`` counts the calls within generation ``t``) instead of from the operating system, so that
    the result is the same on any number of workers and a resumed calibration redoes an interrupted
    generation exactly."""

    def __init__(self, root_seed: int, map_: Callable):
        super().__init__(map_=map_)
        self.root_seed, self.calls = root_seed, {}

    def map_function(self, simulate_one, seed):  # as pyabc's, seeded from the coordinator
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(seed)  # noqa: NPY002 (pyabc draws from the global stream)
        nr_simulations = 0
        sample = self._create_empty_sample()
        while True:
            new_sim = simulate_one()
            nr_simulations += 1
            sample.append(new_sim)
            if new_sim.accepted:
                break
        return sample, nr_simulations

    def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
        self.calls[t] = call = self.calls.get(t, 0) + 1
        seeds = np.random.SeedSequence([self.root_seed, int(t) + 1, call]).generate_state(n).tolist()
        packed = self.pickle(simulate_one)
        counted = list(self.map_(functools.partial(self.map_function, packed), seeds))
        results, evals = zip(*counted, strict=True)
        self.nr_evaluations_ = sum(evals)
        sample = self._create_empty_sample()
        for result in results:
            sample += result
        return sample


# ------------------------------------------------------------------------------------- the run


@dataclass
class Outcome:
    """A finished calibration: the posterior, the checks and the parameters the data leave open."""

    name: str
    posterior: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    unidentified: list[str]
    generations: int
    simulations: int
    seconds: float


def calibrate(
    calibration: Calibration,
    db: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    out=sys.stderr,
) -> Outcome:
    """Run (or resume) the calibration into ``db``; return its posterior and checks."""
    from coprod.experiments.store import Store, StoreError

    clock = time.perf_counter()
    with Store(db) as store:
        table = store.db["calibrations"]
        row = next(iter(table.rows_where("name = ?", [calibration.name])), None) if table.exists() else None
        if row is not None and row["fingerprint"] != calibration.fingerprint():
            raise StoreError(
                f"{db}: calibration {calibration.name!r} is already recorded there with another definition "
                "(targets, priors, settings or model code); write to another --db or rename it"
            )
        if row is not None and row["status"] == "done":
            print(f"{calibration.name}: already done in {db}; reporting it", file=out)
            return _outcome(calibration, json.loads(row["result"]))

    fitted = calibration.fitted
    priors = pyabc.Distribution(
        **{k: pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in calibration.priors.items()}
    )
    distance = pyabc.PNormDistance(p=2, fixed_weights={t.id: 1.0 / t.sd for t in fitted})
    with _executor(workers, scheduler) as map_:
        abc = pyabc.ABCSMC(
            _Model(calibration, fitted),
            priors,
            distance,
            population_size=calibration.population_size,
            sampler=SeededMappingSampler(calibration.root_seed, map_),
        )
        url = f"sqlite:///{Path(db).resolve()}"
        if row is None:
            _share_file_with_pyabc(url)
            np.random.seed(calibration.root_seed % 2**32)  # noqa: NPY002 (pyabc draws from the global stream)
            history = abc.new(url, {t.id: t.value for t in fitted}, meta_info={"coprod": calibration.name})
            with Store(db) as store:
                store.db["calibrations"].insert(
                    {
                        "name": calibration.name,
                        "fingerprint": calibration.fingerprint(),
                        "definition": json.dumps(calibration.definition(), sort_keys=True),
                        "abc_id": history.id,
                        "status": "running",
                        "result": "",
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    },
                    pk="name",
                )
        else:
            np.random.seed(calibration.root_seed % 2**32)  # noqa: NPY002 (pyabc draws from the global stream)
            history = abc.load(url, int(row["abc_id"]))
        done = history.max_t + 1
        left = calibration.generations - done
        print(
            f"{calibration.name}: ABC-SMC, {len(calibration.priors)} parameters, {len(fitted)} targets "
            f"fitted ({len(calibration.held_out)} held out), {calibration.population_size} particles, "
            f"generation {done + 1 if left > 0 else done} of {calibration.generations} -> {db}",
            file=out,
            flush=True,
        )
        if left > 0:
            abc.run(max_nr_populations=left)
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        checks = _checks(calibration, frame, weights, map_)
    result = {
        "posterior": _posterior(calibration, frame, weights),
        "checks": checks,
        "generations": int(history.max_t + 1),
        "simulations": int(history.total_nr_simulations),
        "seconds": time.perf_counter() - clock,
    }
    with Store(db) as store:
        store.db["calibrations"].update(calibration.name, {"status": "done", "result": json.dumps(result)})
    return _outcome(calibration, result)


def _share_file_with_pyabc(url: str) -> None:
    """Let pyabc keep its tables in the results database. pyabc stamps its format version only into a
    file it creates, and refuses an existing file without the stamp; so stamp it here, with pyabc's own
    method, when the file has none yet (pyabc's tables are its own: no name is shared with ours)."""
    from pyabc.storage.history import History
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        stamped = "version" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if not stamped:
        history = History.__new__(History)
        history.db, history.stores_sum_stats, history._session, history._engine = url, True, None, None
        history._set_version()


def _outcome(calibration: Calibration, result: dict) -> Outcome:
    unidentified = [p["parameter"] for p in result["posterior"] if not p["identified"]]
    return Outcome(
        calibration.name,
        result["posterior"],
        result["checks"],
        unidentified,
        result["generations"],
        result["simulations"],
        result["seconds"],
    )


def _posterior(calibration: Calibration, frame, weights) -> list[dict[str, Any]]:
    rows = []
    tail = (1 - CREDIBLE) / 2
    for key, (lo, hi) in calibration.priors.items():
        values = frame[key].to_numpy(dtype=float)
        q = _weighted_quantiles(values, weights, [tail, 0.5, 1 - tail])
        prior_width = (hi - lo) * CREDIBLE
        share = (q[2] - q[0]) / prior_width
        rows.append(
            {
                "parameter": key,
                "prior": [lo, hi],
                "mean": float(np.average(values, weights=weights)),
                "median": q[1],
                "low": q[0],
                "high": q[2],
                "width_share": share,
                "identified": bool(share <= UNIDENTIFIED_SHARE),
            }
        )
    return rows


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    order = np.argsort(values)
    v, w = values[order], np.asarray(weights, dtype=float)[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(q, cum, v)) for q in qs]


def _checks(calibration: Calibration, frame, weights, map_) -> list[dict[str, Any]]:
    """Posterior predictive check of every target: simulate posterior draws, compare with the data."""
    rng = np.random.default_rng([calibration.root_seed, 7])
    draws = rng.choice(
        len(frame), size=calibration.posterior_predictive, p=np.asarray(weights) / np.sum(weights)
    )
    keys = list(calibration.priors)
    seeds = rng.integers(0, 2**63 - 1, size=len(draws)).tolist()
    jobs = [({k: float(frame[k].iloc[i]) for k in keys}, s) for i, s in zip(draws, seeds, strict=True)]
    task = _PredictiveTask(calibration.targets, calibration.fixed, calibration.replications)
    sims = list(map_(task, jobs))
    tail = (1 - CREDIBLE) / 2
    rows = []
    for t in calibration.targets:
        values = np.array([s[t.id] for s in sims])
        low, high = np.quantile(values, [tail, 1 - tail])
        spread = math.hypot(values.std(), t.sd)
        if t.bound:  # one-sided: the widened interval reaches the allowed side; z counts only a shortfall
            reach = high + CHECK_Z * t.sd if t.bound == "at least" else low - CHECK_Z * t.sd
            covered = t.on_allowed_side(reach)
            z = (t.fit_statistic(values.mean()) - t.value) / spread
        else:  # the data's own uncertainty counts: covered when the two intervals overlap
            covered = low - CHECK_Z * t.sd <= t.value <= high + CHECK_Z * t.sd
            z = (values.mean() - t.value) / spread
        rows.append(
            {
                "target": t.id,
                "level": t.level,
                "observable": t.observable,
                "design": t.design,
                "month": t.month,
                "held_out": t.id in calibration.held_out,
                "value": t.value,
                "sd": t.sd,
                "bound": t.bound,
                "on_side": float(np.mean([t.on_allowed_side(v) for v in values])) if t.bound else None,
                "simulated": float(values.mean()),
                "low": float(low),
                "high": float(high),
                "covered": bool(covered),
                "z": float(z),
            }
        )
    return rows


class _PredictiveTask:
    def __init__(self, targets, fixed, replications):
        self.targets, self.fixed, self.replications = targets, fixed, replications

    def __call__(self, job) -> dict[str, float]:
        params, seed = job
        return simulate_targets(params, seed, self.targets, self.fixed, self.replications)


class _executor:
    """A ``map`` over local processes (forkserver, as sweeps) or a Dask cluster (the sweep runner's own
    set-up: ``--scheduler local`` or ``tcp://host:port``); results come back in order."""

    def __init__(self, workers: int, scheduler: str | None):
        self.workers, self.scheduler = workers, scheduler
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Callable:
        if self.scheduler is not None:
            from coprod.experiments.executors import dask_executor

            executor, _ = dask_executor(self.scheduler, self.workers, self._stack)
            return lambda f, xs: list(executor.map(f, list(xs)))
        if self.workers == 1:
            return map
        from coprod.experiments.executors import worker_context

        pool = ProcessPoolExecutor(self.workers, mp_context=worker_context())
        self._stack.callback(pool.shutdown)
        return lambda f, xs: list(pool.map(f, list(xs)))

    def __exit__(self, *exc) -> None:
        self._stack.close()


# ---------------------------------------------------------------------------------------- reporting


def report(outcome: Outcome, out_dir: Path) -> str:
    """The posterior and the checks as Markdown (also written to ``out_dir/calibration.md``)."""
    lines = [
        f"# Calibration {outcome.name}",
        "",
        f"{outcome.generations} generations, {outcome.simulations} simulations, {outcome.seconds:.0f} s.",
        "",
        f"## Posterior ({CREDIBLE:.0%} credible intervals)",
        "",
        "| parameter | prior | mean | median | 90% interval | width / prior's | identified |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in outcome.posterior:
        lines.append(
            f"| `{p['parameter']}` | {p['prior'][0]:g} to {p['prior'][1]:g} | {p['mean']:.3f} | "
            f"{p['median']:.3f} | {p['low']:.3f} to {p['high']:.3f} | {p['width_share']:.2f} | "
            f"{'yes' if p['identified'] else 'no'} |"
        )
    lines += [
        "",
        f"A parameter is identified when its interval is at most {UNIDENTIFIED_SHARE:.0%} as wide as its "
        "prior's.",
        "",
        "## Posterior predictive checks",
        "",
        "| target | level | observable (design, month) | published | simulated (90% interval) "
        "| in the interval | z | fitted |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in outcome.checks:
        lines.append(
            f"| {c['target']} | {c['level']} | `{c['observable']}` ({c['design']}, {c['month']}) | "
            f"{_published(c)} | {c['simulated']:.3g} ({c['low']:.3g} to {c['high']:.3g}) | "
            f"{'yes' if c['covered'] else 'no'}{_share_on_side(c)} | {c['z']:+.1f} | "
            f"{'held out' if c['held_out'] else 'fitted'} |"
        )
    if any(c.get("bound") for c in outcome.checks):
        lines += [
            "",
            "A one-sided target (≥ or ≤) is a published direction: it is met when the simulated interval, "
            "widened by the bound's own uncertainty, reaches the allowed side; the share of posterior draws "
            "on that side is in parentheses, and z counts only a shortfall.",
        ]
    text = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "calibration.md").write_text(text)
    return text


def _published(check: dict[str, Any]) -> str:
    sign = {"at least": "≥ ", "at most": "≤ "}.get(check.get("bound") or "", "")
    return f"{sign}{check['value']:.3g} ± {check['sd']:.2g}"


def _share_on_side(check: dict[str, Any]) -> str:
    return f" ({check['on_side']:.0%} of draws)" if check.get("bound") else ""


def main_calibrate(args) -> int:
    """``coprod calibrate``: 0 when the calibration is done (resumed or not)."""
    problems = []
    if args.workers is not None and args.workers < 1:
        problems.append(Problem("--workers", "must be at least 1", args.workers, "1 or more"))
    if problems:
        raise ScenarioError(problems, "command line")
    calibration = load_calibration(args.calibration, args.targets)
    db = Path(args.db) if args.db else RESULTS_DIR / f"{calibration.name}.db"
    workers = args.workers or cores()
    try:
        outcome = calibrate(calibration, db, workers=workers, scheduler=args.scheduler)
    except KeyboardInterrupt:
        print(
            f"{calibration.name}: whole generations are kept; run the same command again to resume",
            file=sys.stderr,
        )
        raise
    out_dir = Path(args.out) if args.out else RESULTS_DIR / calibration.name
    print(report(outcome, out_dir))
    if outcome.unidentified:
        print(f"not identified by these targets: {', '.join(outcome.unidentified)}")
    missed = [c["target"] for c in outcome.checks if not c["covered"]]
    print(f"targets outside the posterior predictive interval: {', '.join(missed) or 'none'}")
    print(f"report: {out_dir / 'calibration.md'}; database: {db}")
    return 0


__all__ = [
    "UNIDENTIFIED_SHARE",
    "Calibration",
    "CalibrationError",
    "Outcome",
    "calibrate",
    "load_calibration",
    "main_calibrate",
    "report",
    "simulate_targets",
]
