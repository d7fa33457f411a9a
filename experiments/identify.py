"""Can the theory of change be told from the data? Random-forest ABC model choice on synthetic data.

The four theories of change (``model.kinds.THEORIES``, scenario key ``theory.kind``) are four rival models
of the same city. This experiment asks whether they are *identifiable*: given only the outputs a run
records, can the theory that produced them be named? It follows the random-forest approach to ABC model
choice of Pudlo, Marin, Estoup, Cornuet, Gautier & Robert (2016), "Reliable ABC model choice via random
forests", Bioinformatics 32(6):859-866:

1. **Reference table.** For each theory, ``reference`` simulations of the base scenario
   (``scenarios/<design>.toml``) with ``theory.kind`` set to that theory (equal prior on the theories) and
   every hidden parameter of ``[ranges]`` drawn uniformly from its ``[low, high]`` (integers for integer
   parameters), whatever the theory (the theories share these rates), so a theory must be recognised by how
   its mechanism behaves, not by its numbers.
2. **Summary statistics** of each run (below), plus the axes of a linear discriminant analysis fitted on
   the reference table, which Pudlo et al. add to the statistics.
3. **Classifier.** A random forest (``RandomForestClassifier``, ``TREES`` trees) learns the theory from the
   statistics of the reference table. Its out-of-bag error on the reference table is the *prior error
   rate* Pudlo et al. recommend as the measure of how well the theories can be told apart.
4. **Held-out synthetic data.** ``test`` further simulations per theory, each at its own hidden parameters
   and seed, are classified from their statistics alone; the confusion matrix (true theory against the
   forest's vote), overall accuracy and per-theory accuracy (recall) are reported. The goal is at least 80%
   overall with no theory below 60%; when it is not met, the largest off-diagonal cells are named.

The analysis runs twice on the same simulations: **outcomes only**, without the outputs in
``[features] exclude`` (who holds which theory, each theory's condition and the programme's effort carry
the label almost directly), and **all outputs**, labelled as such. Excluded names the model does not
produce are listed in the report. Posterior probabilities of the chosen theory (the paper's second,
regression forest) are not computed.

Summary statistics, per output, from its values recorded at months ``0, every, 2 every, ..., steps``:

- ``<output>@<m>``: the value at each recorded month ``m``;
- ``<output>:rate<m>``: the change per month over the recording interval that ends at month ``m``
  (the difference of consecutive recorded values divided by the months between them);
- ``<output>:total``: the value at the last month minus the value at month 0;
- ``<output>:rate_sd``: the standard deviation of the per-month rates (how unevenly it moved);
- ``<output>:half_time``: the first recorded month at which the output has covered half of its total
  change from month 0, in the direction of that change (0 when it ends where it began);
- ``<output>:max_rise``: the largest per-month rate over one recording interval (negative if it only fell).

Seeds: one root seed. Simulation ``index`` of ``theory`` in ``role`` (reference or test) gets the child
``SeedSequence(root, spawn_key=(theory, role, index))``, i.e. ``SeedSequence(root).spawn(...)`` spawned
by theory, then role, then index; that child spawns two more, one for a ``numpy`` Generator that draws the
hidden parameters, one for the run's seed. The forest's ``random_state`` comes from
``SeedSequence(root, spawn_key=(len(THEORIES),))``. Results are the same for any number of workers.

``python -m coprod.experiments.identify [CONFIG] [--workers N] [--reference N] [--test N] [--steps N]
[--set key=value]... [--out PATH]`` prints the report (Markdown). Bad input is one line on stderr and
exit status 2, with nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from coprod.model import (
    OUTPUTS,
    PARAMETERS,
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_assignment,
    read_toml,
    simulate,
)
from coprod.model.kinds import THEORIES
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import confusion_matrix

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "identify.toml"
SCENARIOS = ROOT / "scenarios"
ROLES = ("reference", "test")
TREES = 500
TOP = 10  # statistics listed by importance
GOAL_OVERALL, GOAL_EACH = 0.8, 0.6
DEFAULTS = {"design": "action_research_cooperative", "steps": 120, "reference": 100, "test": 20, "every": 6}
LEAST = {"root_seed": 0, "steps": 1, "reference": 2, "test": 1, "every": 1}
KEYS = ("root_seed", *DEFAULTS, "ranges", "features")


@dataclass(frozen=True)
class Config:
    """The experiment, as read from the TOML file and the command line."""

    source: str
    root_seed: int
    design: str
    steps: int
    reference: int
    test: int
    every: int
    ranges: dict[str, tuple[Any, Any]]  # hidden parameters, drawn uniformly per simulation
    fixed: dict[str, Any]  # --set settings (a fixed key is not drawn)
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class Job:
    theory: int
    role: int
    index: int
    scenario: Scenario
    seed: int
    steps: int
    every: int


@dataclass(frozen=True)
class Choice:
    """One model choice: the forest's confusion matrix on the held-out data and what it learnt."""

    label: str
    outputs: tuple[str, ...]
    statistics: int
    confusion: np.ndarray  # rows: true theory, columns: predicted theory
    oob_error: float
    top: list[tuple[str, float]]


# --------------------------------------------------------------------------------------- configuration


def fail(source: str, key: str, message: str, got: Any = None, allowed: str | None = None) -> ScenarioError:
    return ScenarioError([Problem(key, message, got, allowed)], source)


def read_config(path: Path, args: argparse.Namespace) -> Config:
    """The configuration file with the command line's overrides; raises ScenarioError on bad input."""
    source = str(path)
    data = read_toml(path)
    for key in data:
        if key not in KEYS:
            raise fail(source, key, "unknown key", allowed="one of " + ", ".join(KEYS))
    if "root_seed" not in data:
        raise fail(source, "root_seed", "is missing", allowed="an integer >= 0")
    numbers = {key: data.get(key, DEFAULTS.get(key)) for key in LEAST}
    for key, value in numbers.items():
        _check_integer(source, key, value, LEAST[key])
    for key in ("reference", "test", "steps"):
        given = getattr(args, key)
        if given is not None:
            _check_integer("command line", f"--{key}", given, LEAST[key])
            numbers[key] = given
    design = data.get("design", DEFAULTS["design"])
    known = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    if not isinstance(design, str) or design not in known:
        raise fail(source, "design", "no such scenario in scenarios/", design, "one of " + ", ".join(known))
    ranges = data.get("ranges", {})
    if not isinstance(ranges, dict):
        raise fail(source, "ranges", "must be a table", ranges, "[ranges] with key = [low, high]")
    features = data.get("features", {})
    if not isinstance(features, dict):
        raise fail(source, "features", "must be a table", features, "[features] with exclude = [...]")
    for key in features:
        if key != "exclude":
            raise fail(source, f"features.{key}", "unknown key", allowed="exclude")
    exclude = features.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(name, str) for name in exclude):
        raise fail(source, "features.exclude", "must be a list of output names", exclude)
    if not [name for name in OUTPUTS if name not in exclude]:
        raise fail(source, "features.exclude", "leaves no output to identify the theory from", exclude)
    fixed = dict(parse_assignment(text) for text in args.set)
    for key in ("theory.kind", "design.kind"):
        if key in fixed:
            what = "the theory being identified" if key == "theory.kind" else f"set by `design` in {source}"
            raise fail("command line", f"--set {key}", f"is {what}; it cannot be set here", fixed[key])
    return Config(
        source=source,
        root_seed=numbers["root_seed"],
        design=design,
        steps=numbers["steps"],
        reference=numbers["reference"],
        test=numbers["test"],
        every=numbers["every"],
        ranges={key: value for key, value in ranges.items() if key not in fixed},
        fixed=fixed,
        exclude=tuple(exclude),
    )


def _check_integer(source: str, key: str, value: Any, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise fail(
            source,
            key,
            "must be an integer" if not isinstance(value, int) else "too small",
            value,
            f"an integer >= {least}",
        )


def base_scenario(config: Config) -> Scenario:
    """The design's scenario file with the fixed ``--set`` settings; the hidden ranges checked against it."""
    scenario = load_scenario(SCENARIOS / f"{config.design}.toml")
    if config.fixed:
        scenario = scenario.with_overrides(config.fixed, source="command line --set")
    source = f"{config.source} [ranges]"
    for key, value in config.ranges.items():
        if key not in PARAMETERS:
            scenario.with_overrides({key: value}, source=source)  # raises: unknown key, with a guess
        if key == "theory.kind":
            raise fail(source, key, "is the theory being identified, not a hidden parameter", value)
        if not PARAMETERS[key].numeric:
            raise fail(source, key, "is not a number and cannot be drawn from a range", value)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise fail(source, key, "must be [low, high]", value, "a list of two numbers")
        low, high = value
        if low > high:
            raise fail(source, key, "low is above high", value, "low <= high")
        for bound in (low, high):
            scenario.with_overrides({key: bound}, source=source)
    return scenario


# --------------------------------------------------------------------------------------------- seeds


def draw(config: Config, theory: int, role: int, index: int) -> tuple[dict[str, Any], int]:
    """The hidden parameters and the run seed of one simulation, from its own child of the root seed."""
    child = np.random.SeedSequence(config.root_seed, spawn_key=(theory, role, index))
    for_params, for_run = child.spawn(2)
    rng = np.random.default_rng(for_params)
    params: dict[str, Any] = {}
    for key in sorted(config.ranges):
        low, high = config.ranges[key]
        if PARAMETERS[key].type == "int":
            params[key] = int(rng.integers(low, high, endpoint=True))
        else:
            params[key] = float(rng.uniform(low, high))
    return params, int(for_run.generate_state(1)[0])


def forest_seed(root_seed: int) -> int:
    return int(np.random.SeedSequence(root_seed, spawn_key=(len(THEORIES),)).generate_state(1)[0])


def jobs(config: Config, base: Scenario) -> list[Job]:
    """Every simulation, reference table first, each scenario built (and so validated) here."""
    out = []
    for role, count in enumerate((config.reference, config.test)):
        for theory, name in enumerate(THEORIES):
            for index in range(count):
                params, seed = draw(config, theory, role, index)
                scenario = base.with_overrides(
                    {"theory.kind": name, **params}, source=f"{config.source} [ranges]"
                )
                out.append(Job(theory, role, index, scenario, seed, config.steps, config.every))
    return out


# ------------------------------------------------------------------------------------------ simulating


def _run(job: Job) -> tuple[np.ndarray, np.ndarray]:
    """One simulation: its recorded months and every output's value there, shape (months, len(OUTPUTS))."""
    rows = simulate(job.scenario, steps=job.steps, seed=job.seed, every=job.every)
    months = np.array([row["step"] for row in rows], dtype=float)
    return months, np.array([[row[name] for name in OUTPUTS] for row in rows], dtype=float)


def run_all(todo: list[Job], workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Months recorded (the same for every run) and values, shape (runs, months, len(OUTPUTS))."""
    if workers == 1:
        results = [_run(job) for job in todo]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_run, todo))
    return results[0][0], np.stack([values for _, values in results])


# ----------------------------------------------------------------------------------------- statistics


def statistics(values: np.ndarray, months: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The summary statistics of the module docstring, for ``values`` of shape (runs, months, outputs)."""
    start, end = values[:, 0, :], values[:, -1, :]
    total = end - start
    rates = np.diff(values, axis=1) / np.diff(months)[None, :, None]
    progress = (values - start[:, None, :]) * np.sign(total)[:, None, :]
    reached = progress >= 0.5 * np.abs(total)[:, None, :]  # always true at the last month
    half_time = months[reached.argmax(axis=1)]
    columns = [
        values,
        rates,
        total[:, None],
        rates.std(axis=1)[:, None],
        half_time[:, None],
        rates.max(axis=1)[:, None],
    ]
    labels = [
        [f"@{m:g}" for m in months],
        [f":rate{m:g}" for m in months[1:]],
        [":total"],
        [":rate_sd"],
        [":half_time"],
        [":max_rise"],
    ]
    table = np.concatenate(columns, axis=1)  # (runs, statistics per output, outputs)
    per_output = [suffix for group in labels for suffix in group]
    matrix = table.transpose(0, 2, 1).reshape(len(values), -1)  # output-major columns
    return matrix, [f"{name}{suffix}" for name in names for suffix in per_output]


def choose(
    label: str,
    outputs: list[str],
    values: np.ndarray,
    months: np.ndarray,
    theory: np.ndarray,
    reference: np.ndarray,
    seed: int,
    workers: int,
) -> Choice:
    """Train the forest on the reference table and classify the held-out runs."""
    columns = [OUTPUTS.index(name) for name in outputs]
    stats, names = statistics(values[:, :, columns], months, outputs)
    train, test = stats[reference], stats[~reference]
    lda = LinearDiscriminantAnalysis()
    with warnings.catch_warnings():
        # the statistics are collinear by construction (rates are differences of levels); the LDA axes
        # are only extra statistics for the forest, as in Pudlo et al. (2016)
        warnings.filterwarnings("ignore", message="Variables are collinear", category=UserWarning)
        lda.fit(train, theory[reference])
    axes = [f"LDA{i + 1}" for i in range(lda.transform(train[:1]).shape[1])]
    train = np.hstack([train, lda.transform(train)])
    test = np.hstack([test, lda.transform(test)])
    forest = RandomForestClassifier(n_estimators=TREES, oob_score=True, random_state=seed, n_jobs=workers)
    forest.fit(train, theory[reference])
    forest.set_params(n_jobs=1)  # predicting single-threaded sums the trees' votes in a fixed order
    predicted = forest.predict(test)
    confusion = confusion_matrix(theory[~reference], predicted, labels=range(len(THEORIES)))
    importance = forest.feature_importances_
    order = np.argsort(-importance, kind="stable")[:TOP]
    every_name = names + axes
    return Choice(
        label=label,
        outputs=tuple(outputs),
        statistics=len(every_name),
        confusion=confusion,
        oob_error=float(1.0 - forest.oob_score_),
        top=[(every_name[i], float(importance[i])) for i in order],
    )


# --------------------------------------------------------------------------------------------- report


def percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def section(choice: Choice, test: int) -> list[str]:
    c = choice.confusion
    recall = np.diag(c) / c.sum(axis=1)
    overall = np.trace(c) / c.sum()
    lines = [
        f"## {choice.label}",
        "",
        f"{len(choice.outputs)} outputs, {choice.statistics} summary statistics (including the LDA axes): "
        + ", ".join(f"`{name}`" for name in choice.outputs),
        "",
        f"Confusion matrix on the held-out data ({test} per theory; rows: true theory, columns: "
        "predicted theory):",
        "",
        "| true \\ predicted | " + " | ".join(THEORIES) + " | accuracy |",
        "|---|" + "---:|" * (len(THEORIES) + 1),
    ]
    for i, name in enumerate(THEORIES):
        cells = " | ".join(str(int(n)) for n in c[i])
        lines.append(f"| {name} | {cells} | {percent(recall[i])} |")
    lines += [
        "",
        f"- overall accuracy: {int(np.trace(c))} of {int(c.sum())} = {percent(overall)}",
        "- per-theory accuracy (recall): "
        + ", ".join(f"{name} {percent(r)}" for name, r in zip(THEORIES, recall, strict=True)),
        f"- out-of-bag prior error rate on the reference table: {percent(choice.oob_error)}",
    ]
    met = overall >= GOAL_OVERALL and recall.min() >= GOAL_EACH
    goal = f"overall >= {percent(GOAL_OVERALL)}, no theory below {percent(GOAL_EACH)}"
    if met:
        lines.append(f"- goal ({goal}): **met**")
    else:
        off = [(int(c[i, j]), i, j) for i in range(len(THEORIES)) for j in range(len(THEORIES)) if i != j]
        off = sorted((cell for cell in off if cell[0] > 0), key=lambda cell: (-cell[0], cell[1], cell[2]))
        confounded = "; ".join(
            f"{THEORIES[i]} taken for {THEORIES[j]} in {n} of {int(c[i].sum())} ({percent(n / c[i].sum())})"
            for n, i, j in off[:4]
        )
        lines.append(f"- goal ({goal}): **not met**; largest confusions: {confounded}")
    lines += [
        "",
        f"Top {len(choice.top)} statistics by importance (mean decrease in impurity):",
        "",
        "| rank | statistic | importance |",
        "|---:|---|---:|",
    ]
    lines += [f"| {rank} | `{name}` | {value:.4f} |" for rank, (name, value) in enumerate(choice.top, 1)]
    return lines


def report(config: Config, months: np.ndarray, choices: list[Choice]) -> str:
    absent = [name for name in config.exclude if name not in OUTPUTS]
    excluded = [name for name in config.exclude if name in OUTPUTS]
    lines = [
        "# Identifying the theory of change: random-forest ABC model choice (Pudlo et al. 2016)",
        "",
        "## Configuration",
        "",
        f"- configuration file: `{Path(config.source).name}`; "
        f"base scenario: `scenarios/{config.design}.toml`",
        f"- theories: {', '.join(THEORIES)} (equal prior)",
        f"- steps: {config.steps} months, recorded every {config.every} months ({len(months)} time points)",
        f"- reference table: {config.reference} simulations per theory ({config.reference * len(THEORIES)}); "
        f"held-out test: {config.test} per theory ({config.test * len(THEORIES)})",
        f"- root seed: {config.root_seed}; "
        f"forest: {TREES} trees, random state {forest_seed(config.root_seed)}",
        "- fixed settings (--set): "
        + (", ".join(f"`{k}={v}`" for k, v in config.fixed.items()) if config.fixed else "none"),
        '- excluded from "outcomes only": '
        + (", ".join(f"`{n}`" for n in excluded) or "none")
        + (
            "; listed but not produced by this model: " + ", ".join(f"`{n}`" for n in absent)
            if absent
            else ""
        ),
        "",
        "Hidden parameters, each drawn uniformly per simulation:",
        "",
        "| parameter | low | high |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{key}` | {low:g} | {high:g} |" for key, (low, high) in sorted(config.ranges.items())]
    if not config.ranges:
        lines.append("| (none) | | |")
    for choice in choices:
        lines += ["", *section(choice, config.test)]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coprod.experiments.identify", description=__doc__.split("\n")[0]
    )
    parser.add_argument("config", nargs="?", default=str(CONFIG), help="experiment TOML file")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="simulation processes")
    parser.add_argument("--reference", type=int, help="simulations per theory in the reference table")
    parser.add_argument("--test", type=int, help="held-out synthetic datasets per theory")
    parser.add_argument("--steps", type=int, help="months per simulation")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a fixed setting for every run"
    )
    parser.add_argument("--out", help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    try:
        if args.workers < 1:
            raise fail("command line", "--workers", "too small", args.workers, "an integer >= 1")
        if args.out is not None and (Path(args.out).is_dir() or not Path(args.out).parent.is_dir()):
            raise fail("command line", "--out", "cannot be written", args.out, "a file in an existing folder")
        config = read_config(Path(args.config), args)
        todo = jobs(config, base_scenario(config))
    except ScenarioError as err:
        print("; ".join(err.lines()), file=sys.stderr)
        return 2
    months, values = run_all(todo, args.workers)
    theory = np.array([job.theory for job in todo])
    reference = np.array([job.role == 0 for job in todo])
    seed = forest_seed(config.root_seed)
    outcomes = [name for name in OUTPUTS if name not in config.exclude]
    choices = [
        choose("Outcomes only", outcomes, values, months, theory, reference, seed, args.workers),
        choose(
            "All outputs (including the excluded ones)",
            list(OUTPUTS),
            values,
            months,
            theory,
            reference,
            seed,
            args.workers,
        ),
    ]
    text = report(config, months, choices)
    print(text, end="")
    if args.out is not None:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as err:
            print(
                f"command line: --out: cannot be written ({err.strerror}) (got {args.out!r})", file=sys.stderr
            )
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
