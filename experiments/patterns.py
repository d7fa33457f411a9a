"""The patterns of DESIGN.md as effects with confidence intervals over replications (pattern-oriented
modelling, Grimm et al. 2005).

Each pattern compares two arms (or one arm against several) on one output: the effect is the difference of
the arms' means over ``REPLICATIONS`` independent runs each, with a 95% Welch confidence interval. A
pattern *holds* when the interval lies wholly on the predicted side of zero, against every rival arm.
Nothing here forces a pattern: the arms are the shipped scenario files, and a pattern that does not emerge
is reported with its numbers.

``python -m coprod.experiments.patterns [--set key=value]... [--replications N]`` prints the table (Markdown),
e.g. under the reversed normative assumptions of ``experiments/reversed_assumptions.toml``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from coprod.model import ScenarioError, load_scenario, parse_assignment, simulate
from coprod.model.kinds import THEORIES
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
REPLICATIONS = 30
STEPS = 120
EARLY = 24  # the month "fast" effects are read at
YEAR = 12  # the month first signatures of a theory are read at
ROOT_SEED = 20261203
DESIGNS = (
    "top_down_consultation",
    "citizens_assembly",
    "action_research_cooperative",
    "participatory_budgeting",
    "co_financed_partnership",
)
REVERSED = {"context.needed_change": 0.3, "deliberation.expert_bias": -0.15, "context.academic_start": 0.0}
Arm = tuple[str, tuple[tuple[str, object], ...]]  # (design, overrides)


@dataclass(frozen=True)
class Effect:
    """Mean of arm ``a`` minus mean of arm ``b``, with its 95% Welch confidence interval."""

    versus: str
    difference: float
    low: float
    high: float

    def text(self) -> str:
        return f"{self.difference:+.3f} [{self.low:+.3f}, {self.high:+.3f}] vs {self.versus}"


@dataclass(frozen=True)
class Pattern:
    name: str
    output: str
    arm: Arm
    rivals: tuple[Arm, ...]
    higher: bool  # predicted: the arm's value above (True) or below (False) every rival's
    when: str = "end"  # "end" (month STEPS), "early" (EARLY), "year" (YEAR) or "change" (end minus month 0)

    def effects(self, world: tuple[tuple[str, object], ...], replications: int) -> list[Effect]:
        mine = values(self.arm, world, self.output, self.when, replications)
        return [
            welch(mine, values(rival, world, self.output, self.when, replications), label(rival))
            for rival in self.rivals
        ]

    def holds(self, effects: list[Effect]) -> bool:
        return all(e.low > 0 if self.higher else e.high < 0 for e in effects)


def arm(design: str, **overrides: object) -> Arm:
    return design, tuple(sorted(overrides.items()))


def label(a: Arm) -> str:
    design, overrides = a
    return design + "".join(f" {k}={v}" for k, v in overrides)


def others(design: str) -> tuple[Arm, ...]:
    return tuple(arm(d) for d in DESIGNS if d != design)


def programme(design: str, theory: str) -> Arm:
    return arm(design, **{"theory.kind": theory})


def other_programmes(design: str, theory: str) -> tuple[Arm, ...]:
    return tuple(programme(design, t) for t in THEORIES if t != theory)


FAIR = {"design.official_weight": 1.0, "design.expert_weight": 1.0, "design.facilitation": 1.0}
UNFAIR = {"design.official_weight": 20.0, "design.facilitation": 0.0}
PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "top-down consultation is less procedurally just than a citizens' assembly",
        "procedural_justice",
        arm("top_down_consultation"),
        (arm("citizens_assembly"),),
        higher=False,
    ),
    Pattern(
        "top-down consultation displaces agreement further towards officials than a citizens' assembly",
        "consensus_displacement",
        arm("top_down_consultation"),
        (arm("citizens_assembly"),),
        higher=True,
    ),
    Pattern(
        "the action research cooperative keeps the most dissensus (lowest toc_attrition)",
        "toc_attrition",
        arm("action_research_cooperative"),
        others("action_research_cooperative"),
        higher=False,
    ),
    Pattern(
        "the action research cooperative has the highest transaction costs",
        "transaction_costs",
        arm("action_research_cooperative"),
        others("action_research_cooperative"),
        higher=True,
    ),
    Pattern(
        "the action research cooperative builds the most capacity",
        "capacity_networks",
        arm("action_research_cooperative"),
        others("action_research_cooperative"),
        higher=True,
    ),
    Pattern(
        "participatory budgeting moves distribution most",
        "distribution",
        arm("participatory_budgeting"),
        others("participatory_budgeting"),
        higher=True,
        when="change",
    ),
    Pattern(
        "more co-financing raises capacity fast (month 24)",
        "capacity_networks",
        arm("co_financed_partnership", **{"structure.co_financing": 0.6}),
        (arm("co_financed_partnership", **{"structure.co_financing": 0.05}),),
        higher=True,
        when="early",
    ),
    Pattern(
        "more co-financing raises lock_in (month 24)",
        "lock_in",
        arm("co_financed_partnership", **{"structure.co_financing": 0.6}),
        (arm("co_financed_partnership", **{"structure.co_financing": 0.05}),),
        higher=True,
        when="early",
    ),
    Pattern(
        "removing power asymmetry and adding facilitation lowers consensus bias",
        "consensus_bias",
        arm("citizens_assembly", **FAIR),
        (arm("citizens_assembly", **UNFAIR),),
        higher=False,
    ),
    # The signature of each programme theory (docs/ODD.md 7.7), against the other three programmes
    Pattern(
        "incremental: without funded experiments (participatory budgeting) only an incremental programme "
        "gets officials adopting practice (by month 120)",
        "condition_incremental",
        programme("participatory_budgeting", "incremental"),
        other_programmes("participatory_budgeting", "incremental"),
        higher=True,
    ),
    Pattern(
        "structural: once the committed minority tips, citizens' formal say steps up (participatory "
        "budgeting, month 24)",
        "lever_citizen_weight",
        programme("participatory_budgeting", "structural"),
        other_programmes("participatory_budgeting", "structural"),
        higher=True,
        when="early",
    ),
    Pattern(
        "knowledge: disclosure rises first (citizens' assembly, month 24)",
        "lever_transparency",
        programme("citizens_assembly", "knowledge"),
        other_programmes("citizens_assembly", "knowledge"),
        higher=True,
        when="early",
    ),
    Pattern(
        "coalition: cross-sector ties jump first (citizens' assembly, month 12)",
        "coordination",
        programme("citizens_assembly", "coalition"),
        other_programmes("citizens_assembly", "coalition"),
        higher=True,
        when="year",
    ),
)


def welch(a: np.ndarray, b: np.ndarray, versus: str) -> Effect:
    """Difference of means with a 95% Welch-Satterthwaite confidence interval."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    diff = float(a.mean() - b.mean())
    if se == 0:
        return Effect(versus, diff, diff, diff)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.975, dof) * se)
    return Effect(versus, diff, diff - half, diff + half)


def seeds(replications: int) -> list[int]:
    """Replication seeds from one root seed; every arm uses the same seeds (common random numbers)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(ROOT_SEED).spawn(replications)]


def values(a: Arm, world: tuple, output: str, when: str, replications: int) -> np.ndarray:
    rows = runs(a, world, replications)
    pick: dict[str, Callable[[list[dict]], float]] = {
        "end": lambda r: r[3][output],
        "early": lambda r: r[2][output],
        "year": lambda r: r[1][output],
        "change": lambda r: r[3][output] - r[0][output],
    }
    return np.array([pick[when](r) for r in rows])


@cache
def runs(a: Arm, world: tuple, replications: int) -> list[list[dict]]:
    design, overrides = a
    settings = {**dict(world), **dict(overrides)}
    scenario = load_scenario(ROOT / "scenarios" / f"{design}.toml", settings or None)
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_run, [(scenario, seed) for seed in seeds(replications)]))


def _run(job) -> list[dict]:
    scenario, seed = job
    rows = simulate(scenario, steps=STEPS, seed=seed)
    return [rows[0], rows[YEAR], rows[EARLY], rows[-1]]


def table(world: tuple = (), replications: int = REPLICATIONS) -> str:
    lines = ["| pattern | output | holds | effect [95% CI] |", "|---|---|---|---|"]
    for pattern in PATTERNS:
        effects = pattern.effects(world, replications)
        shown = "; ".join(e.text() for e in effects)
        lines.append(
            f"| {pattern.name} | `{pattern.output}` | {'yes' if pattern.holds(effects) else 'no'} | {shown} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coprod.experiments.patterns", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting for every arm"
    )
    parser.add_argument("--reversed", action="store_true", help="the reversed normative assumptions")
    parser.add_argument("--replications", type=int, default=REPLICATIONS)
    args = parser.parse_args(argv)
    if args.replications < 2:
        parser.error(f"--replications: got {args.replications}, allowed an integer >= 2")
    try:
        world = dict(REVERSED) if args.reversed else {}
        world.update(parse_assignment(text) for text in args.set)
        print(table(tuple(sorted(world.items())), args.replications))
    except ScenarioError as err:
        print("\n".join(err.lines()), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
